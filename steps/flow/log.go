package flow

import (
	"context"

	"github.com/bluegreen-deploy/bluegreen/steps"
	"github.com/rs/zerolog"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "flow.log",
		Title:   "Log a message",
		Summary: "Writes a message to the run's log.",
		Doc: "The message is usually an expression over earlier outputs, such as " +
			"`\"${{ idle.name }} has ${{ steps.idle-healthy.healthy }} healthy targets\"`, " +
			"and lands in the log (and so in the Octopus task log) with the step's id.",
		Params: []steps.Param{
			{Name: "message", Type: steps.String, Required: true,
				Doc:      "The text to log.",
				Examples: []any{"switching ${{ inputs.record }} to ${{ idle.name }}"}},
			{Name: "level", Type: steps.String, Default: "info", Enum: []string{"debug", "info", "warn", "error"},
				Doc: "The log level. `warn` and `error` only colour the line: they do not fail the step (use flow.fail for that)."},
		},
		New: func() steps.Step { return steps.StepFunc(logMessage) },
	})
}

func logMessage(_ context.Context, call *steps.Call) (steps.Outputs, error) {
	level, err := zerolog.ParseLevel(call.Params.String("level"))
	if err != nil {
		// Bind has checked the enum already; a spec change must not
		// silence messages, so fall back to info.
		level = zerolog.InfoLevel
	}
	call.Log.WithLevel(level).Msg(call.Params.String("message"))
	return nil, nil
}
