package engine

import (
	"fmt"
	"reflect"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// ruleValue is what is known of one param before or during a run, for
// checking the spec's rules (steps.Rule).
type ruleValue struct {
	// val is the typed value, or the typed known part of a list or map.
	val any
	// known is true when val holds something.
	known bool
	// partial is true when the value (or part of it) is not known yet.
	partial bool
	// at is where the value is written; items maps a list index or map key
	// to the item's own position.
	at    Pos
	items map[any]Pos
}

// ruleProblem is a broken rule with the position to report it at.
type ruleProblem struct {
	at  Pos
	msg string
}

// checkRules checks a step's with: against its spec's rules. vals are the
// values expressions are resolved with: nil when validating (only literal
// values are known), the run's values during preflight (expressions that
// cannot be resolved yet, such as those reading later step outputs, stay
// unknown). stepAt is where problems about missing params are reported.
func checkRules(spec *steps.Spec, with *Tmpl, vals map[string]any, stepAt Pos) []ruleProblem {
	if len(spec.Rules) == 0 {
		return nil
	}
	params := map[string]*ruleValue{}
	if with != nil && with.kind == tmplMap {
		for i := range with.keys {
			name := steps.FormatValue(with.keys[i].lit)
			prm := spec.Param(name)
			if prm == nil {
				continue
			}
			params[name] = ruleParam(prm, with.vals[i], vals)
		}
	}
	known, unknown := steps.Params{}, map[string]bool{}
	for name, rv := range params {
		if rv.known {
			known[name] = rv.val
		}
		if rv.partial || !rv.known {
			unknown[name] = true
		}
	}
	var out []ruleProblem
	for _, p := range spec.RuleProblems(known, unknown) {
		at := stepAt
		if rv := params[p.Param]; rv != nil {
			at = rv.at
			if ip, ok := rv.items[p.Item]; ok && p.Item != nil {
				at = ip
			}
		}
		out = append(out, ruleProblem{at, fmt.Sprintf("with: %s", p.ParamError.Error())})
	}
	return out
}

// ruleParam resolves what can be known of one param's value.
func ruleParam(prm *steps.Param, t *Tmpl, vals map[string]any) *ruleValue {
	rv := &ruleValue{at: t.Pos, items: map[any]Pos{}}
	if v, ok := resolvable(t, vals); ok {
		if v == nil {
			// null: the param is not given.
			return &ruleValue{at: t.Pos, known: true}
		}
		cv, err := steps.Coerce(prm.Type, prm.Items, v)
		if err != nil {
			// The type check reports it; rules wait for a value.
			rv.partial = true
			return rv
		}
		rv.val, rv.known = cv, true
		rv.itemPositions(t, vals)
		return rv
	}
	rv.partial = true
	// A list or map written out in the runbook may hold literal items next
	// to expressions: check those now.
	switch {
	case t.kind == tmplList && prm.Type == steps.List:
		part := map[int]any{}
		for i, e := range t.list {
			if v, ok := resolvable(e, vals); ok {
				if cv, err := steps.Coerce(prm.Items, "", v); err == nil {
					part[i] = cv
					rv.items[i] = e.Pos
				}
			}
		}
		if len(part) > 0 {
			// Unknown items are left out; positions keep their index.
			l := make([]any, len(t.list))
			for i := range l {
				l[i] = part[i]
			}
			rv.val, rv.known = l, true
		}
	case t.kind == tmplMap && prm.Type == steps.Map:
		m := map[string]any{}
		for i := range t.keys {
			v, ok := resolvable(t.vals[i], vals)
			if !ok {
				continue
			}
			cv, err := steps.Coerce(prm.Items, "", v)
			if err != nil {
				continue
			}
			key := t.keys[i].source()
			if k, ok := resolvable(t.keys[i], vals); ok {
				key = steps.FormatValue(k)
			}
			m[key] = cv
			rv.items[key] = t.vals[i].Pos
		}
		if len(m) > 0 {
			rv.val, rv.known = m, true
		}
	}
	return rv
}

// itemPositions records where each item of a fully known list or map is.
func (rv *ruleValue) itemPositions(t *Tmpl, vals map[string]any) {
	switch t.kind {
	case tmplList:
		for i, e := range t.list {
			rv.items[i] = e.Pos
		}
	case tmplMap:
		for i := range t.keys {
			if k, ok := resolvable(t.keys[i], vals); ok {
				rv.items[steps.FormatValue(k)] = t.vals[i].Pos
			}
		}
	}
}

// resolvable evaluates a template when it can be known now: always for a
// literal, and with vals (during preflight) unless it reads step outputs.
func resolvable(t *Tmpl, vals map[string]any) (any, bool) {
	if t.IsLiteral() {
		v, err := t.Eval(nil)
		return v, err == nil
	}
	if vals == nil || t.readsSteps() {
		return nil, false
	}
	v, err := t.Eval(vals)
	return v, err == nil
}

// durationExpr says whether an expression's static type can give a gate's
// or a step's every/timeout. Unlike a param, which Octopus may hand over as
// text, these read inputs that have a declared type: a string there is a
// declaration mistake that would only show when the run reaches the gate.
func durationExpr(typ reflect.Type) bool {
	return typ.Kind() == reflect.Interface || typ == reflect.TypeOf(time.Duration(0))
}

func durationHint(typ reflect.Type) string {
	if typ.Kind() == reflect.String {
		return " (declare the input with type: duration)"
	}
	return ""
}
