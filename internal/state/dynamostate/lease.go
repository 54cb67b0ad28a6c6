package dynamostate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
)

func formatExpiry(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// recordPut builds the write of key's record: the record as JSON, its
// format as a separate attribute, and the condition that the stored record
// is not of a newer format.
func (s *Store) recordPut(key string, rec *state.Record) (*ddbtypes.Put, error) {
	if key == "" {
		return nil, errors.New("state key is empty")
	}
	if rec == nil {
		return nil, fmt.Errorf("save state %q: record is nil", key)
	}
	b, err := state.EncodeRecord(rec, false)
	if err != nil {
		return nil, fmt.Errorf("save state %q: %w", key, err)
	}
	item := recordKey(key)
	item["record"] = &ddbtypes.AttributeValueMemberS{Value: string(b)}
	item["format"] = &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(state.FormatVersion)}
	item["updated"] = &ddbtypes.AttributeValueMemberS{Value: time.Now().UTC().Format(time.RFC3339Nano)}
	return &ddbtypes.Put{
		TableName:                &s.table,
		Item:                     item,
		ConditionExpression:      awssdk.String("attribute_not_exists(#f) OR #f <= :f"),
		ExpressionAttributeNames: map[string]string{"#f": "format"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":f": &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(state.FormatVersion)},
		},
	}, nil
}

// SaveHeld writes key's record in one transaction with a check that runID
// holds key's lock: see state.Store.SaveHeld.
func (s *Store) SaveHeld(ctx context.Context, key, runID string, rec *state.Record) error {
	if runID == "" {
		return fmt.Errorf("save state %q: run id is empty", key)
	}
	put, err := s.recordPut(key, rec)
	if err != nil {
		return err
	}
	api, err := s.api()
	if err != nil {
		return err
	}
	_, err = api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
		{ConditionCheck: &ddbtypes.ConditionCheck{
			TableName:                 &s.table,
			Key:                       lockKey(key),
			ConditionExpression:       awssdk.String("run_id = :run"),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":run": &ddbtypes.AttributeValueMemberS{Value: runID}},
		}},
		{Put: put},
	}})
	if err == nil {
		return nil
	}
	var tc *ddbtypes.TransactionCanceledException
	if errors.As(err, &tc) {
		reasons := tc.CancellationReasons
		if len(reasons) > 0 && awssdk.ToString(reasons[0].Code) == "ConditionalCheckFailed" {
			return s.lost(ctx, key, runID)
		}
		if len(reasons) > 1 && awssdk.ToString(reasons[1].Code) == "ConditionalCheckFailed" {
			return &state.FormatError{Key: key, Reason: fmt.Sprintf("the stored record has a format newer than %d", state.FormatVersion)}
		}
	}
	return fmt.Errorf("save state %q: dynamodb:TransactWriteItems on table %s: %w", key, s.table, s.missingTable(err))
}

// lost builds the state.LeaseLostError for runID, naming the current holder.
func (s *Store) lost(ctx context.Context, key, runID string) error {
	cur, err := s.Holder(ctx, key)
	if err != nil {
		cur = nil
	}
	return &state.LeaseLostError{Key: key, RunID: runID, Holder: cur}
}

// Renew extends runID's lease on key: see state.Store.Renew.
func (s *Store) Renew(ctx context.Context, key, runID string, until time.Time) error {
	api, err := s.api()
	if err != nil {
		return err
	}
	_, err = api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 lockKey(key),
		UpdateExpression:    awssdk.String("SET expires = :exp"),
		ConditionExpression: awssdk.String("run_id = :run"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":exp": &ddbtypes.AttributeValueMemberS{Value: formatExpiry(until)},
			":run": &ddbtypes.AttributeValueMemberS{Value: runID},
		},
	})
	if conditionFailed(err) {
		return s.lost(ctx, key, runID)
	}
	if err != nil {
		return fmt.Errorf("renew lock %q: dynamodb:UpdateItem on table %s: %w", key, s.table, s.missingTable(err))
	}
	return nil
}

// Break removes key's lock whoever holds it: see state.Store.Break. It deletes
// exactly the holder it read, so a lock taken in between is left alone
// (and Break reports the lock as free).
func (s *Store) Break(ctx context.Context, key string) (*state.Holder, error) {
	api, err := s.api()
	if err != nil {
		return nil, err
	}
	for attempt := 0; attempt < 3; attempt++ {
		cur, err := s.Holder(ctx, key)
		if err != nil || cur == nil {
			return nil, err
		}
		_, err = api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName:                 &s.table,
			Key:                       lockKey(key),
			ConditionExpression:       awssdk.String("run_id = :run"),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":run": &ddbtypes.AttributeValueMemberS{Value: cur.RunID}},
		})
		if conditionFailed(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("break lock %q: dynamodb:DeleteItem on table %s: %w", key, s.table, err)
		}
		return cur, nil
	}
	return nil, fmt.Errorf("break lock %q: the lock changed hands three times while breaking it; try again", key)
}
