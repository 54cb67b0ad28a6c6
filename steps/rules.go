package steps

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Rule is a constraint on a step's params beyond each param's own type:
// which params go together (exactly one of, at most one of, requires) and
// which values the outside system accepts (ranges, patterns, lengths,
// CloudWatch periods). Rules are declared in Spec.Rules, checked by Bind
// on resolved values and by the engine on the literal values of a runbook
// (validate), and shown in docs/steps.md and the JSON Schema.
type Rule struct {
	kind    ruleKind
	params  []string
	min     float64
	max     float64
	hasMin  bool
	hasMax  bool
	durs    []time.Duration
	every   time.Duration
	re      *regexp.Regexp
	pattern string
	doc     string
	equals  any
	open    bool // a range that excludes its bounds
}

type ruleKind int

const (
	ruleExactlyOne ruleKind = iota
	ruleAtMostOne
	ruleAtLeastOne
	ruleRequires
	ruleRange
	ruleDurationRange
	ruleDurationChoice
	rulePattern
	ruleLength
	ruleRequiredWhen
	ruleNotAbove
)

// ExactlyOneOf requires exactly one of the params to be given (an empty
// string counts as not given, so a runbook may pass "" for the other one).
func ExactlyOneOf(params ...string) Rule { return Rule{kind: ruleExactlyOne, params: params} }

// AtMostOneOf allows at most one of the params.
func AtMostOneOf(params ...string) Rule { return Rule{kind: ruleAtMostOne, params: params} }

// AtLeastOneOf requires one or more of the params.
func AtLeastOneOf(params ...string) Rule { return Rule{kind: ruleAtLeastOne, params: params} }

// Requires says that when param is given, each of needs must be given too.
func Requires(param string, needs ...string) Rule {
	return Rule{kind: ruleRequires, params: append([]string{param}, needs...)}
}

// RequiredWhen says that when param has the value equals (given or by
// default), each of needs must be given.
func RequiredWhen(param string, equals any, needs ...string) Rule {
	return Rule{kind: ruleRequiredWhen, params: append([]string{param}, needs...), equals: equals}
}

// NotAbove says that when both are known, param must not be above other
// (an Auto Scaling group's minimum size and its maximum size).
func NotAbove(param, other string) Rule {
	return Rule{kind: ruleNotAbove, params: []string{param, other}}
}

// Between bounds a number: an int or number param, each item of a list,
// each value of a map.
func Between(param string, lo, hi float64) Rule {
	return Rule{kind: ruleRange, params: []string{param}, min: lo, max: hi, hasMin: true, hasMax: true}
}

// Inside bounds a number on both sides, excluding the bounds themselves
// (a significance level is above 0 and below 1).
func Inside(param string, lo, hi float64) Rule {
	r := Between(param, lo, hi)
	r.open = true
	return r
}

// AtLeast bounds a number from below (see Between).
func AtLeast(param string, lo float64) Rule {
	return Rule{kind: ruleRange, params: []string{param}, min: lo, hasMin: true}
}

// DurationAtLeast bounds a duration from below.
func DurationAtLeast(param string, lo time.Duration) Rule {
	return Rule{kind: ruleDurationRange, params: []string{param}, min: float64(lo), hasMin: true}
}

// DurationBetween bounds a duration on both sides.
func DurationBetween(param string, lo, hi time.Duration) Rule {
	return Rule{kind: ruleDurationRange, params: []string{param}, min: float64(lo), max: float64(hi), hasMin: true, hasMax: true}
}

// DurationIn accepts one of the fixed durations or any multiple of every
// (CloudWatch periods: 1s, 5s, 10s, 30s or a multiple of 60s).
func DurationIn(param string, fixed []time.Duration, every time.Duration) Rule {
	return Rule{kind: ruleDurationChoice, params: []string{param}, durs: fixed, every: every}
}

// Matches requires a string (or each string item or map value) to match a
// regular expression; doc says in words what is accepted. The pattern also
// goes into the JSON Schema, where editors evaluate it as an ECMAScript
// regular expression, so it panics (at registration, like every other spec
// mistake) on syntax that only Go understands.
func Matches(param, pattern, doc string) Rule {
	if bad := goOnlySyntax(pattern); bad != "" {
		panic(fmt.Sprintf("steps: rule on %q: pattern %q uses %s, which JSON Schema (ECMAScript) regular expressions do not have", param, pattern, bad))
	}
	return Rule{kind: rulePattern, params: []string{param}, re: regexp.MustCompile(pattern), pattern: pattern, doc: doc}
}

// goOnlySyntax names the first construct in pattern that Go's regexp accepts
// but ECMAScript's does not (inline flags, Python-style named groups, \A and
// \z, POSIX classes), or returns "".
func goOnlySyntax(pattern string) string {
	for _, c := range []struct{ text, name string }{
		{"(?i", "an inline flag"}, {"(?m", "an inline flag"}, {"(?s", "an inline flag"}, {"(?U", "an inline flag"},
		{"(?P<", "a (?P<name>) group"}, {`\A`, `\A`}, {`\z`, `\z`}, {"[[:", "a POSIX class"},
	} {
		if strings.Contains(pattern, c.text) {
			return c.name
		}
	}
	return ""
}

// Length bounds the length of a string, list or map; hi 0 means no upper
// bound.
func Length(param string, lo, hi int) Rule {
	return Rule{kind: ruleLength, params: []string{param}, min: float64(lo), max: float64(hi), hasMin: lo > 0, hasMax: hi > 0}
}

// Params names the params the rule is about, the first being the one a
// problem is reported at.
func (r Rule) Params() []string { return r.params }

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

func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "`" + n + "`"
	}
	return out
}

func dquoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fmt.Sprintf("%q", n)
	}
	return out
}

// PositiveDuration requires a duration above zero.
func PositiveDuration(param string) Rule { return DurationAtLeast(param, 1) }

func orList(q []string) string  { return joinWith(q, "or") }
func andList(q []string) string { return joinWith(q, "and") }

func joinWith(q []string, word string) string {
	switch len(q) {
	case 0:
		return ""
	case 1:
		return q[0]
	case 2:
		return q[0] + " " + word + " " + q[1]
	}
	return strings.Join(q[:len(q)-1], ", ") + " " + word + " " + q[len(q)-1]
}

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
