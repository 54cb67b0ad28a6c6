package steps

import (
	"fmt"
	"regexp"
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
