package steps

import (
	"bytes"
	"strings"
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
