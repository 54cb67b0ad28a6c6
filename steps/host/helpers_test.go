package host

import (
	"context"
	"fmt"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/steps"
	"github.com/rs/zerolog"
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

func runCtx(ctx context.Context, t *testing.T, kind string, raw map[string]any, l *undoLog, undoing bool) (steps.Outputs, error) {
	t.Helper()
	spec, ok := steps.Lookup(kind)
	if !ok {
		t.Fatalf("kind %s is not registered", kind)
	}
	p, errs := spec.Bind(raw)
	if len(errs) > 0 {
		// The spec's rules catch bad params before the step runs, as the
		// engine does: the test sees them as the step's error.
		return nil, fmt.Errorf("bind %s: %v", kind, errs)
	}
	if l == nil {
		l = &undoLog{}
	}
	return spec.New().Run(ctx, &steps.Call{Params: p, Log: zerolog.Nop(), BeforeChange: l.before, Undoing: undoing})
}
