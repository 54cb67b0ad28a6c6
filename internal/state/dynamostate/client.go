package dynamostate

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/bluegreen-deploy/bluegreen/internal/awsretry"
)

// The state table is on the path of every change a run makes: a journal
// entry is saved before each one. Its calls therefore retry harder than
// the SDK's default (three attempts), with the adaptive retryer that backs
// off when DynamoDB throttles many workers at once, and are bounded so
// that a table that stops answering fails the save (and the run stops
// safely) well within the lease instead of hanging.
const (
	dynamoAttempts     = 10
	dynamoMaxBackoff   = 5 * time.Second
	dynamoCallTimeout  = 45 * time.Second
	dynamoAttemptLimit = 10 * time.Second
)

func dynamoLoadOptions() []func(*config.LoadOptions) error {
	return awsretry.LoadOptions(awsretry.Limits{
		Attempts: dynamoAttempts, MaxBackoff: dynamoMaxBackoff,
		Attempt: dynamoAttemptLimit, Call: dynamoCallTimeout, Name: "BluegreenStateCallDeadline",
	})
}
