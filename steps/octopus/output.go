package octopus

import (
	"context"
	"io"
	"os"
	"sort"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus/servicemsg"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// stdout is where octopus.output writes; Octopus reads service messages
// from the step's standard output only. Tests replace it.
var stdout io.Writer = os.Stdout

func init() {
	steps.Register(steps.Spec{
		Kind:    "octopus.output",
		Title:   "Set Octopus output variables",
		Summary: "Sets output variables that later Octopus steps can read.",
		Doc: "Each entry of `values` becomes an output variable of the running Octopus step, read later as " +
			"`#{Octopus.Action[<step name>].Output.<name>}`. Values are formatted as text (lists and maps as " +
			"YAML flow). It writes `setVariable` service messages to standard output, so outside Octopus it " +
			"only prints them.",
		Rules: []steps.Rule{
			steps.Length("values", 1, 0),
		},
		Params: []steps.Param{
			{Name: "values", Type: steps.Map, Required: true, Doc: "Variable name → value.", Examples: []any{map[string]any{"LiveColour": "${{ idle.name }}"}}},
			{Name: "sensitive", Type: steps.Bool, Default: false, Doc: "Mark every variable sensitive, so Octopus masks it in logs."},
		},
		Outputs: []steps.Output{{Name: "count", Type: steps.Int, Doc: "How many variables were set."}},
		New:     func() steps.Step { return steps.StepFunc(setOutputs) },
	})
}

func setOutputs(_ context.Context, call *steps.Call) (steps.Outputs, error) {
	// In Octopus mode the CLI's shared stdout: the messages then keep their
	// place among the (neutralised) log lines.
	w := servicemsg.NewWriter(servicemsg.Shared(stdout))
	values := call.Params.Map("values")
	names := make([]string, 0, len(values))
	for k := range values {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := w.SetVariable(k, steps.FormatValue(values[k]), call.Params.Bool("sensitive")); err != nil {
			return nil, err
		}
	}
	return steps.Outputs{"count": len(names)}, nil
}
