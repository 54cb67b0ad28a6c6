// Package awsretry builds the AWS SDK options that bluegreen's clients
// share: the adaptive retryer (exponential backoff with jitter plus a
// client-side token bucket that slows a process down while AWS throttles
// it) and two deadlines, one for each HTTP attempt and one for a whole
// call with its retries, so that an endpoint that accepts connections and
// never answers fails the call instead of hanging it. The AWS steps and
// the DynamoDB state store use it with their own limits.
package awsretry

import (
	"context"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/middleware"
)

// Limits are a client's retry and deadline settings.
type Limits struct {
	// Attempts is how many times a call is tried, the first included.
	Attempts int
	// MaxBackoff caps the pause between attempts.
	MaxBackoff time.Duration
	// Attempt bounds one HTTP attempt.
	Attempt time.Duration
	// Call bounds a whole call, retries included (or the caller's earlier
	// deadline).
	Call time.Duration
	// Name names the deadline middleware in the SDK's stack.
	Name string
}

// LoadOptions returns the config.LoadOptions that apply l.
func LoadOptions(l Limits) []func(*config.LoadOptions) error {
	return []func(*config.LoadOptions) error{
		config.WithRetryer(func() awssdk.Retryer {
			return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
				o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
					so.MaxAttempts = l.Attempts
					so.MaxBackoff = l.MaxBackoff
				})
			})
		}),
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(l.Attempt)),
		config.WithAPIOptions([]func(*middleware.Stack) error{callDeadline(l.Name, l.Call)}),
	}
}

// callDeadline bounds a whole call, retries included, by d.
func callDeadline(name string, d time.Duration) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc(name,
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				ctx, cancel := context.WithTimeout(ctx, d)
				defer cancel()
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	}
}
