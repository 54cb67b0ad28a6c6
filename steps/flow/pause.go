package flow

import (
	"context"
	"fmt"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "flow.pause",
		Title:   "Pause",
		Summary: "Waits for a fixed time before the run goes on.",
		Doc: "Use a pause where something outside bluegreen needs time that cannot be " +
			"observed: DNS resolvers honouring a record's TTL after a weight change, a cache " +
			"expiring, a connection-draining delay. Where the thing can be observed, prefer a " +
			"gate on a step that reads it: a gate stops waiting as soon as the condition holds " +
			"and fails when it cannot.\n\n" +
			"Cancelling the run (Ctrl-C, SIGTERM, an Octopus cancel) ends the pause at once.",
		Params: []steps.Param{
			{Name: "duration", Type: steps.Duration, Required: true,
				Doc:      "How long to wait, as a Go duration.",
				Examples: []any{"60s", "5m"}},
			{Name: "reason", Type: steps.String,
				Doc:      "Why the run waits; logged when the pause starts so the log explains the gap.",
				Examples: []any{"let resolvers drop the 60s TTL of app.example.com"}},
		},
		New: func() steps.Step { return steps.StepFunc(pause) },
	})
}

func pause(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	d := call.Params.Duration("duration")
	ev := call.Log.Info().Stringer("duration", d)
	if r := call.Params.String("reason"); r != "" {
		ev = ev.Str("reason", r)
	}
	ev.Msg("pausing")
	if d <= 0 {
		return nil, ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("pause of %s interrupted: %w", d, ctx.Err())
	}
}
