package dynamostate_test

import (
	"context"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
	"github.com/bluegreen-deploy/bluegreen/internal/state/dynamostate"
	"github.com/bluegreen-deploy/bluegreen/internal/state/statetest"
)

func TestDynamoStoreTimelines(t *testing.T) {
	if testing.Short() {
		t.Skip("moto integration test skipped in -short mode")
	}
	m := awstest.Start(t)
	cfg := awstest.Config(m.URL)
	if err := dynamostate.CreateTable(context.Background(), cfg, "bluegreen-timelines"); err != nil {
		t.Fatal(err)
	}
	statetest.TimelineContract(t, dynamostate.NewWithConfig(cfg, "bluegreen-timelines"))
}
