package engine

import (
	"fmt"
	"strings"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// MissingInputs names the required inputs that raw does not give and that
// have no default, in declaration order.
func (r *Runbook) MissingInputs(raw map[string]any) []string {
	var out []string
	for _, in := range r.Inputs {
		// A null value is not given, as Bind has it (ResolveInputs).
		if v := raw[in.Name]; v == nil && in.Default == nil && in.Required {
			out = append(out, in.Name)
		}
	}
	return out
}

// Outline is the plan of a runbook, or of one of its phases, as written:
// a plan made before the inputs it needs are known. Params, conditions and
// gates are shown as their expressions; nothing is evaluated and nothing
// is called, so it needs no inputs, no detect and no AWS, Octopus or
// database. missing names the inputs a resolved plan still needs.
func (r *Runbook) Outline(phase string, missing []string) (*Plan, error) {
	if phase != "" && !contains(r.Phases, phase) {
		return nil, invalid(r.File, "unknown phase %q (the runbook's phases: %s)", phase, list(r.Phases))
	}
	p := &Plan{Runbook: r.Name, Phase: phase, Outline: true, Missing: missing}
	outlineList(r.Steps, "", phase, p)
	return p, nil
}

func outlineList(list []*Step, prefix, phase string, p *Plan) {
	for _, st := range list {
		if prefix == "" && phase != "" && st.Phase != phase {
			continue
		}
		path := prefix + st.seg
		ps := PlanStep{Path: path, Label: st.Label(), Uses: st.Uses, Phase: st.Phase}
		if st.If != nil {
			ps.If = st.If.Source
		}
		if st.Foreach != nil {
			ps.Uses = "foreach " + st.Foreach.source()
			p.Steps = append(p.Steps, ps)
			outlineList(st.Steps, path+"[*]/", phase, p)
			continue
		}
		ps.Mutates = st.Spec.Mutates
		if st.With != nil {
			ps.Params = map[string]any{}
			for i := range st.With.keys {
				k := steps.FormatValue(st.With.keys[i].lit)
				if prm := st.Spec.Param(k); prm != nil && prm.Sensitive {
					ps.Params[k] = steps.Redaction
					continue
				}
				ps.Params[k] = st.With.vals[i].written()
			}
		}
		if g := st.Gate; g != nil {
			ps.Gate = gateText(g, durationText(g.everyT, g.Every), durationText(g.timeoutT, g.Timeout))
		}
		p.Steps = append(p.Steps, ps)
	}
}

// written is a template's value as written: literals as they are,
// expressions as their text, lists and maps item by item.
func (t *Tmpl) written() any {
	switch t.kind {
	case tmplLiteral:
		return t.lit
	case tmplList:
		out := make([]any, len(t.list))
		for i, it := range t.list {
			out[i] = it.written()
		}
		return out
	case tmplMap:
		out := make(map[string]any, len(t.keys))
		for i := range t.keys {
			out[fmt.Sprint(t.keys[i].written())] = t.vals[i].written()
		}
		return out
	}
	return t.source()
}

// durationText is a gate duration as written: its expression, or the
// literal (with the default filled in).
func durationText(t *Tmpl, lit interface{ String() string }) string {
	if t != nil {
		return t.source()
	}
	return lit.String()
}

// gateText describes a gate for plans and outlines.
func gateText(g *Gate, every, timeout string) string {
	var parts []string
	if g.Until != nil {
		parts = append(parts, "until "+g.Until.Source)
	}
	if g.Fail != nil {
		parts = append(parts, "fail "+g.Fail.Source)
	}
	parts = append(parts, fmt.Sprintf("every %s, timeout %s", every, timeout))
	if g.Passes > 1 {
		parts = append(parts, fmt.Sprintf("passes %d", g.Passes))
	}
	return strings.Join(parts, "; ")
}
