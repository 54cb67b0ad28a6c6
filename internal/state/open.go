package state

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// NewDynamoStore builds the DynamoDB store for a table. It is a variable so
// that this package does not import the AWS SDK: engine/state/dynamo.go sets
// it from its init, and Open reports a clear error while it is nil.
var NewDynamoStore func(ctx context.Context, table string) (Store, error)

var (
	schemeRe    = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+.-]*)://(.*)$`)
	dynamoTable = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)
)

// Open returns the store a --state value names:
//
//	""                  a file store in defaultDir (.bluegreen/ beside the runbook)
//	DIR or file://DIR   a file store in DIR
//	dynamodb://TABLE    the DynamoDB store on TABLE (shared between machines)
//
// It creates nothing; the stores connect or write on first use.
func Open(spec string, defaultDir string) (Store, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return NewFileStore(defaultDir)
	}
	m := schemeRe.FindStringSubmatch(spec)
	if m == nil {
		return NewFileStore(spec)
	}
	scheme, rest := strings.ToLower(m[1]), m[2]
	switch scheme {
	case "file":
		if rest == "" {
			return nil, fmt.Errorf("state %q: the directory is missing (file://DIR)", spec)
		}
		return NewFileStore(rest)
	case "dynamodb":
		if !dynamoTable.MatchString(rest) {
			return nil, fmt.Errorf("state %q: expected dynamodb://TABLE with a table name of 3 to 255 letters, digits, '_', '-' or '.', found %q", spec, rest)
		}
		if NewDynamoStore == nil {
			return nil, errors.New("state " + spec + ": this build has no DynamoDB store")
		}
		// Open has no context of its own: the constructor must not do I/O
		// (it connects lazily), so there is nothing here to cancel.
		return NewDynamoStore(context.Background(), rest)
	default:
		return nil, fmt.Errorf("state %q: unknown backend %q (expected a directory, file://DIR or dynamodb://TABLE)", spec, scheme)
	}
}
