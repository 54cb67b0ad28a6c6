package steptest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/steps"
	"github.com/bluegreen-deploy/bluegreen/steps/steptest"
)

// A test kind in the default registry of this test binary only: it
// journals one undo per name and returns the names it changed.
func init() {
	steps.Register(steps.Spec{
		Kind:    "steptest.change",
		Title:   "Change",
		Summary: "Journals an undo per name.",
		Mutates: true,
		Params:  []steps.Param{{Name: "names", Type: steps.List, Items: steps.String, Doc: "What to change.", Required: true}},
		Outputs: []steps.Output{
			{Name: "changed", Type: steps.Int, Doc: "How many changed."},
			{Name: "undoing", Type: steps.Bool, Doc: "Whether the call was an undo."},
		},
		New: func() steps.Step {
			return steps.StepFunc(func(_ context.Context, call *steps.Call) (steps.Outputs, error) {
				n := 0
				for _, name := range call.Params.List("names") {
					if err := call.BeforeChange(steps.Undo{Kind: "steptest.change", Params: map[string]any{"names": []any{name}}}); err != nil {
						return nil, err
					}
					n++
				}
				return steps.Outputs{"changed": n, "undoing": call.Undoing}, nil
			})
		},
	})
}

func TestRunRecordsTheJournaledUndos(t *testing.T) {
	r := steptest.Run(context.Background(), t, "steptest.change", map[string]any{"names": []any{"a", "b"}}, steptest.Options{Undoing: true, CheckSpec: true})
	if r.Err != nil || r.Out["changed"] != 2 || r.Out["undoing"] != true || len(r.Undos) != 2 || r.Undos[1].Params["names"].([]any)[0] != "b" {
		t.Fatalf("result %+v", r)
	}
}

func TestRunReturnsTheJournalsErrorAndRecordsNothing(t *testing.T) {
	full := errors.New("journal disk full")
	r := steptest.Run(context.Background(), t, "steptest.change", map[string]any{"names": []any{"a"}}, steptest.Options{Journal: func(steps.Undo) error { return full }})
	if !errors.Is(r.Err, full) || len(r.Undos) != 0 {
		t.Fatalf("result %+v, want the journal's error and no undo", r)
	}
}

func TestRunReturnsBindErrorsWhenAsked(t *testing.T) {
	r := steptest.Run(context.Background(), t, "steptest.change", map[string]any{}, steptest.Options{BindErrors: true})
	if r.Err == nil || !strings.Contains(r.Err.Error(), `bind steptest.change: [param "names": required param is missing]`) {
		t.Fatalf("error %v, want the bind error", r.Err)
	}
}
