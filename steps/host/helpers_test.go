package host

import (
	"context"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/steps"
	"github.com/bluegreen-deploy/bluegreen/steps/steptest"
)

// undoLog records the undos a step journals.
type undoLog struct {
	undos []steps.Undo
	err   error // returned by BeforeChange when set
}

func (l *undoLog) before(u steps.Undo) error {
	if l.err != nil {
		return l.err
	}
	l.undos = append(l.undos, u)
	return nil
}

// run binds raw params against the registered spec of kind, as the engine
// does, and runs a fresh step.
func run(t *testing.T, kind string, raw map[string]any, l *undoLog) (steps.Outputs, error) {
	t.Helper()
	return runCtx(context.Background(), t, kind, raw, l, false)
}

// runCtx is run under ctx; undoing marks the run as an undo being applied.
// Params that break the spec's rules come back as the step's error: the
// engine refuses them before the step runs.
func runCtx(ctx context.Context, t *testing.T, kind string, raw map[string]any, l *undoLog, undoing bool) (steps.Outputs, error) {
	t.Helper()
	if l == nil {
		l = &undoLog{}
	}
	r := steptest.Run(ctx, t, kind, raw, steptest.Options{Journal: l.before, Undoing: undoing, BindErrors: true})
	return r.Out, r.Err
}
