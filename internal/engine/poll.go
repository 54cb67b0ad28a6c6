package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// minPollTime is the least time a gate's poll gets, even when the gate's
// timeout has (nearly) run out: the last poll of a fail-only gate decides
// it, and must be able to answer.
const minPollTime = time.Second

// poll runs one poll of a gate, bounded by what is left of the gate: a
// read that hangs (an endpoint that accepts the connection and never
// answers) fails this poll when the gate's time is up, rather than holding
// the run, and the traffic split it left, for as long as the client's own
// timeouts allow.
func (rc *runCtx) poll(ctx context.Context, inv *steps.Invocation, call steps.Call, left time.Duration) (*steps.Result, error) {
	if left < minPollTime {
		left = minPollTime
	}
	pctx, cancel := context.WithTimeout(ctx, left)
	defer cancel()
	res, err := inv.Run(pctx, call)
	if err != nil && ctx.Err() == nil && pctx.Err() != nil {
		err = fmt.Errorf("no answer within the %s left of the gate: %w", left.Round(time.Millisecond), err)
	}
	return res, err
}
