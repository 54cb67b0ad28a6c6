package octopus

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "octopus.targets.retag",
		Title:   "Re-tag Octopus deployment targets",
		Summary: "Adds and removes roles (target tags) on the deployment targets that match a selection.",
		Doc: "Used to make Octopus follow a swap: the targets tagged `web-green` get `web-live` added and " +
			"`web-idle` removed, those tagged `web-blue` the opposite, so that later deployments to `web-live` " +
			"reach the new colour. A target that already has the roles is not written. The undo puts every " +
			"changed target's roles back exactly as they were (param `exact`).",
		Preflight: octopusTargets,
		Rules: []steps.Rule{
			steps.AtLeastOneOf("add_roles", "remove_roles", "exact"),
			steps.Matches("server", `^[Hh][Tt][Tt][Pp][Ss]?://\S+$`, "an http:// or https:// URL"),
		},
		Params: withConnection(append(slices.Clone(selectorParams),
			steps.Param{Name: "add_roles", Type: steps.List, Items: steps.String, Doc: "Roles to add to every selected target.", Examples: []any{[]any{"web-live"}}},
			steps.Param{Name: "remove_roles", Type: steps.List, Items: steps.String, Doc: "Roles to remove from every selected target.", Examples: []any{[]any{"web-idle"}}},
			steps.Param{Name: "exact", Type: steps.Map, Doc: "Target id → the exact list of roles it must have; replaces the selection (the undo uses it)."},
			steps.Param{Name: "allow_none", Type: steps.Bool, Default: false, Doc: "Succeed when the selection matches no target (by default that is an error, as it usually means a typo)."},
		)...),
		Outputs: []steps.Output{
			{Name: "matched", Type: steps.Int, Doc: "How many targets the selection matched."},
			{Name: "changed", Type: steps.Int, Doc: "How many targets were written."},
			{Name: "targets", Type: steps.List, Doc: "Names of the changed targets."},
		},
		Mutates:     true,
		Credentials: steps.OctopusCredentials,
		New:         func() steps.Step { return steps.StepFunc(retag) },
	})
}

func retag(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	p := call.Params
	add, remove := p.Strings("add_roles"), p.Strings("remove_roles")
	return editTargets(ctx, call, "octopus.targets.retag", "roles", "Roles",
		func(old []string) []string {
			next := slices.DeleteFunc(slices.Clone(old), func(r string) bool { return slices.Contains(remove, r) })
			for _, r := range add {
				if !slices.Contains(next, r) {
					next = append(next, r)
				}
			}
			return next
		}, len(add)+len(remove) > 0)
}

// editTargets is the shared body of retag and move-environment: select
// the targets (or take the exact map), compute each one's new list,
// journal the old lists as one exact-map undo, then write the targets
// whose list changed. field is the target's list that the step owns
// (Roles or EnvironmentIds): each target is read and written back as the
// server's own JSON with only that field changed, so endpoint types the
// client does not model, tenants and fields of newer servers survive.
func editTargets(ctx context.Context, call *steps.Call, kind, what, field string,
	change func([]string) []string, hasChange bool) (steps.Outputs, error) {
	p := call.Params
	exact := p.Map("exact")
	if len(exact) == 0 && !hasSelector(p) {
		return nil, fmt.Errorf("select targets with role, environment or targets (or give exact)")
	}
	if len(exact) == 0 && !hasChange {
		return nil, fmt.Errorf("nothing to change: give the %s to add or remove", what)
	}
	c, err := connect(ctx, p)
	if err != nil {
		return nil, err
	}
	var ids []string
	if len(exact) > 0 {
		for id := range exact {
			ids = append(ids, id)
		}
		sort.Strings(ids)
	} else {
		sel, err := selectTargets(c, p)
		if err != nil {
			return nil, err
		}
		for _, m := range sel {
			ids = append(ids, m.ID)
		}
	}
	if len(ids) == 0 && !p.Bool("allow_none") {
		return nil, fmt.Errorf("no deployment target in space %s matches role %q, environment %q, targets %v", c.SpaceName, p.String("role"), p.String("environment"), p.Strings("targets"))
	}
	var selected []octopus.Doc
	for _, id := range ids {
		m, err := c.GetDoc(c.Path("/machines/%s", id))
		if err != nil {
			return nil, fmt.Errorf("read deployment target %s: %w", id, err)
		}
		selected = append(selected, m)
	}

	undo := map[string]any{}
	var pending []octopus.Doc
	var next [][]string
	for _, m := range selected {
		old := octopus.DocStrings(m, field)
		var want []string
		if len(exact) > 0 {
			want = toStrings(exact[octopus.DocString(m, "Id")])
		} else {
			want = change(old)
		}
		if sameSet(old, want) {
			continue
		}
		undo[octopus.DocString(m, "Id")] = toAny(old)
		pending = append(pending, m)
		next = append(next, want)
	}
	out := steps.Outputs{"matched": len(selected), "changed": 0, "targets": []any{}}
	if len(pending) == 0 {
		return out, nil
	}
	undoParams := withConnectionOf(p, map[string]any{"exact": undo})
	if err := call.BeforeChange(steps.Undo{Kind: kind, Params: undoParams, Note: fmt.Sprintf("restore the %s of %d deployment targets", what, len(pending))}); err != nil {
		return nil, err
	}
	names := make([]any, len(pending))
	for i, m := range pending {
		id, name := octopus.DocString(m, "Id"), octopus.DocString(m, "Name")
		m[field] = octopus.StringsValue(next[i])
		if _, err := c.PutDoc(c.Path("/machines/%s", id), m); err != nil {
			return nil, fmt.Errorf("update %s of deployment target %s (%s): %w", what, name, id, err)
		}
		names[i] = name
		call.Log.Info().Str("target", name).Strs(what, next[i]).Msg("octopus deployment target updated")
	}
	out["changed"] = len(pending)
	out["targets"] = names
	return out, nil
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func toStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		out = append(out, steps.FormatValue(e))
	}
	return out
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}
