package octopus

import (
	"context"
	"fmt"
	"slices"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "octopus.targets.move-environment",
		Title:   "Move Octopus deployment targets to another environment",
		Summary: "Moves the selected deployment targets from one environment to another.",
		Doc: "For the env-swap strategy, where pre-prod becomes prod: the targets of the new live stack move " +
			"from `Pre-Production` to `Production` (and the old ones the other way in a second step). Other " +
			"environments a target belongs to are kept. The undo puts every moved target's environments back " +
			"exactly as they were.",
		Preflight: octopusTargets,
		Rules: []steps.Rule{
			steps.AtLeastOneOf("to", "exact"),
			steps.Matches("server", `^[Hh][Tt][Tt][Pp][Ss]?://\S+$`, "an http:// or https:// URL"),
		},
		Params: withConnection(append(slices.Clone(selectorParams),
			steps.Param{Name: "to", Type: steps.String, Doc: "The environment (name or id) to move the targets to. Required unless exact is given."},
			steps.Param{Name: "from", Type: steps.String, Doc: "The environment (name or id) to take them out of. Empty: the targets end up in `to` only."},
			steps.Param{Name: "exact", Type: steps.Map, Doc: "Target id → the exact list of environment ids it must be in; replaces the selection (the undo uses it)."},
			steps.Param{Name: "allow_none", Type: steps.Bool, Default: false, Doc: "Succeed when the selection matches no target."},
		)...),
		Outputs: []steps.Output{
			{Name: "matched", Type: steps.Int, Doc: "How many targets the selection matched."},
			{Name: "changed", Type: steps.Int, Doc: "How many targets were moved."},
			{Name: "targets", Type: steps.List, Doc: "Names of the moved targets."},
		},
		Mutates:     true,
		Credentials: steps.OctopusCredentials,
		New:         func() steps.Step { return steps.StepFunc(moveEnvironment) },
	})
}

func moveEnvironment(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	p := call.Params
	var toID, fromID string
	if len(p.Map("exact")) == 0 {
		if p.String("to") == "" {
			return nil, fmt.Errorf("param \"to\": required unless exact is given")
		}
		c, err := connect(ctx, p)
		if err != nil {
			return nil, err
		}
		if toID, err = environmentID(c, p.String("to")); err != nil {
			return nil, err
		}
		if f := p.String("from"); f != "" {
			if fromID, err = environmentID(c, f); err != nil {
				return nil, err
			}
		}
	}
	return editTargets(ctx, call, "octopus.targets.move-environment", "environments", "EnvironmentIds",
		func(old []string) []string {
			if fromID == "" {
				return []string{toID}
			}
			next := slices.DeleteFunc(slices.Clone(old), func(e string) bool { return e == fromID })
			if !slices.Contains(next, toID) {
				next = append(next, toID)
			}
			return next
		}, toID != "")
}
