// Package steptest runs registered steps in tests the way the engine runs
// them: raw params are bound through the kind's spec in steps.Default, and
// the step runs with a steps.Call whose BeforeChange records the undos it
// journals.
//
// Every provider's tests share it, so a step under test sees the same
// binding and the same call shape whichever provider it belongs to, and
// a change to that shape is made once.
package steptest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/rs/zerolog"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// Spec returns the spec of kind in steps.Default. It fails t when no
// linked provider registered kind.
func Spec(t testing.TB, kind string) *steps.Spec {
	t.Helper()
	spec, ok := steps.Lookup(kind)
	if !ok {
		t.Fatalf("kind %s is not registered", kind)
	}
	return spec
}

// Bind binds raw params through kind's spec, as the engine does before a
// step runs. It fails t when the params break the spec's rules, so a test
// that means to run a step cannot quietly run it on half-bound params.
func Bind(t testing.TB, kind string, raw map[string]any) steps.Params {
	t.Helper()
	p, errs := Spec(t, kind).Bind(raw)
	if len(errs) > 0 {
		t.Fatalf("bind %s: %v", kind, errs)
	}
	return p
}

// Options shape one run. The zero value runs a fresh step from the spec,
// forward, with logging off, and fails the test on params that do not
// bind.
type Options struct {
	// Step runs instead of a fresh step from the spec: a step built on
	// fakes, or one that keeps state between runs.
	Step steps.Step
	// Log is the step's logger. The zero Logger writes nothing, as
	// zerolog.Nop() does.
	Log zerolog.Logger
	// Undoing marks the run as an undo being applied by a rollback.
	Undoing bool
	// Journal, when set, sees each undo the step journals before it is
	// recorded. An error it returns is what the step's BeforeChange
	// returns (as a journal that cannot write would), and that undo is not
	// recorded.
	Journal func(steps.Undo) error
	// BindErrors returns params that break the spec's rules as the run's
	// error instead of failing the test: the engine refuses them before
	// the step runs, and the test sees that as the step failing.
	BindErrors bool
	// CheckSpec fails the test when the step breaks its spec's promises:
	// a step not declared mutating journals an undo, or a successful run
	// returns an output the spec does not declare or lacks one it does.
	CheckSpec bool
}

// Result is what one run returned and journaled.
type Result struct {
	Out   steps.Outputs
	Undos []steps.Undo
	Err   error
}

// Run binds raw params through kind's spec and runs the step under ctx.
func Run(ctx context.Context, t testing.TB, kind string, raw map[string]any, o Options) Result {
	t.Helper()
	spec := Spec(t, kind)
	inv, err := spec.Invoke(raw)
	if err != nil {
		var be *steps.BindError
		errors.As(err, &be)
		err := fmt.Errorf("bind %s: %v", kind, be.Params)
		if !o.BindErrors {
			t.Fatal(err)
		}
		return Result{Err: err}
	}
	if o.Step != nil {
		inv.Step = o.Step
	}
	var r Result
	call := steps.Call{Log: o.Log, Undoing: o.Undoing, BeforeChange: func(u steps.Undo) error {
		if o.CheckSpec && !spec.Mutates {
			t.Fatalf("%s is not declared as mutating but called BeforeChange", kind)
		}
		// The undo is recorded as the journal stores it: its params
		// encoded by the undo kind's spec (durations as text).
		if us, ok := steps.Lookup(u.Kind); ok {
			u.Params = us.Encode(u.Params)
		}
		if o.Journal != nil {
			if err := o.Journal(u); err != nil {
				return err
			}
		}
		r.Undos = append(r.Undos, u)
		return nil
	}}
	// The step runs as the engine runs it: guarded, its error named by
	// its kind once.
	res, err := inv.Run(ctx, call)
	r.Out, r.Err = res.Outputs, err
	if o.CheckSpec && r.Err == nil {
		checkOutputs(t, spec, r.Out)
	}
	return r
}

// checkOutputs fails t when out and the spec's declared outputs differ.
func checkOutputs(t testing.TB, spec *steps.Spec, out steps.Outputs) {
	t.Helper()
	for _, o := range spec.Outputs {
		if _, ok := out[o.Name]; !ok {
			t.Errorf("%s: declared output %q missing", spec.Kind, o.Name)
		}
	}
	for k := range out {
		if spec.Output(k) == nil {
			t.Errorf("%s: output %q is not declared", spec.Kind, k)
		}
	}
}
