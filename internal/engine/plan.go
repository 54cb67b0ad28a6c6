package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// Plan is the resolved list of steps a run would take, computed without
// any API call that changes anything (detect, which only reads, may run).
type Plan struct {
	Runbook string         `json:"runbook"`
	Live    string         `json:"live"`
	Idle    string         `json:"idle"`
	Phase   string         `json:"phase,omitempty"`
	Inputs  map[string]any `json:"inputs"`
	Steps   []PlanStep     `json:"steps"`
	// Preflight is what a run would check before its first change; its
	// Err is what the run would stop with.
	Preflight *Preflight `json:"preflight,omitempty"`
	// Outline is true for a plan made without the inputs it needs (see
	// Runbook.Outline); Missing names those inputs.
	Outline bool     `json:"outline,omitempty"`
	Missing []string `json:"missing_inputs,omitempty"`
}

// PlanStep is one step in a plan. Params that depend on earlier steps'
// outputs are shown as their expression text.
type PlanStep struct {
	Path    string         `json:"path"`
	Label   string         `json:"label"`
	Uses    string         `json:"uses"`
	Phase   string         `json:"phase"`
	If      string         `json:"if,omitempty"`
	Params  map[string]any `json:"params,omitempty"`
	Gate    string         `json:"gate,omitempty"`
	Mutates bool           `json:"mutates"`
}

// PlanOptions control Plan.
type PlanOptions struct {
	// Live skips detect and assumes this live colour.
	Live string
	// Offline lists the preflight's probes without running them, for a
	// plan made where the systems cannot be reached; values are still
	// checked.
	Offline bool
}

// Plan resolves inputs, colours and the live colour, then every step's
// params as far as they can be known before running.
func (x *Executor) Plan(ctx context.Context, rb *Runbook, raw map[string]any, o PlanOptions) (*Plan, error) {
	inputs, err := rb.ResolveInputs(raw)
	if err != nil {
		return nil, err
	}
	if x.Phase != "" && !contains(rb.Phases, x.Phase) {
		return nil, invalid(rb.File, "unknown phase %q (the runbook's phases: %s)", x.Phase, list(rb.Phases))
	}
	rc := x.newRunCtx(ctx, rb, nil, nil, inputs, x.Phase)
	if err := rc.evalColours(); err != nil {
		return nil, invalid(rb.File, "%s", rc.scrub(err.Error()))
	}
	live := o.Live
	if live == "" {
		stored := ""
		if x.Store != nil {
			if key, _, err := x.stateKey(rb, inputs); err == nil {
				if rec, err := x.Store.Load(ctx, key); err == nil && rec != nil {
					stored = rec.Live
				}
			}
		}
		var inv error
		if live, inv, err = rc.detectChecked(ctx, stored, !o.Offline); inv != nil {
			return nil, inv
		} else if err != nil {
			return nil, fmt.Errorf("detect: %s (pass --live to plan without it)", rc.scrub(err.Error()))
		}
	} else if rb.Colour(live) == nil {
		return nil, invalid(rb.File, "--live: expected one of the colours, found %q", live)
	}
	stub := stateRunStub
	stub.Live, stub.Idle = live, rb.Other(live)
	rc.run = &stub
	p := &Plan{Runbook: rb.Name, Live: live, Idle: rb.Other(live), Phase: x.Phase, Inputs: rc.scrubMap(rb.RedactInputs(inputs))}
	runVals := rc.vals(nil)
	runVals["live"], runVals["idle"] = rc.colours[live], rc.colours[rb.Other(live)]
	rc.planList(rb.Steps, "", runVals, true, p)
	p.Preflight = rc.preflightProbing(ctx, !o.Offline)
	return p, nil
}

func (rc *runCtx) planList(list []*Step, prefix string, vals map[string]any, top bool, p *Plan) {
	for _, st := range list {
		if top && rc.phase != "" && st.Phase != rc.phase {
			continue
		}
		path := prefix + st.seg
		ps := PlanStep{Path: path, Label: st.Label(), Uses: st.Uses, Phase: st.Phase}
		if st.If != nil {
			ps.If = st.If.Source
		}
		if st.Foreach != nil {
			items, err := st.Foreach.Eval(vals)
			rc.noteSecrets(st.Foreach, vals)
			list, ok := items.([]any)
			if err != nil || !ok || st.Foreach.readsSteps() {
				ps.Uses = "foreach " + st.Foreach.source()
				p.Steps = append(p.Steps, ps)
				rc.planList(st.Steps, path+"[*]/", vals, false, p)
				continue
			}
			for i, it := range list {
				inner := map[string]any{}
				for k, v := range vals {
					inner[k] = v
				}
				inner[st.As], inner[st.As+"_index"] = it, i
				rc.planList(st.Steps, fmt.Sprintf("%s[%d]/", path, i), inner, false, p)
			}
			continue
		}
		ps.Mutates = st.Spec.Mutates
		if st.With != nil {
			ps.Params = map[string]any{}
			for i := range st.With.keys {
				k := steps.FormatValue(st.With.keys[i].lit)
				vt := st.With.vals[i]
				if vt.readsSteps() {
					ps.Params[k] = vt.source()
					continue
				}
				v, err := vt.Eval(vals)
				if err != nil {
					ps.Params[k] = vt.source()
					continue
				}
				rc.noteSecrets(vt, vals)
				if prm := st.Spec.Param(k); prm != nil && prm.Sensitive {
					v = steps.Redaction
				}
				ps.Params[k] = rc.scrubValue(v)
			}
		}
		if g := st.Gate; g != nil {
			every, _ := evalDuration(g.everyT, g.Every, vals, "")
			timeout, _ := evalDuration(g.timeoutT, g.Timeout, vals, "")
			ps.Gate = gateText(g, every.String(), timeout.String())
		}
		p.Steps = append(p.Steps, ps)
	}
}

// readsSteps reports whether any expression in the template reads step
// outputs, which are unknown before the run.
func (t *Tmpl) readsSteps() bool {
	for _, e := range t.exprs() {
		for _, id := range e.idents {
			if id == "steps" || strings.HasPrefix(id, "steps.") || strings.HasPrefix(id, "steps[") {
				return true
			}
		}
	}
	return false
}

// source renders a template as written (for plans).
func (t *Tmpl) source() string {
	switch t.kind {
	case tmplExpr:
		return "${{ " + t.expr.Source + " }}"
	case tmplInterp:
		var b strings.Builder
		for _, p := range t.parts {
			if p.expr != nil {
				b.WriteString("${{ " + p.expr.Source + " }}")
			} else {
				b.WriteString(p.text)
			}
		}
		return b.String()
	}
	v, _ := t.Eval(nil)
	return steps.FormatValue(v)
}

// stateRunStub gives vals() a run while planning.
var stateRunStub = state.Run{ID: "plan"}
