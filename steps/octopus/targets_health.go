package octopus

import (
	"context"
	"slices"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// healthOutputs maps Octopus health statuses to output names.
var healthOutputs = map[string]string{
	"Healthy":     "healthy",
	"HasWarnings": "has_warnings",
	"Unhealthy":   "unhealthy",
	"Unavailable": "unavailable",
	"Unknown":     "unknown",
}

func init() {
	steps.Register(steps.Spec{
		Kind:    "octopus.targets.health",
		Title:   "Count Octopus deployment targets by health",
		Summary: "Counts the selected deployment targets by their Octopus health status.",
		Doc: "Read-only, so it can be a gate: `until: healthy == total && total > 0`. Disabled targets are " +
			"counted in `disabled` and left out of every other count, as Octopus leaves them out of deployments. " +
			"With no selector every target of the space is counted.",
		Preflight: octopusReady,
		Rules: []steps.Rule{
			steps.Matches("server", `^[Hh][Tt][Tt][Pp][Ss]?://\S+$`, "an http:// or https:// URL"),
		},
		Params:      withConnection(slices.Clone(selectorParams)...),
		Credentials: steps.OctopusCredentials,
		Outputs: []steps.Output{
			{Name: "total", Type: steps.Int, Doc: "Enabled targets selected."},
			{Name: "healthy", Type: steps.Int, Doc: "Targets whose status is Healthy."},
			{Name: "has_warnings", Type: steps.Int, Doc: "Targets whose status is HasWarnings."},
			{Name: "unhealthy", Type: steps.Int, Doc: "Targets whose status is Unhealthy."},
			{Name: "unavailable", Type: steps.Int, Doc: "Targets whose status is Unavailable."},
			{Name: "unknown", Type: steps.Int, Doc: "Targets whose status is Unknown (never checked)."},
			{Name: "disabled", Type: steps.Int, Doc: "Disabled targets (not in total)."},
			{Name: "not_healthy", Type: steps.List, Doc: "Names of enabled targets that are not Healthy."},
		},
		New: func() steps.Step { return steps.StepFunc(targetHealth) },
	})
}

func targetHealth(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	c, err := connect(ctx, call.Params)
	if err != nil {
		return nil, err
	}
	ts, err := selectTargets(c, call.Params)
	if err != nil {
		return nil, err
	}
	out := steps.Outputs{"total": 0, "disabled": 0}
	for _, name := range healthOutputs {
		out[name] = 0
	}
	notHealthy := []any{}
	for _, t := range ts {
		if t.IsDisabled {
			out["disabled"] = out["disabled"].(int) + 1
			continue
		}
		out["total"] = out["total"].(int) + 1
		name, ok := healthOutputs[t.HealthStatus]
		if !ok {
			name = "unknown"
		}
		out[name] = out[name].(int) + 1
		if t.HealthStatus != "Healthy" {
			notHealthy = append(notHealthy, t.Name)
		}
	}
	out["not_healthy"] = notHealthy
	return out, nil
}
