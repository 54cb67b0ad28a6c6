package flow

import (
	"context"
	"errors"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "flow.assert",
		Title:   "Assert a condition",
		Summary: "Fails unless a condition, usually an expression over earlier outputs, is true.",
		Doc: "Write the condition as a single expression so that it keeps its bool type: " +
			"`condition: \"${{ steps.scale-idle.desired >= 2 }}\"`. The runbook validator " +
			"compiles the expression before anything runs. The condition is evaluated once, " +
			"when the step starts: to wait until something becomes true, put a gate on the " +
			"step that reads it instead.",
		Params: []steps.Param{
			{Name: "condition", Type: steps.Bool, Required: true,
				Doc:      "The condition that must hold. Text is accepted too (true/false, yes/no, 1/0), as Octopus passes every value as text.",
				Examples: []any{"${{ steps.idle-healthy.healthy == steps.idle-healthy.total }}"}},
			{Name: "message", Type: steps.String,
				Doc:      "What went wrong when the condition is false; it becomes the run's error.",
				Examples: []any{"not every idle target is healthy"}},
		},
		Outputs: []steps.Output{
			{Name: "ok", Type: steps.Bool, Doc: "The condition's value: true when the step succeeds, false (with the error) when it fails."},
		},
		New: func() steps.Step { return steps.StepFunc(assert) },
	})
}

func assert(_ context.Context, call *steps.Call) (steps.Outputs, error) {
	if call.Params.Bool("condition") {
		return steps.Outputs{"ok": true}, nil
	}
	msg := call.Params.String("message")
	if msg == "" {
		msg = "condition is false"
	}
	return steps.Outputs{"ok": false}, errors.New("assertion failed: " + msg)
}
