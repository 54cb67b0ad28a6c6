package octopus

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/machines"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "octopus.targets.registered",
		Title:   "Match Octopus deployment targets to EC2 instances",
		Summary: "Finds, for each given EC2 instance, the Healthy deployment target that records its instance id, and lists the instances that have none.",
		Doc: "Read-only, so it can be a gate that holds a release until Octopus can deploy to every new instance: " +
			"`until: \"waiting_for == ''\"`; on timeout the gate's message shows `waiting_for`, which names the instances that never registered. " +
			"A target records its instance id in its name (a Tentacle registered from an instance's user data is " +
			"usually named after it, e.g. `web-green-i-0abc123def4567890` or just the id) or as one of its roles; " +
			"the id must stand alone there, not inside a longer word. Disabled targets are left out, as Octopus " +
			"leaves them out of deployments. The selectors (role, environment, targets) narrow the targets searched.",
		Preflight: octopusReady,
		Rules: []steps.Rule{
			steps.Matches("server", `^[Hh][Tt][Tt][Pp][Ss]?://\S+$`, "an http:// or https:// URL"),
			steps.Matches("instances", `^\s*[Ii]-[0-9a-fA-F]{8}(?:[0-9a-fA-F]{9})?\s*$`, "an EC2 instance id (i- and 8 or 17 hex digits)"),
		},
		Params: withConnection(append(slices.Clone(selectorParams),
			steps.Param{Name: "instances", Type: steps.List, Items: steps.String, Required: true,
				Doc: "EC2 instance ids that must each have a Healthy target, e.g. the `instances` output of aws.asg.describe.", Examples: []any{[]any{"i-0abc123def4567890"}}},
		)...),
		Credentials: steps.OctopusCredentials,
		Outputs: []steps.Output{
			{Name: "total", Type: steps.Int, Doc: "Enabled targets selected."},
			{Name: "healthy", Type: steps.Int, Doc: "Selected targets whose status is Healthy."},
			{Name: "registered", Type: steps.List, Doc: "Instance ids that have a Healthy target, sorted."},
			{Name: "missing", Type: steps.List, Doc: "Instance ids that have no Healthy target (none at all, or only one that is not Healthy), sorted."},
			{Name: "targets", Type: steps.List, Doc: "Names of the Healthy targets that record one of the instances, sorted."},
			{Name: "not_healthy", Type: steps.Map, Doc: "Instance id → \"target name: health status\" for instances whose target is not Healthy yet."},
			{Name: "waiting_for", Type: steps.String, Doc: "The missing instances as text, each with its target's status when it has one (`i-0abc (no target), i-0def (web-green-i-0def: Unknown)`); empty when none is missing."},
			{Name: "unmatched", Type: steps.List, Doc: "Names of selected targets that record none of the instances (stale registrations of terminated instances, for instance)."},
		},
		New: func() steps.Step { return steps.StepFunc(targetsRegistered) },
	})
}

// instanceIDPattern is the shape of an EC2 instance id (8 or 17 hex digits).
var instanceIDPattern = regexp.MustCompile(`(?i)(^|[^a-z0-9])(i-[0-9a-f]{8}(?:[0-9a-f]{9})?)($|[^a-z0-9])`)

// recordedInstances returns the instance ids a target records in its name
// or as a role, lower-cased.
func recordedInstances(m *machines.DeploymentTarget) []string {
	var out []string
	for _, s := range append([]string{m.Name}, m.Roles...) {
		// The pattern consumes one delimiter on each side, so ids separated
		// by a single character are found by scanning from each match's id.
		for rest := s; rest != ""; {
			loc := instanceIDPattern.FindStringSubmatchIndex(rest)
			if loc == nil {
				break
			}
			out = append(out, strings.ToLower(rest[loc[4]:loc[5]]))
			rest = rest[loc[5]:]
		}
	}
	return out
}

func targetsRegistered(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	p := call.Params
	want := map[string]bool{}
	for _, id := range p.Strings("instances") {
		// The spec's rule checks each id's shape but, as for every
		// pattern, lets an empty string through; it is refused here.
		id = strings.ToLower(strings.TrimSpace(id))
		if !instanceIDPattern.MatchString(id) {
			return nil, fmt.Errorf("instances: %q is not an EC2 instance id (i- and 8 or 17 hex digits)", id)
		}
		want[id] = true
	}
	c, err := connect(ctx, p)
	if err != nil {
		return nil, err
	}
	ts, err := selectTargets(c, p)
	if err != nil {
		return nil, err
	}
	total, healthy := 0, 0
	registered := map[string]bool{}
	notHealthy := map[string]any{}
	names, unmatched := []string{}, []string{}
	for _, t := range ts {
		if t.IsDisabled {
			continue
		}
		total++
		ok := t.HealthStatus == "Healthy"
		if ok {
			healthy++
		}
		matched := false
		for _, id := range recordedInstances(t) {
			if !want[id] {
				continue
			}
			matched = true
			if ok {
				registered[id] = true
			} else if _, seen := notHealthy[id]; !seen {
				notHealthy[id] = t.Name + ": " + t.HealthStatus
			}
		}
		switch {
		case matched && ok:
			names = append(names, t.Name)
		case !matched:
			unmatched = append(unmatched, t.Name)
		}
	}
	var reg, missing []string
	for id := range want {
		if registered[id] {
			reg = append(reg, id)
			delete(notHealthy, id)
		} else {
			missing = append(missing, id)
		}
	}
	sort.Strings(reg)
	sort.Strings(missing)
	waiting := make([]string, len(missing))
	for i, id := range missing {
		if st, ok := notHealthy[id]; ok {
			waiting[i] = fmt.Sprintf("%s (%s)", id, st)
		} else {
			waiting[i] = id + " (no target)"
		}
	}
	sort.Strings(names)
	sort.Strings(unmatched)
	return steps.Outputs{
		"total": total, "healthy": healthy, "registered": toAny(reg), "missing": toAny(missing),
		"targets": toAny(names), "not_healthy": notHealthy, "unmatched": toAny(unmatched),
		"waiting_for": strings.Join(waiting, ", "),
	}, nil
}
