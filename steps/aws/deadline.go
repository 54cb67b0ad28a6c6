package aws

import (
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/bluegreen-deploy/bluegreen/internal/awsretry"
)

// Every AWS call is bounded twice. The step's context carries what is left
// of the step (its timeout) or of the gate polling it (the engine bounds
// each poll by the gate's remaining time), and CallTimeoutEnv bounds one
// call with all its retries; each HTTP attempt inside it is bounded by
// attemptTimeout. An endpoint that accepts connections and never answers
// therefore fails the call, and the gate counts a failed poll, instead of
// holding the release (and its traffic split) for minutes.
//
// Retries use the SDK's adaptive mode: the standard exponential backoff
// with jitter plus a client-side token bucket that slows the process down
// when AWS throttles it, which is what keeps fifty concurrent releases
// against one account converging instead of retrying in lock step.

// CallTimeoutEnv names the environment variable that bounds one AWS call,
// retries included (a Go duration, default DefaultCallTimeout).
const CallTimeoutEnv = "BLUEGREEN_AWS_CALL_TIMEOUT"

// DefaultCallTimeout bounds one AWS call, retries included.
const DefaultCallTimeout = 2 * time.Minute

// attemptTimeout bounds one HTTP attempt: AWS control-plane calls answer
// in well under a second, so an attempt that takes this long is a hung
// connection, and the next attempt goes to a fresh one.
const attemptTimeout = 20 * time.Second

// callTimeout reads CallTimeoutEnv.
func callTimeout() (time.Duration, error) {
	v := os.Getenv(CallTimeoutEnv)
	if v == "" {
		return DefaultCallTimeout, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q: expected a positive duration such as 30s", CallTimeoutEnv, v)
	}
	return d, nil
}

// loadOptions are the configuration options for retries and deadlines.
func loadOptions() ([]func(*config.LoadOptions) error, error) {
	call, err := callTimeout()
	if err != nil {
		return nil, err
	}
	return awsretry.LoadOptions(awsretry.Limits{
		Attempts: maxAttempts, MaxBackoff: maxBackoff,
		Attempt: min(attemptTimeout, call), Call: call, Name: "BluegreenCallDeadline",
	}), nil
}
