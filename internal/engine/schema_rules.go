package engine

import (
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// applyRules adds what JSON Schema can say of a spec's rules to the schema
// of its with: object, so editors flag what validate flags: ranges and
// patterns on values (also on each item of a list or value of a map),
// lengths, which params go together. Every value rule is also written into
// the param's description.
func applyRules(s *steps.Spec, props map[string]any, with map[string]any) {
	var all []any
	for _, r := range s.Rules {
		rs := r.Schema(s)
		if rs.With != nil {
			all = append(all, rs.With)
			continue
		}
		prop, _ := props[rs.Param].(map[string]any)
		prm := s.Param(rs.Param)
		if prop == nil || prm == nil {
			continue
		}
		alts, _ := prop["anyOf"].([]any)
		if len(alts) == 0 {
			continue
		}
		typed, _ := alts[0].(map[string]any)
		for k, v := range rs.Container {
			typed[k] = v
		}
		if len(rs.Value) > 0 {
			target := typed
			if prm.Type == steps.List || prm.Type == steps.Map {
				target = itemSchema(typed, prm)
			}
			for k, v := range rs.Value {
				target[k] = v
			}
		}
	}
	for _, p := range s.Params {
		if doc := s.ParamRuleDocs(p.Name); doc != "" {
			if prop, ok := props[p.Name].(map[string]any); ok {
				prop["description"] = p.Doc + " " + doc
			}
		}
	}
	if len(all) > 0 {
		with["allOf"] = all
	}
}

// itemSchema returns (creating it) the typed schema of a list's items or a
// map's values, which may also be written as an expression.
func itemSchema(typed map[string]any, prm *steps.Param) map[string]any {
	key := "items"
	if prm.Type == steps.Map {
		key = "additionalProperties"
	}
	if wrap, ok := typed[key].(map[string]any); ok {
		alts := wrap["anyOf"].([]any)
		return alts[0].(map[string]any)
	}
	inner := map[string]any{}
	switch prm.Items {
	case steps.Int:
		inner["type"] = "integer"
	case steps.Number:
		inner["type"] = "number"
	case steps.String:
		inner["type"] = "string"
	}
	typed[key] = map[string]any{"anyOf": []any{inner, exprString}}
	return inner
}
