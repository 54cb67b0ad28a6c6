package flow

import (
	"context"
	"errors"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "flow.fail",
		Title:   "Fail the run",
		Summary: "Fails with a message, which rolls the run back (or stops it, as on_failure says).",
		Doc: "Combine it with `if:` to stop a release on a condition the runbook can " +
			"express, e.g. `if: \"${{ live.name == inputs.target }}\"` with the message " +
			"\"the target colour is already live\". flow.assert says the same thing the other " +
			"way round and is usually shorter.",
		Rules: []steps.Rule{
			steps.Length("message", 1, 0),
		},
		Params: []steps.Param{
			{Name: "message", Type: steps.String, Required: true,
				Doc:      "Why the run fails; it becomes the run's error.",
				Examples: []any{"${{ idle.name }} is already live: nothing to release"}},
		},
		New: func() steps.Step { return steps.StepFunc(fail) },
	})
}

func fail(_ context.Context, call *steps.Call) (steps.Outputs, error) {
	return nil, errors.New(call.Params.String("message"))
}
