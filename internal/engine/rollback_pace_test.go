package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// paceRegistry adds to the test registry a group whose scale-in undo
// restores capacity (and halts when restoring fails) and weights whose
// undos carry a settle time.
func paceRegistry(w *world, restoreFails *bool) *steps.Registry {
	r := testRegistry(w)
	r.Register(steps.Spec{
		Kind: "test.capacity", Title: "Capacity", Summary: "Scales a group, undo waits.", Mutates: true,
		Params: []steps.Param{{Name: "group", Type: steps.String, Doc: "Group.", Required: true}, {Name: "desired", Type: steps.Int, Doc: "Desired.", Required: true}},
		New: func() steps.Step {
			return steps.StepFunc(func(ctx context.Context, c *steps.Call) (steps.Outputs, error) {
				g, d := c.Params.String("group"), c.Params.Int("desired")
				if c.Undoing && *restoreFails {
					return nil, steps.Halt(errors.New("instances never became healthy"))
				}
				if err := c.BeforeChange(steps.Undo{Kind: "test.capacity", Params: map[string]any{"group": g, "desired": w.size(g)}, RestoresCapacity: w.size(g) > d}); err != nil {
					return nil, err
				}
				w.setSize(g, d)
				return nil, nil
			})
		},
	})
	r.Register(steps.Spec{
		Kind: "test.shift", Title: "Shift", Summary: "Sets weights, undo settles.", Mutates: true,
		Params: []steps.Param{{Name: "weights", Type: steps.Map, Items: steps.Int, Doc: "Weights.", Required: true}},
		New: func() steps.Step {
			return steps.StepFunc(func(ctx context.Context, c *steps.Call) (steps.Outputs, error) {
				if err := c.BeforeChange(steps.Undo{Kind: "test.shift", Params: map[string]any{"weights": w.weightsMap()}, Settle: 20 * time.Millisecond}); err != nil {
					return nil, err
				}
				w.setWeights(c.Params.Map("weights"))
				return nil, nil
			})
		},
	})
	return r
}

const paceRunbook = `
version: 1
name: pace
colours: {blue: {asg: web-blue}, green: {asg: web-green}}
steps:
  - uses: test.capacity
    with: {group: web-green, desired: 3}
  - uses: test.shift
    with: {weights: {green: 10, blue: 90}}
  - uses: test.shift
    with: {weights: {green: 50, blue: 50}}
  - uses: test.shift
    with: {weights: {green: 100, blue: 0}}
  - uses: test.capacity
    with: {group: web-blue, desired: 0}
`

func paceHarness(t *testing.T, restoreFails *bool) (*harness, *Runbook) {
	h := newHarness(t)
	h.reg = paceRegistry(h.w, restoreFails)
	rb := h.load(paceRunbook)
	if _, err := h.exec("").Run(context.Background(), rb, nil); err != nil {
		t.Fatal(err)
	}
	h.rec.events = nil
	return h, rb
}

func (r *recorder) messages(sub string) int {
	n := 0
	for _, e := range r.events {
		if m, ok := e.(*Message); ok && strings.Contains(m.Text, sub) {
			n++
		}
	}
	return n
}

func TestRollbackAfterCapacityRestoreShiftsBackInHeldSteps(t *testing.T) {
	fails := false
	h, rb := paceHarness(t, &fails)
	if _, err := h.exec("").Rollback(context.Background(), rb, nil); err != nil {
		t.Fatal(err)
	}
	if n := h.rec.messages("holding the restored weights"); n != 2 {
		t.Fatalf("%d holds between three weight steps, want 2", n)
	}
	if h.w.size("web-blue") != 3 || h.w.weightsMap()["blue"] != 100 {
		t.Fatalf("sizes %v weights %v", h.w.sizes, h.w.weightsMap())
	}
}

func TestRollbackWithoutCapacityRestoreDoesNotPause(t *testing.T) {
	fails := false
	h := newHarness(t)
	h.reg = paceRegistry(h.w, &fails)
	// The release fails after the shift, before the old group is scaled
	// in: the old colour kept its capacity, traffic goes back at once.
	src := strings.Replace(paceRunbook, "  - uses: test.capacity\n    with: {group: web-blue, desired: 0}\n", "  - uses: test.health\n    with: {group: web-green}\n    gate: {until: \"false\", timeout: 0s}\n", 1)
	if _, err := h.exec("").Run(context.Background(), h.load(src), nil); err == nil {
		t.Fatal("the release should fail")
	}
	if n := h.rec.messages("holding the restored weights"); n != 0 {
		t.Fatalf("%d holds in a rollback that restored no capacity, want 0", n)
	}
	if h.w.weightsMap()["blue"] != 100 {
		t.Fatalf("weights %v", h.w.weightsMap())
	}
}

func TestRollbackHaltsWhenCapacityCannotBeRestored(t *testing.T) {
	fails := false
	h, rb := paceHarness(t, &fails)
	fails = true
	_, err := h.exec("").Rollback(context.Background(), rb, nil)
	var fe *RunFailedError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want a failed rollback", err)
	}
	for _, want := range []string{"rollback stopped at undo 5", "instances never became healthy", "traffic was left where it is", "not applied: 4 ", "bluegreen rollback"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if got := h.w.weightsMap(); got["green"] != 100 {
		t.Fatalf("weights moved after the halt: %v", got)
	}
	if n := len(h.rec.undos()); n != 1 {
		t.Fatalf("%d undos attempted, want only the halted one", n)
	}
	rec, _ := loadApp(t, h.store, "pace")
	undone := 0
	for _, e := range rec.Run.Journal {
		if e.State == state.EntryUndone {
			undone++
		}
	}
	if undone != 0 || rec.Run.Status != state.StatusRollbackErr {
		t.Fatalf("journal: %d undone, status %s", undone, rec.Run.Status)
	}
	// Once the cause is fixed, rollback finishes the job.
	fails = false
	h.rec.events = nil
	if _, err := h.exec("").Rollback(context.Background(), rb, nil); err != nil {
		t.Fatalf("second rollback: %v", err)
	}
	if h.w.weightsMap()["blue"] != 100 || h.w.size("web-blue") != 3 {
		t.Fatalf("after the second rollback: sizes %v weights %v", h.w.sizes, h.w.weightsMap())
	}
}
