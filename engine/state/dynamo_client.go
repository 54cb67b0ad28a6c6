package state

import (
	"context"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/middleware"
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
	return []func(*config.LoadOptions) error{
		config.WithRetryer(func() awssdk.Retryer {
			return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
				o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
					so.MaxAttempts = dynamoAttempts
					so.MaxBackoff = dynamoMaxBackoff
				})
			})
		}),
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(dynamoAttemptLimit)),
		config.WithAPIOptions([]func(*middleware.Stack) error{func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("BluegreenStateCallDeadline",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					ctx, cancel := context.WithTimeout(ctx, dynamoCallTimeout)
					defer cancel()
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		}}),
	}
}
