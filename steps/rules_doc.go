package steps

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// writeRules lists a spec's rules under its params in docs/steps.md.
func writeRules(b *bytes.Buffer, s *Spec) {
	if len(s.Rules) == 0 {
		return
	}
	b.WriteString("**Rules** (checked by `bluegreen validate` on written values and before the first change on resolved ones):\n\n")
	for _, r := range s.Rules {
		b.WriteString("- " + r.DocIn(s) + "\n")
	}
	b.WriteString("\n")
}

// RuleSchema is how a rule shows in the runbook JSON Schema.
type RuleSchema struct {
	// Param is the param the keywords apply to ("" for With).
	Param string
	// Value holds keywords for the param's value, or for each item of a
	// list or each value of a map (minimum, maximum, pattern).
	Value map[string]any
	// Container holds keywords for a list, map or string as a whole
	// (minItems, maxProperties, minLength, ...).
	Container map[string]any
	// With holds keywords for the with: object (dependentRequired, anyOf
	// of required lists).
	With map[string]any
}

// Schema returns the JSON Schema keywords that express the rule; rules
// that JSON Schema cannot say (duration bounds, CloudWatch periods, a
// minimum below a maximum) only add their Doc to the param's description.
func (r Rule) Schema(s *Spec) RuleSchema {
	out := RuleSchema{Param: r.params[0]}
	switch r.kind {
	case ruleExactlyOne, ruleAtLeastOne:
		// Written, not necessarily given: a runbook may pass "" through
		// an expression for the other one, which validate accepts too.
		var alts []any
		for _, p := range r.params {
			alts = append(alts, map[string]any{"required": []string{p}})
		}
		out.Param, out.With = "", map[string]any{"anyOf": alts}
	case ruleRequires:
		out.Param, out.With = "", map[string]any{"dependentRequired": map[string]any{r.params[0]: r.params[1:]}}
	case ruleRange:
		out.Value = map[string]any{}
		lo, hi := "minimum", "maximum"
		if r.open {
			lo, hi = "exclusiveMinimum", "exclusiveMaximum"
		}
		if r.hasMin {
			out.Value[lo] = r.min
		}
		if r.hasMax {
			out.Value[hi] = r.max
		}
	case rulePattern:
		out.Value = map[string]any{"pattern": r.pattern}
	case ruleLength:
		lo, hi := "minItems", "maxItems"
		if p := s.Param(r.params[0]); p != nil {
			switch p.Type {
			case Map:
				lo, hi = "minProperties", "maxProperties"
			case String:
				lo, hi = "minLength", "maxLength"
			}
		}
		out.Container = map[string]any{}
		if r.hasMin {
			out.Container[lo] = int(r.min)
		}
		if r.hasMax {
			out.Container[hi] = int(r.max)
		}
	}
	return out
}

// ParamRuleDocs returns the docs of the value rules about one param, for
// its description in the schema and in Octopus templates.
func (s *Spec) ParamRuleDocs(name string) string {
	var parts []string
	for _, r := range s.Rules {
		if r.params[0] == name && (r.kind >= ruleRange && r.kind <= ruleLength) {
			d := r.DocIn(s)
			d = strings.TrimPrefix(d, "`"+name+"`: ")
			parts = append(parts, strings.ToUpper(d[:1])+d[1:])
		}
	}
	return strings.Join(parts, " ")
}

// Doc says the rule in words, for docs, schema and templates.
func (r Rule) Doc() string {
	q := quoteAll(r.params)
	switch r.kind {
	case ruleExactlyOne:
		return "Exactly one of " + orList(q) + " is required."
	case ruleAtMostOne:
		return "At most one of " + orList(q) + " may be given."
	case ruleAtLeastOne:
		return "At least one of " + orList(q) + " is required."
	case ruleRequires:
		return q[0] + " requires " + andList(q[1:]) + "."
	case ruleRange:
		return q[0] + ": " + r.rangeText(false) + "."
	case ruleDurationRange:
		return q[0] + ": " + r.rangeText(true) + "."
	case ruleDurationChoice:
		return q[0] + ": " + r.choiceText() + "."
	case rulePattern:
		return q[0] + ": " + r.doc + "."
	case ruleLength:
		return q[0] + ": " + r.lengthText("items") + "."
	case ruleRequiredWhen:
		return fmt.Sprintf("%s %s requires %s.", q[0], FormatValue(r.equals), andList(q[1:]))
	case ruleNotAbove:
		return q[0] + " must not be above " + q[1] + "."
	}
	return ""
}

func (r Rule) rangeText(dur bool) string {
	f := func(x float64) string {
		if dur {
			return shortDuration(time.Duration(x))
		}
		return FormatValue(x)
	}
	switch {
	case r.open:
		return fmt.Sprintf("above %s and below %s", f(r.min), f(r.max))
	case r.hasMin && r.hasMax:
		return fmt.Sprintf("from %s to %s", f(r.min), f(r.max))
	case r.hasMin && dur && r.min == 1:
		return "above zero"
	case r.hasMin:
		return "at least " + f(r.min)
	default:
		return "at most " + f(r.max)
	}
}

func (r Rule) choiceText() string {
	parts := make([]string, len(r.durs))
	for i, d := range r.durs {
		parts[i] = shortDuration(d)
	}
	return strings.Join(parts, ", ") + " or a multiple of " + fmt.Sprintf("%gs", r.every.Seconds())
}

// lengthText says the bounds; unit is "items" or "characters".
func (r Rule) lengthText(unit string) string {
	one := strings.TrimSuffix(unit, "s")
	switch {
	case r.hasMin && r.hasMax && r.min == r.max:
		return fmt.Sprintf("exactly %d %s", int(r.min), unit)
	case r.hasMin && r.hasMax:
		return fmt.Sprintf("%d to %d %s", int(r.min), int(r.max), unit)
	case r.hasMin && r.min == 1 && unit == "characters":
		return "not empty"
	case r.hasMin && r.min == 1:
		return "at least 1 " + one
	case r.hasMin:
		return fmt.Sprintf("at least %d %s", int(r.min), unit)
	default:
		return fmt.Sprintf("at most %d %s", int(r.max), unit)
	}
}

// DocIn is Doc with the spec at hand: a length of a string param is
// counted in characters.
func (r Rule) DocIn(s *Spec) string {
	if r.kind == ruleLength {
		if p := s.Param(r.params[0]); p != nil && p.Type == String {
			return "`" + r.params[0] + "`: " + r.lengthText("characters") + "."
		}
	}
	return r.Doc()
}
