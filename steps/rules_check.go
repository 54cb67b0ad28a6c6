package steps

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"
)

// This file checks rules: on the values a step is bound with (Bind), on
// what a runbook says before it runs (the engine's validate and preflight),
// and the rule declarations themselves when a spec is registered.

// CheckRules checks the spec's rules. known holds the typed values that are
// known (given explicitly, not defaulted); unknown names params that are
// written but whose value is not known yet (an expression, before the
// run). A param both known and unknown is a list or map of which only some
// items are known: value rules check those items, length rules wait. A
// param counts as given when it is known and not an empty string;
// cross-field rules treat unknown params as possibly given, so a runbook is
// only rejected for what it certainly does.
func (s *Spec) CheckRules(known Params, unknown map[string]bool) []*ParamError {
	var errs []*ParamError
	for _, p := range s.RuleProblems(known, unknown) {
		errs = append(errs, p.ParamError)
	}
	return errs
}

// RuleProblem is a broken rule: the param it is reported at and, for a
// value inside a list or map, the item's index (int) or key (string), so a
// caller holding the YAML can point at the very value.
type RuleProblem struct {
	*ParamError
	Item any
}

// RuleProblems is CheckRules with the item each problem is about.
func (s *Spec) RuleProblems(known Params, unknown map[string]bool) []RuleProblem {
	var out []RuleProblem
	for _, r := range s.Rules {
		out = append(out, r.check(s, known, unknown)...)
	}
	return out
}

func one(param, msg string) []RuleProblem {
	return []RuleProblem{{&ParamError{Param: param, Msg: msg}, nil}}
}

func isGiven(v any, ok bool) bool {
	if !ok || v == nil {
		return false
	}
	if str, isStr := v.(string); isStr && str == "" {
		return false
	}
	return true
}

func (r Rule) check(s *Spec, known Params, unknown map[string]bool) []RuleProblem {
	given, maybe := 0, 0
	var names []string
	for _, n := range r.params {
		v, ok := known[n]
		if isGiven(v, ok) {
			given++
			names = append(names, n)
		}
		if isGiven(v, ok) || unknown[n] {
			maybe++
		}
	}
	q := dquoteAll(r.params)
	first := r.params[0]
	switch r.kind {
	case ruleExactlyOne:
		if maybe == 0 {
			return one(first, "one of "+orList(q)+" is required")
		}
		if given > 1 {
			return one(names[1], "give only one of "+orList(q)+", found "+andList(dquoteAll(names)))
		}
	case ruleAtMostOne:
		if given > 1 {
			return one(names[1], "give at most one of "+orList(q)+", found "+andList(dquoteAll(names)))
		}
	case ruleAtLeastOne:
		if maybe == 0 {
			return one(first, "at least one of "+orList(q)+" is required")
		}
	case ruleRequires:
		if v, ok := known[first]; !isGiven(v, ok) {
			return nil
		}
		var errs []RuleProblem
		for _, n := range r.params[1:] {
			if v, ok := known[n]; !isGiven(v, ok) && !unknown[n] {
				errs = append(errs, one(first, fmt.Sprintf("needs %q too", n))...)
			}
		}
		return errs
	case ruleRequiredWhen:
		v, ok := known[first]
		if !ok && !unknown[first] {
			if p := s.Param(first); p != nil {
				v, ok = p.Default, p.Default != nil
			}
		}
		if !ok || v != r.equals {
			return nil
		}
		var errs []RuleProblem
		for _, n := range r.params[1:] {
			if nv, ok := known[n]; !isGiven(nv, ok) && !unknown[n] {
				errs = append(errs, one(n, fmt.Sprintf("required when %q is %s", first, FormatValue(r.equals)))...)
			}
		}
		return errs
	case ruleNotAbove:
		a, aok := known[first].(int)
		b, bok := known[r.params[1]].(int)
		if aok && bok && a > b && !unknown[first] && !unknown[r.params[1]] {
			return one(first, fmt.Sprintf("%d is above %q (%d)", a, r.params[1], b))
		}
	default:
		v, ok := known[first]
		if !ok || v == nil {
			return nil
		}
		if unknown[first] && r.kind == ruleLength {
			// Only part of the list or map is known.
			return nil
		}
		sensitive := false
		if p := s.Param(first); p != nil {
			sensitive = p.Sensitive
		}
		return r.checkValue(first, v, sensitive)
	}
	return nil
}

// checkValue checks a value rule against a scalar, each item of a list or
// each value of a map.
func (r Rule) checkValue(param string, v any, sensitive bool) []RuleProblem {
	if r.kind == ruleLength {
		n, unit := -1, "items"
		switch x := v.(type) {
		case string:
			n, unit = len(x), "characters"
		case []any:
			n = len(x)
		case map[string]any:
			n = len(x)
		}
		if n >= 0 && ((r.hasMin && float64(n) < r.min) || (r.hasMax && float64(n) > r.max)) {
			return one(param, fmt.Sprintf("expected %s, found %d", r.lengthText(unit), n))
		}
		return nil
	}
	var errs []RuleProblem
	add := func(item any, where string, x any) {
		msg := r.valueProblem(x)
		if msg == "" {
			return
		}
		if sensitive {
			msg = strings.SplitN(msg, ", found", 2)[0] + " " + notShown
		}
		errs = append(errs, RuleProblem{&ParamError{Param: param, Msg: where + msg}, item})
	}
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			add(i, fmt.Sprintf("item %d: ", i), e)
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			add(k, fmt.Sprintf("value of %q: ", k), x[k])
		}
	default:
		add(nil, "", v)
	}
	return errs
}

// valueProblem returns what is wrong with one value, or "".
func (r Rule) valueProblem(v any) string {
	switch r.kind {
	case ruleRange:
		var f float64
		switch x := v.(type) {
		case int:
			f = float64(x)
		case float64:
			f = x
		default:
			return ""
		}
		if (r.hasMin && f < r.min) || (r.hasMax && f > r.max) || math.IsNaN(f) || (r.open && (f == r.min || f == r.max)) {
			return fmt.Sprintf("expected a number %s, found %s", r.rangeText(false), FormatValue(v))
		}
	case ruleDurationRange:
		d, ok := v.(time.Duration)
		if ok && ((r.hasMin && float64(d) < r.min) || (r.hasMax && float64(d) > r.max)) {
			return fmt.Sprintf("expected a duration %s, found %s", r.rangeText(true), shortDuration(d))
		}
	case ruleDurationChoice:
		d, ok := v.(time.Duration)
		if !ok {
			return ""
		}
		for _, f := range r.durs {
			if d == f {
				return ""
			}
		}
		if d <= 0 || d%r.every != 0 {
			return fmt.Sprintf("expected %s, found %s", r.choiceText(), shortDuration(d))
		}
	case rulePattern:
		// An empty string counts as not given (see CheckRules).
		s, ok := v.(string)
		if ok && s != "" && !r.re.MatchString(s) {
			return fmt.Sprintf("expected %s, found %q", r.doc, userinfo.ReplaceAllString(s, "${1}xxxxx@"))
		}
	}
	return ""
}

// userinfo finds the password of a URL (scheme://user:password@host) so
// that an error quoting a value never shows it.
var userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^@/\s]*@`)

// explicit keeps the bound values of the params that raw gave, leaving out
// defaults: cross-field rules are about what the runbook says.
func explicit(bound Params, raw map[string]any) Params {
	out := Params{}
	for k, v := range bound {
		if r, ok := raw[k]; ok && r != nil {
			out[k] = v
		}
	}
	return out
}

// checkRuleDecls checks that every rule names declared params of a type
// it can apply to.
func (s *Spec) checkRuleDecls() error {
	for _, r := range s.Rules {
		if len(r.params) == 0 {
			return fmt.Errorf("rule without params")
		}
		for _, n := range r.params {
			p := s.Param(n)
			if p == nil {
				return fmt.Errorf("rule %q names undeclared param %q", r.Doc(), n)
			}
			t := p.Type
			if t == List || t == Map {
				t = p.Items
			}
			ok := true
			switch r.kind {
			case ruleRange:
				ok = t == Int || t == Number
			case ruleDurationRange, ruleDurationChoice:
				ok = t == Duration
			case rulePattern:
				ok = t == String
			case ruleLength:
				ok = p.Type == String || p.Type == List || p.Type == Map
			}
			if !ok {
				return fmt.Errorf("rule %q does not apply to param %q of type %s", r.Doc(), n, p.Type)
			}
		}
		if r.kind == ruleNotAbove {
			for _, n := range r.params {
				if s.Param(n).Type != Int {
					return fmt.Errorf("rule %q needs int params", r.Doc())
				}
			}
		}
		if r.kind >= ruleRange && r.kind <= ruleLength && len(r.params) != 1 {
			return fmt.Errorf("rule %q names more than one param", r.Doc())
		}
	}
	return nil
}
