package octopus

import (
	"context"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "octopus.variables.get",
		Title:   "Read an Octopus project variable",
		Summary: "Reads the value of a project variable, optionally the one scoped to an environment.",
		Doc: "Useful in `detect:` to learn which colour is live from `BlueGreen.Live`, or as a gate " +
			"(`until: value == 'green'`). A sensitive variable's value cannot be read through the API: " +
			"`found` is true, `sensitive` is true and `value` is empty.",
		Preflight: octopusReady,
		Rules: []steps.Rule{
			steps.Length("project", 1, 0),
			steps.Length("name", 1, 0),
			steps.Matches("server", `^[Hh][Tt][Tt][Pp][Ss]?://\S+$`, "an http:// or https:// URL"),
		},
		Params:      withConnection(variableParams...),
		Credentials: steps.OctopusCredentials,
		Outputs: []steps.Output{
			{Name: "value", Type: steps.String, Doc: "The value (empty when the variable is missing or sensitive)."},
			{Name: "found", Type: steps.Bool, Doc: "Whether a variable with that name and scope exists."},
			{Name: "sensitive", Type: steps.Bool, Doc: "Whether the variable is sensitive."},
		},
		New: func() steps.Step { return steps.StepFunc(getVariable) },
	})
}

func getVariable(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	c, err := connect(ctx, call.Params)
	if err != nil {
		return nil, err
	}
	p := call.Params
	proj, envID, err := variableScope(c, p)
	if err != nil {
		return nil, err
	}
	store, err := openVariables(c, proj, p.String("git_ref"))
	if err != nil {
		return nil, err
	}
	_, vars, err := store.read(c, store.path)
	if err != nil {
		return nil, err
	}
	out := steps.Outputs{"value": "", "found": false, "sensitive": false}
	i := findVariable(vars, p.String("name"), envID)
	if i < 0 {
		// A Git project's sensitive variables are in the database.
		if found, err := store.sensitiveMatch(c, p.String("name"), envID); err != nil || found {
			out["found"], out["sensitive"] = found, found
			return out, err
		}
	}
	if i >= 0 {
		v := variableAt(vars, i)
		sensitive := v["IsSensitive"] == true
		out["found"], out["sensitive"] = true, sensitive
		if !sensitive {
			out["value"] = octopus.DocString(v, "Value")
		}
	}
	return out, nil
}
