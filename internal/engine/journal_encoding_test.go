package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// holdRegistry has every real kind and test.hold, a step that hands its
// undo params to the journal typed, durations as time.Duration, the way
// Bind gave them: converting them is the journal's business, not the
// step's. Each undo it applies records the params it was bound with.
func holdRegistry(undone *[]steps.Params, mu *sync.Mutex) *steps.Registry {
	r := steps.NewRegistry()
	for _, s := range steps.Default.All() {
		r.Register(*s)
	}
	r.Register(steps.Spec{
		Kind: "test.hold", Title: "Hold", Summary: "Holds something for a while.", Mutates: true,
		Params: []steps.Param{
			{Name: "timeout", Type: steps.Duration, Doc: "How long.", Required: true},
			{Name: "waits", Type: steps.List, Items: steps.Duration, Doc: "Pauses.", Default: []any{}},
		},
		New: func() steps.Step {
			return steps.StepFunc(func(_ context.Context, c *steps.Call) (steps.Outputs, error) {
				if c.Undoing {
					mu.Lock()
					*undone = append(*undone, c.Params)
					mu.Unlock()
					return nil, nil
				}
				return nil, c.BeforeChange(steps.Undo{Kind: "test.hold", Params: map[string]any{"timeout": c.Params.Duration("timeout"), "waits": c.Params.List("waits")}})
			})
		},
	})
	return r
}

const holdRunbook = `
version: 1
name: hold
on_failure: stop
colours: {blue: {}, green: {}}
steps:
  - uses: test.hold
    with: {timeout: 90s, waits: [1s, 250ms]}
  - uses: flow.fail
    with: {message: stop here}
`

// holdFixture returns the registry, a file store, the hold runbook and
// the params of every test.hold undo applied.
func holdFixture(t *testing.T) (*steps.Registry, *state.FileStore, *Runbook, *[]steps.Params) {
	t.Helper()
	var undone []steps.Params
	var mu sync.Mutex
	reg := holdRegistry(&undone, &mu)
	st, err := state.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rb, err := Parse("hold.yaml", []byte(holdRunbook), reg)
	if err != nil {
		t.Fatal(err)
	}
	return reg, st, rb, &undone
}

// An undo whose params hold durations is journaled with them as text, and
// a later process (rollback, reading the JSON record) binds them back to
// the same durations. The old main stored the step's time.Duration as a
// number of nanoseconds, which does not bind as a duration: that
// rollback failed.
func TestJournalEncodesUndoParamsBySpecType(t *testing.T) {
	reg, st, rb, undone := holdFixture(t)
	x := &Executor{Registry: reg, Store: st, Key: "hold", UndoBackoff: time.Millisecond}
	if _, err := x.Run(context.Background(), rb, nil); err == nil || !strings.Contains(err.Error(), "stop here") {
		t.Fatalf("run: %v, want it stopped by flow.fail", err)
	}
	path, err := st.RecordPath("hold")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"timeout": "1m30s"`, `"1s"`, `"250ms"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the journal lacks %s:\n%s", want, b)
		}
	}

	// A new executor reads the record from disk, as `bluegreen rollback`
	// in another process does.
	rec := &recorder{}
	x = &Executor{Registry: reg, Store: st, Key: "hold", UndoBackoff: time.Millisecond, Sinks: []Sink{rec.sink}}
	res, err := x.Rollback(context.Background(), rb, nil)
	if err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if res.Status != state.StatusRolledBack || len(*undone) != 1 {
		t.Fatalf("rollback = %+v, undos applied %d", res, len(*undone))
	}
	if got := (*undone)[0]; got.Duration("timeout") != 90*time.Second || len(got.List("waits")) != 2 ||
		got.List("waits")[0] != time.Second || got.List("waits")[1] != 250*time.Millisecond {
		t.Errorf("undo bound with %v, want timeout 1m30s and waits [1s 250ms]", got)
	}
}

// A journal written by the old main, whose steps put durations into it
// as text themselves, still rolls back: the record below is in the form
// it wrote (host.exec stored "timeout": "5m0s").
func TestJournalFromOldMainRollsBack(t *testing.T) {
	reg, st, rb, undone := holdFixture(t)
	marker := filepath.Join(st.Dir(), "undone")
	old := `{
  "format": 1,
  "run": {
    "id": "20260101T000000Z-0a0b0c0d",
    "runbook": "hold",
    "file": "hold.yaml",
    "status": "failed",
    "started": "2026-01-01T00:00:00Z",
    "live": "blue",
    "idle": "green",
    "done": ["[0]"],
    "journal": [
      {"seq": 1, "step": "[0]", "kind": "host.exec",
       "undo": {"kind": "host.exec", "params": {"command": ["touch", "` + marker + `"], "timeout": "5m0s"}, "note": "run touch"},
       "state": "applied", "at": "2026-01-01T00:00:01Z"},
      {"seq": 2, "step": "[1]", "kind": "test.hold",
       "undo": {"kind": "test.hold", "params": {"timeout": "1m30s", "waits": ["1s"]}},
       "state": "applied", "at": "2026-01-01T00:00:02Z"}
    ],
    "error": "step [2]: flow.fail: stop here"
  }
}
`
	path, err := st.RecordPath("hold")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	x := &Executor{Registry: reg, Store: st, Key: "hold", UndoBackoff: time.Millisecond}
	res, err := x.Rollback(context.Background(), rb, nil)
	if err != nil {
		t.Fatalf("rollback of the old journal: %v", err)
	}
	if res.Status != state.StatusRolledBack {
		t.Fatalf("status %s", res.Status)
	}
	if _, err := os.Stat(marker); errors.Is(err, os.ErrNotExist) {
		t.Error("the host.exec undo did not run")
	}
	if u := *undone; len(u) != 1 || u[0].Duration("timeout") != 90*time.Second || u[0].List("waits")[0] != time.Second {
		t.Errorf("test.hold undo bound with %v", u)
	}
}
