// Package dynamostate is the DynamoDB state store: records and locks in one
// table, shared by every machine that runs a release (Octopus workers). It
// registers dynamodb://TABLE with state.Open from init; importing it is what
// links the AWS SDK, so the engine and internal/state stay free of it.
package dynamostate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
)

// tableRe is DynamoDB's rule for table names.
var tableRe = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)

// init registers dynamodb://TABLE with state.Open. The store lives in its
// own package so that only binaries importing it (cmd/bluegreen) link the
// AWS SDK; the engine and internal/state do not.
func init() {
	state.Register(state.Backend{Scheme: "dynamodb", Usage: "dynamodb://TABLE", Open: func(table string) (state.Store, error) {
		if !tableRe.MatchString(table) {
			return nil, fmt.Errorf("expected dynamodb://TABLE with a table name of 3 to 255 letters, digits, '_', '-' or '.', found %q", table)
		}
		return New(table), nil
	}})
}

// Store is the state.Store for runs that move between machines (Octopus
// workers): a DynamoDB table whose string partition key is named "pk",
// holding one item per key for the record and one for the lock.
//
//	pk = "record#<key>"  record: the state.Record as JSON, updated: RFC 3339 time
//	pk = "lock#<key>"    run_id, host, pid, since: the state.Holder
//
// The lock is a conditional PutItem that only succeeds when no lock item
// exists, so exactly one of several concurrent runs wins, whichever machine
// it is on. DynamoDB applies a PutItem atomically and durably before it
// answers, which is what Save promises. A record item is limited to
// DynamoDB's 400 KB; the history is bounded (state.MaxHistory) to stay
// well below it.
//
// The table is created with CreateTable or by hand:
//
//	aws dynamodb create-table --table-name bluegreen-state \
//	  --attribute-definitions AttributeName=pk,AttributeType=S \
//	  --key-schema AttributeName=pk,KeyType=HASH --billing-mode PAY_PER_REQUEST
type Store struct {
	table string
	cfg   *awssdk.Config

	once   sync.Once
	client dynamoAPI
	err    error
}

var _ state.Store = (*Store)(nil)

// dynamoAPI is the part of the DynamoDB API the store uses.
type dynamoAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// New returns a store on table that reaches DynamoDB through the SDK's
// default chain (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, ...). It does
// no I/O: the configuration is loaded on first use.
func New(table string) *Store {
	return &Store{table: table}
}

// NewWithConfig returns a store on table that uses cfg.
func NewWithConfig(cfg awssdk.Config, table string) *Store {
	s := New(table)
	s.cfg = &cfg
	return s
}

// String names the store for logs and status output.
func (s *Store) String() string { return "dynamodb://" + s.table }

func (s *Store) api() (dynamoAPI, error) {
	s.once.Do(func() {
		if s.client != nil {
			return
		}
		cfg := s.cfg
		if cfg == nil {
			c, err := config.LoadDefaultConfig(context.Background(), dynamoLoadOptions()...)
			if err != nil {
				s.err = fmt.Errorf("dynamodb state store: load AWS configuration: %w", err)
				return
			}
			cfg = &c
		}
		s.client = dynamodb.NewFromConfig(*cfg)
	})
	return s.client, s.err
}

func recordKey(key string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "record#" + key}}
}

func lockKey(key string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "lock#" + key}}
}

// Load returns key's record, or (nil, nil) when there is none.
func (s *Store) Load(ctx context.Context, key string) (*state.Record, error) {
	if key == "" {
		return nil, errors.New("state key is empty")
	}
	api, err := s.api()
	if err != nil {
		return nil, err
	}
	out, err := api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: recordKey(key), ConsistentRead: awssdk.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("load state %q: dynamodb:GetItem on table %s: %w", key, s.table, s.missingTable(err))
	}
	if out.Item == nil {
		return nil, nil
	}
	raw, ok := out.Item["record"].(*ddbtypes.AttributeValueMemberS)
	if !ok {
		return nil, fmt.Errorf("load state %q: item in table %s has no string attribute \"record\"", key, s.table)
	}
	var rec state.Record
	if err := json.Unmarshal([]byte(raw.Value), &rec); err != nil {
		return nil, fmt.Errorf("load state %q: item in table %s is not a valid record: %w", key, s.table, err)
	}
	if err := rec.Check(key); err != nil {
		return nil, err
	}
	return &rec, nil
}

// Save replaces key's record. The history is bounded (state.BoundHistory); rec
// itself is not modified. The write is conditional on the stored record's
// format, so a record of a newer format is never replaced.
func (s *Store) Save(ctx context.Context, key string, rec *state.Record) error {
	put, err := s.recordPut(key, rec)
	if err != nil {
		return err
	}
	api, err := s.api()
	if err != nil {
		return err
	}
	if _, err := api.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression,
		ExpressionAttributeNames: put.ExpressionAttributeNames, ExpressionAttributeValues: put.ExpressionAttributeValues}); err != nil {
		if conditionFailed(err) {
			return &state.FormatError{Key: key, Reason: fmt.Sprintf("the stored record has a format newer than %d", state.FormatVersion)}
		}
		return fmt.Errorf("save state %q: dynamodb:PutItem on table %s: %w", key, s.table, s.missingTable(err))
	}
	return nil
}

// Acquire takes key's lock for h. See state.Store.Acquire.
func (s *Store) Acquire(ctx context.Context, key string, h state.Holder) (*state.Takeover, error) {
	if key == "" {
		return nil, errors.New("state key is empty")
	}
	api, err := s.api()
	if err != nil {
		return nil, err
	}
	item := lockKey(key)
	for k, v := range holderItem(h) {
		item[k] = v
	}
	// A lock released between the failed put and the read of its holder
	// sends the loop round again; a few rounds settle any race.
	for attempt := 0; attempt < 3; attempt++ {
		takeover, retry, err := s.acquire(ctx, api, key, item)
		if !retry {
			return takeover, err
		}
	}
	return nil, &state.LockedError{Key: key}
}

func (s *Store) acquire(ctx context.Context, api dynamoAPI, key string, item map[string]ddbtypes.AttributeValue) (*state.Takeover, bool, error) {
	// Free, or already ours (a retried call).
	_, err := api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           &s.table,
		Item:                item,
		ConditionExpression: awssdk.String("attribute_not_exists(pk) OR (run_id = :run AND host = :host AND pid = :pid)"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":run": item["run_id"], ":host": item["host"], ":pid": item["pid"],
		},
	})
	if err == nil {
		return s.confirm(ctx, key, item)
	}
	if !conditionFailed(err) {
		return nil, false, fmt.Errorf("acquire lock %q: dynamodb:PutItem on table %s: %w", key, s.table, s.missingTable(err))
	}
	cur, err := s.Holder(ctx, key)
	if err != nil {
		return nil, false, err
	}
	if cur == nil {
		return nil, true, nil
	}
	reason, stale := state.StaleHolder(*cur)
	if !stale {
		return nil, false, &state.LockedError{Key: key, Holder: *cur}
	}
	// Replace exactly the stale holder, with the expiry we judged: if
	// another run took it over first, or the holder renewed in between,
	// the condition fails and we look again.
	prev := holderItem(*cur)
	cond := "run_id = :run AND host = :host AND pid = :pid AND (expires = :exp OR attribute_not_exists(expires))"
	if !cur.Expires.IsZero() {
		cond = "run_id = :run AND host = :host AND pid = :pid AND expires = :exp"
	}
	_, err = api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           &s.table,
		Item:                item,
		ConditionExpression: awssdk.String(cond),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":run": prev["run_id"], ":host": prev["host"], ":pid": prev["pid"], ":exp": prev["expires"],
		},
	})
	if conditionFailed(err) {
		// Another run took the stale lock over (or it was released):
		// look again.
		return nil, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("acquire lock %q: take over stale lock: dynamodb:PutItem on table %s: %w", key, s.table, err)
	}
	if _, _, err := s.confirm(ctx, key, item); err != nil {
		return nil, false, err
	}
	return &state.Takeover{Previous: *cur, Reason: reason}, false, nil
}

// confirm reads the lock back after a conditional put succeeded and
// reports it held when another run's holder is there. On DynamoDB the
// condition alone decides; an emulator that applies two racing
// conditional puts (moto does under load) would otherwise grant the lock
// twice. The fenced saves catch what this read misses.
func (s *Store) confirm(ctx context.Context, key string, item map[string]ddbtypes.AttributeValue) (*state.Takeover, bool, error) {
	cur, err := s.Holder(ctx, key)
	if err != nil {
		return nil, false, err
	}
	if cur != nil && cur.RunID != str(item["run_id"]) {
		return nil, false, &state.LockedError{Key: key, Holder: *cur}
	}
	return nil, false, nil
}

// Release deletes key's lock when runID holds it. Releasing a free lock is
// not an error; releasing another run's lock is, and leaves it in place.
func (s *Store) Release(ctx context.Context, key string, runID string) error {
	api, err := s.api()
	if err != nil {
		return err
	}
	_, err = api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 &s.table,
		Key:                       lockKey(key),
		ConditionExpression:       awssdk.String("attribute_not_exists(pk) OR run_id = :run"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":run": &ddbtypes.AttributeValueMemberS{Value: runID}},
	})
	if conditionFailed(err) {
		cur, herr := s.Holder(ctx, key)
		if herr != nil {
			return herr
		}
		if cur == nil {
			return nil
		}
		return fmt.Errorf("release lock %q: held by %s, not by run %s", key, cur, runID)
	}
	if err != nil {
		return fmt.Errorf("release lock %q: dynamodb:DeleteItem on table %s: %w", key, s.table, err)
	}
	return nil
}

// Holder returns key's lock holder, or nil when the lock is free.
func (s *Store) Holder(ctx context.Context, key string) (*state.Holder, error) {
	api, err := s.api()
	if err != nil {
		return nil, err
	}
	out, err := api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: lockKey(key), ConsistentRead: awssdk.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("read lock %q: dynamodb:GetItem on table %s: %w", key, s.table, s.missingTable(err))
	}
	if out.Item == nil {
		return nil, nil
	}
	h := &state.Holder{RunID: str(out.Item["run_id"]), Host: str(out.Item["host"])}
	h.PID, _ = strconv.Atoi(num(out.Item["pid"]))
	h.Since, _ = time.Parse(time.RFC3339Nano, str(out.Item["since"]))
	h.Expires, _ = time.Parse(time.RFC3339Nano, str(out.Item["expires"]))
	return h, nil
}

func holderItem(h state.Holder) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{
		"run_id": &ddbtypes.AttributeValueMemberS{Value: h.RunID},
		"host":   &ddbtypes.AttributeValueMemberS{Value: h.Host},
		"pid":    &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(h.PID)},
		"since":  &ddbtypes.AttributeValueMemberS{Value: h.Since.UTC().Format(time.RFC3339Nano)},
		// A lock without a lease stores an empty expiry, so that the
		// takeover condition can always compare it.
		"expires": &ddbtypes.AttributeValueMemberS{Value: formatExpiry(h.Expires)},
	}
}

func conditionFailed(err error) bool {
	var cf *ddbtypes.ConditionalCheckFailedException
	return err != nil && errors.As(err, &cf)
}

func str(v ddbtypes.AttributeValue) string {
	if s, ok := v.(*ddbtypes.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func num(v ddbtypes.AttributeValue) string {
	if n, ok := v.(*ddbtypes.AttributeValueMemberN); ok {
		return n.Value
	}
	return ""
}

// missingTable adds to a "no such table" error how to create the table: it
// is the first thing a new user of dynamodb:// meets.
func (s *Store) missingTable(err error) error {
	var nf *ddbtypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		return err
	}
	return fmt.Errorf("%w (table %s does not exist; create it with: aws dynamodb create-table --table-name %s "+
		"--attribute-definitions AttributeName=pk,AttributeType=S --key-schema AttributeName=pk,KeyType=HASH --billing-mode PAY_PER_REQUEST)",
		err, s.table, s.table)
}

// CreateTable creates the table a Store needs (on-demand
// billing, string partition key "pk") and waits until it is active. A table
// that already exists is left as it is.
func CreateTable(ctx context.Context, cfg awssdk.Config, table string) error {
	c := dynamodb.NewFromConfig(cfg)
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            &table,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: awssdk.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: awssdk.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	})
	var inUse *ddbtypes.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("dynamodb:CreateTable on table %s: %w", table, err)
	}
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 200 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: &table}, 2*time.Minute); err != nil {
		return fmt.Errorf("dynamodb:DescribeTable on table %s: %w", table, err)
	}
	return nil
}
