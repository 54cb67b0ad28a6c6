package dynamostate

import (
	"context"
	"fmt"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
)

func timelineKey(key, runID string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "timeline#" + key + "#" + runID}}
}

// PutTimeline stores the timeline as item pk = "timeline#<key>#<run id>"
// with a binary attribute "data".
func (s *Store) PutTimeline(ctx context.Context, key, runID string, data []byte) error {
	if err := state.CheckRunID(runID); err != nil {
		return err
	}
	api, err := s.api()
	if err != nil {
		return err
	}
	item := timelineKey(key, runID)
	item["data"] = &ddbtypes.AttributeValueMemberB{Value: data}
	if _, err := api.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return fmt.Errorf("save timeline of run %s: dynamodb:PutItem on table %s: %w", runID, s.table, s.missingTable(err))
	}
	return nil
}

// GetTimeline reads a timeline written by PutTimeline.
func (s *Store) GetTimeline(ctx context.Context, key, runID string) ([]byte, error) {
	if err := state.CheckRunID(runID); err != nil {
		return nil, err
	}
	api, err := s.api()
	if err != nil {
		return nil, err
	}
	out, err := api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: timelineKey(key, runID), ConsistentRead: awssdk.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("load timeline of run %s: dynamodb:GetItem on table %s: %w", runID, s.table, s.missingTable(err))
	}
	if out.Item == nil {
		return nil, nil
	}
	b, ok := out.Item["data"].(*ddbtypes.AttributeValueMemberB)
	if !ok {
		return nil, fmt.Errorf("load timeline of run %s: item in table %s has no binary attribute \"data\"", runID, s.table)
	}
	return b.Value, nil
}
