package dynamostate_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
	"github.com/bluegreen-deploy/bluegreen/internal/state/dynamostate"
	"github.com/bluegreen-deploy/bluegreen/internal/state/statetest"
)

// TestDynamoStoreContract holds the DynamoDB store to the same lease,
// fencing and format rules as the file store, on moto: the fenced save is
// a real DynamoDB transaction.
func TestDynamoStoreContract(t *testing.T) {
	if testing.Short() {
		t.Skip("moto integration test skipped in -short mode")
	}
	m := awstest.Start(t)
	ctx := context.Background()
	cfg := awstest.Config(m.URL)
	if err := dynamostate.CreateTable(ctx, cfg, "contract"); err != nil {
		t.Fatal(err)
	}
	raw := dynamodb.NewFromConfig(cfg)
	statetest.StoreContract(t, dynamostate.NewWithConfig(cfg, "contract"), func(key, record string) {
		var head struct {
			Format int `json:"format"`
		}
		_ = json.Unmarshal([]byte(record), &head)
		item := map[string]ddbtypes.AttributeValue{
			"pk":     &ddbtypes.AttributeValueMemberS{Value: "record#" + key},
			"record": &ddbtypes.AttributeValueMemberS{Value: record},
		}
		if head.Format > 0 {
			item["format"] = &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(head.Format)}
		}
		if _, err := raw.PutItem(ctx, &dynamodb.PutItemInput{TableName: awssdk.String("contract"), Item: item}); err != nil {
			t.Fatal(err)
		}
	})
}
