package engine

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// PreflightCheck is one readiness probe of a preflight, as a plan shows it.
type PreflightCheck struct {
	What  string   `json:"what"`
	Steps []string `json:"steps"`
	OK    bool     `json:"ok"`
	Error string   `json:"error,omitempty"`
	// Skipped is true when the probe was not run (plan --offline).
	Skipped bool `json:"skipped,omitempty"`
	// Transient is true when the probe failed in a way that says nothing
	// about the configuration (throttling, a server error, no answer in
	// time): a warning, not a reason to stop.
	Transient bool `json:"transient,omitempty"`
}

// Preflight is what a run checks after detect and before its first
// change: every value that depends only on inputs, colours and the live
// colour, resolved and held to its step's spec, and every probe of the
// systems the remaining steps use. Steps whose values depend on earlier
// outputs are listed in Deferred and checked just before they run.
type Preflight struct {
	Checks   []PreflightCheck `json:"checks"`
	Deferred []string         `json:"deferred,omitempty"`
	Problems []*Diagnostic    `json:"problems,omitempty"`
}

// Err returns the preflight's problems as an *InvalidError (exit code 2),
// or nil.
func (p *Preflight) Err() error {
	if p == nil || len(p.Problems) == 0 {
		return nil
	}
	return &InvalidError{Diags: p.Problems}
}

// probeUse is one probe with the steps that need it.
type probeUse struct {
	probe steps.Probe
	paths []string
	pos   []Pos
	err   error
}

type preflighter struct {
	rc       *runCtx
	offline  bool
	seen     map[string]bool
	probes   map[string]*probeUse
	order    []string
	deferred []string
	problems []*Diagnostic
}

// preflight resolves and checks what can be known of the remaining steps
// and probes the systems they use. Problems come back in the report; it
// changes nothing.
func (rc *runCtx) preflight(ctx context.Context) *Preflight {
	return rc.preflightProbing(ctx, true)
}

// preflightProbing is preflight; with probe false the probes are listed
// but not run (a plan made without access to the systems).
func (rc *runCtx) preflightProbing(ctx context.Context, probe bool) *Preflight {
	pf := &preflighter{rc: rc, probes: map[string]*probeUse{}, offline: !probe}
	pf.list(rc.rb.Steps, "", map[string]any{}, true, false)
	if probe {
		pf.runProbes(ctx)
	}
	rep := &Preflight{Deferred: pf.deferred}
	// A failed probe is reported once per position: the iterations of a
	// loop share one, and probes that fail for the same reason at the same
	// step (credentials, then each resource) are one problem.
	type group struct {
		at           Pos
		paths, whats []string
		err          string
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, k := range pf.order {
		u := pf.probes[k]
		c := PreflightCheck{What: u.probe.What, Steps: u.paths, OK: u.err == nil && probe, Skipped: !probe}
		if u.err != nil && isTransient(u.err) {
			// Trouble that says nothing about the configuration: the
			// steps retry it themselves.
			c.Error = rc.scrub(u.err.Error())
			c.Transient = true
			rc.probed[k] = true
			rc.x.emit(rc, &Message{Level: "warn", Text: fmt.Sprintf("preflight: %s: %s (transient: going on, the steps retry)", u.probe.What, c.Error)})
		} else if u.err != nil {
			c.Error = rc.scrub(u.err.Error())
			for i, path := range u.paths {
				gk := fmt.Sprintf("%d:%d|%s", u.pos[i].Line, u.pos[i].Col, c.Error)
				g := byKey[gk]
				if g == nil {
					g = &group{at: u.pos[i], err: c.Error}
					byKey[gk] = g
					groups = append(groups, g)
				}
				if !contains(g.paths, path) {
					g.paths = append(g.paths, path)
				}
				if !contains(g.whats, u.probe.What) {
					g.whats = append(g.whats, u.probe.What)
				}
			}
		} else if probe {
			rc.probed[k] = true
		}
		rep.Checks = append(rep.Checks, c)
	}
	for _, g := range groups {
		pf.add(g.at, "step %s: preflight: %s: %s", strings.Join(g.paths, ", "), strings.Join(g.whats, "; "), g.err)
	}
	sort.SliceStable(pf.problems, func(i, j int) bool {
		a, b := pf.problems[i].Pos, pf.problems[j].Pos
		return a.Line < b.Line || (a.Line == b.Line && a.Col < b.Col)
	})
	rep.Problems = pf.problems
	return rep
}

func (pf *preflighter) add(at Pos, format string, args ...any) {
	msg := pf.rc.scrub(fmt.Sprintf(format, args...))
	// The iterations of a loop share positions: one problem each.
	key := fmt.Sprintf("%d:%d|%s", at.Line, at.Col, stepPrefix.ReplaceAllString(msg, ""))
	if pf.seen == nil {
		pf.seen = map[string]bool{}
	}
	if pf.seen[key] {
		return
	}
	pf.seen[key] = true
	pf.problems = append(pf.problems, &Diagnostic{File: pf.rc.rb.File, Pos: at, Message: msg})
}

// list walks steps the way rc.list runs them. blind is true inside a loop
// whose items are not known yet: nothing there can be resolved, so those
// steps are checked just before they run.
func (pf *preflighter) list(list []*Step, prefix string, locals map[string]any, top, blind bool) {
	rc := pf.rc
	for _, st := range list {
		if top && rc.phase != "" && st.Phase != rc.phase {
			continue
		}
		path := prefix + st.seg
		if rc.done[path] {
			continue
		}
		vals := rc.vals(locals)
		maybe := blind
		if st.If != nil && !blind {
			if exprReadsSteps(st.If) {
				maybe = true
			} else {
				ok, err := st.If.EvalBool(vals)
				if err != nil {
					pf.add(st.If.Pos, "step %s: if: %v", path, err)
					continue
				}
				if !ok {
					continue
				}
			}
		}
		if st.Foreach != nil {
			if maybe || st.Foreach.readsSteps() {
				pf.list(st.Steps, path+"[*]/", locals, false, true)
				continue
			}
			v, err := st.Foreach.Eval(vals)
			if err != nil {
				pf.add(st.Foreach.Pos, "step %s: foreach: %v", path, err)
				continue
			}
			items, _ := v.([]any)
			for i, item := range items {
				inner := map[string]any{}
				for k, v := range locals {
					inner[k] = v
				}
				inner[st.As], inner[st.As+"_index"] = item, i
				pf.list(st.Steps, fmt.Sprintf("%s[%d]/", path, i), inner, false, false)
			}
			continue
		}
		if blind {
			pf.deferred = append(pf.deferred, path)
			continue
		}
		pf.leaf(st, path, vals, maybe)
	}
}

// leaf checks one step's durations and params and collects its probes.
func (pf *preflighter) leaf(st *Step, path string, vals map[string]any, maybe bool) {
	rc := pf.rc
	if st.timeoutT != nil && !st.timeoutT.readsSteps() {
		if _, err := evalDuration(st.timeoutT, st.Timeout, vals, "timeout"); err != nil {
			pf.add(st.timeoutT.Pos, "step %s: %v", path, err)
		}
	}
	if g := st.Gate; g != nil {
		every, timeout, ok := g.Every, g.Timeout, true
		var err error
		if g.everyT != nil {
			if g.everyT.readsSteps() {
				ok = false
			} else if every, err = evalDuration(g.everyT, g.Every, vals, "gate: every"); err != nil {
				pf.add(g.everyT.Pos, "step %s: %v", path, err)
				ok = false
			}
		}
		if g.timeoutT != nil {
			if g.timeoutT.readsSteps() {
				ok = false
			} else if timeout, err = evalDuration(g.timeoutT, g.Timeout, vals, "gate: timeout"); err != nil {
				pf.add(g.timeoutT.Pos, "step %s: %v", path, err)
				ok = false
			}
		}
		if ok {
			if err := checkGateDurations(every, timeout); err != nil {
				pf.add(g.Pos, "step %s: %v", path, err)
			}
		}
	}
	params, unknown := pf.params(st, path, vals)
	if maybe || len(unknown) > 0 {
		pf.deferred = append(pf.deferred, path)
	}
	if maybe || st.Spec.Preflight == nil {
		return
	}
	for _, p := range st.Spec.Preflight(params, func(name string) bool { return !unknown[name] }) {
		u := pf.probes[p.Key]
		if u == nil {
			if rc.probed[p.Key] {
				continue
			}
			u = &probeUse{probe: p}
			pf.probes[p.Key] = u
			pf.order = append(pf.order, p.Key)
		}
		u.paths = append(u.paths, path)
		u.pos = append(u.pos, st.Pos)
	}
}

// params resolves a step's params as far as they are known, reports type
// and rule problems at their positions, and returns the typed known values
// (defaults applied) with the names of those not known yet.
func (pf *preflighter) params(st *Step, path string, vals map[string]any) (steps.Params, map[string]bool) {
	spec := st.Spec
	out, unknown := steps.Params{}, map[string]bool{}
	if st.With != nil && st.With.kind == tmplMap {
		for i := range st.With.keys {
			name := steps.FormatValue(st.With.keys[i].lit)
			prm := spec.Param(name)
			vt := st.With.vals[i]
			if prm == nil {
				continue
			}
			if vt.readsSteps() {
				unknown[name] = true
				continue
			}
			v, err := vt.Eval(vals)
			if err != nil {
				pf.add(vt.Pos, "step %s: with: %s: %v", path, name, err)
				unknown[name] = true
				continue
			}
			if v == nil {
				continue
			}
			cv, err := prm.Check(v)
			if err != nil {
				pf.add(vt.Pos, "step %s: with: %s: %v", path, name, err)
				unknown[name] = true
				continue
			}
			out[name] = cv
		}
	}
	for _, pr := range checkRules(spec, st.With, vals, st.Pos) {
		pf.add(pr.at, "step %s: %s", path, pr.msg)
	}
	for _, prm := range spec.Params {
		if _, ok := out[prm.Name]; !ok && !unknown[prm.Name] && prm.Default != nil {
			out[prm.Name] = prm.Default
		}
	}
	return out, unknown
}

// checkGateDurations holds a gate's resolved every and timeout to what the
// poller accepts: a timeout of zero checks once; above zero it needs a
// polling interval above zero.
func checkGateDurations(every, timeout time.Duration) error {
	if timeout < 0 || (timeout > 0 && every <= 0) {
		return fmt.Errorf("gate: every (%s) must be above zero and timeout (%s) zero or more", every, timeout)
	}
	return nil
}

// stepPrefix is the "step PATH: " a problem starts with.
var stepPrefix = regexp.MustCompile(`^step [^:]*: `)

// exprReadsSteps reports whether an expression reads step outputs.
func exprReadsSteps(e *Expr) bool {
	for _, id := range e.idents {
		if id == "steps" || strings.HasPrefix(id, "steps.") || strings.HasPrefix(id, "steps[") {
			return true
		}
	}
	return false
}

// preflightOrStop runs the preflight of a run and, when it finds problems,
// returns them as an *InvalidError: the run stops before its first change.
func (rc *runCtx) preflightOrStop(ctx context.Context) error {
	start := time.Now()
	rep := rc.preflight(ctx)
	if err := rep.Err(); err != nil {
		return err
	}
	if len(rep.Checks) > 0 || len(rep.Deferred) > 0 {
		whats := make([]string, len(rep.Checks))
		for i, c := range rep.Checks {
			whats[i] = c.What
		}
		text := fmt.Sprintf("preflight passed in %s: %d check(s)", time.Since(start).Round(time.Millisecond), len(rep.Checks))
		if len(whats) > 0 {
			text += " (" + strings.Join(whats, "; ") + ")"
		}
		if len(rep.Deferred) > 0 {
			text += fmt.Sprintf("; %d step(s) checked just before they run, their values depending on earlier outputs", len(rep.Deferred))
		}
		rc.x.emit(rc, &Message{Level: "info", Text: text})
	}
	return nil
}
