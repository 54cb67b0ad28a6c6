package engine

import (
	"context"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
)

// TestHistoryHasOneCap: the executor appends every run to the history and
// only the store bounds it, so `bluegreen status` shows the latest
// state.MaxHistory runs that changed nothing (and every run that changed
// something). The executor once cut the history to 20 entries as well,
// which hid all but 20 of the runs the store meant to keep.
func TestHistoryHasOneCap(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	// One read-only step: each run succeeds and changes nothing.
	rb := h.load("version: 1\nname: quiet\ncolours: {a: {}, b: {}}\nsteps:\n  - uses: test.health\n    with: {group: g}\n")
	x := h.exec("")
	key, err := x.KeyFor(rb, nil)
	if err != nil {
		t.Fatal(err)
	}
	runs := state.MaxHistory + 5
	var last string
	for i := 0; i < runs; i++ {
		res, err := x.Run(ctx, rb, nil)
		if err != nil || res.Status != state.StatusSucceeded {
			t.Fatalf("run %d: %v %+v", i, err, res)
		}
		last = res.RunID
	}
	rec, err := h.store.Load(ctx, key)
	if err != nil || rec == nil {
		t.Fatalf("load %q: %v %v", key, rec, err)
	}
	if len(rec.History) != state.MaxHistory {
		t.Fatalf("history keeps %d of %d quiet runs; want state.MaxHistory (%d)", len(rec.History), runs, state.MaxHistory)
	}
	if got := rec.History[len(rec.History)-1]; got.ID != last || got.Changes != 0 {
		t.Fatalf("newest history entry %+v; want run %s with no changes", got, last)
	}
}
