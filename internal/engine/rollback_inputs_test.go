package engine

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
)

// TestRollbackBindsInputsAsRun: a rollback binds the inputs given to it
// through the same input spec as a run, so a badly typed or unknown input
// gets the run's diagnostic (at the input's declaration) and nothing is
// undone; with the inputs right, or none (they are journaled), the
// rollback goes ahead. --key is set so that finding the record does not
// bind the inputs first.
func TestRollbackBindsInputsAsRun(t *testing.T) {
	h := newHarness(t)
	rb := h.load(strings.Replace(sharedRunbook, "  app: {type: string}\n", "  app: {type: string}\n  count: {type: int, default: 1}\n", 1))
	x := h.exec("")
	x.Key = "one-record"
	crashA(t, h, x, rb)
	file := filepath.Join(h.dir, "one-record.json")
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	calls := len(h.w.calls)
	for _, bad := range []map[string]any{
		{"app": "a", "count": "x"},
		{"count": "x"},
		{"app": "a", "cuont": 2},
	} {
		_, runErr := rb.ResolveInputs(bad)
		_, err := x.Rollback(context.Background(), rb, bad)
		var got, want *InvalidError
		if !errors.As(err, &got) || !errors.As(runErr, &want) {
			t.Fatalf("rollback with %v = %v; want an InvalidError as the run's %v", bad, err, runErr)
		}
		// A given input's own problem is reported as a run reports it;
		// an input missing from those given is journaled, so it is not one.
		var wantDiags []Diagnostic
		for _, d := range want.Diags {
			if !strings.HasPrefix(d.Message, "missing required input") {
				wantDiags = append(wantDiags, *d)
			}
		}
		var gotDiags []Diagnostic
		for _, d := range got.Diags {
			gotDiags = append(gotDiags, *d)
		}
		if len(wantDiags) == 0 || !reflect.DeepEqual(gotDiags, wantDiags) {
			t.Errorf("rollback with %v:\n%v\nwant the run's diagnostics:\n%v", bad, err, runErr)
		}
		if after, _ := os.ReadFile(file); !bytes.Equal(before, after) {
			t.Fatalf("the record changed:\nbefore %s\nafter %s", before, after)
		}
		if len(h.w.calls) != calls {
			t.Fatalf("undos ran: %v", h.w.calls[calls:])
		}
	}
	res, err := x.Rollback(context.Background(), rb, map[string]any{"count": "2"})
	if err != nil || res.Status != state.StatusRolledBack {
		t.Fatalf("rollback with a good input = %+v, %v", res, err)
	}
	if h.w.size("a-green") != 0 || h.w.size("a-blue") != 2 {
		t.Fatalf("sizes %v after the rollback", h.w.sizes)
	}
}
