package engine

import (
	"encoding/json"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// exprString matches a value written as a ${{ }} expression, accepted for
// every param type because its type is only known when it runs.
var exprString = map[string]any{"type": "string", "pattern": `\$\{\{`}

// Schema renders the runbook JSON Schema (draft 2020-12) from a registry:
// the runbook's own keys, then one `if uses == kind then with = params`
// branch per step kind, so editors complete `uses:` and `with:` keys and
// flag unknown ones. Output is deterministic.
func Schema(reg *steps.Registry) []byte {
	var kinds []any
	var branches []any
	for _, s := range reg.All() {
		kinds = append(kinds, s.Kind)
		props := map[string]any{}
		var required []string
		for _, p := range s.Params {
			props[p.Name] = paramSchema(p)
			if p.Required {
				required = append(required, p.Name)
			}
		}
		with := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			with["required"] = required
		}
		applyRules(s, props, with)
		branches = append(branches, map[string]any{
			"if":   map[string]any{"properties": map[string]any{"uses": map[string]any{"const": s.Kind}}, "required": []string{"uses"}},
			"then": map[string]any{"properties": map[string]any{"with": with}},
		})
	}
	duration := map[string]any{"anyOf": []any{map[string]any{"type": "string", "pattern": `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`}, exprString}}
	condition := map[string]any{"type": "string", "description": "An expr-lang expression (bare or inside ${{ }})."}
	gate := map[string]any{
		"type": "object", "additionalProperties": false,
		"properties": map[string]any{
			"until":      withDoc(condition, "Poll until this holds."),
			"fail":       withDoc(condition, "Fail the step at once when this holds."),
			"every":      withDoc(duration, "Time between polls (default 10s)."),
			"timeout":    withDoc(duration, "Fail when until has not held by then (default 10m)."),
			"passes":     map[string]any{"type": "integer", "minimum": 1, "description": "Consecutive passes needed (default 1)."},
			"max_errors": map[string]any{"type": "integer", "minimum": 0, "description": "Give up after this many consecutive step errors (0: retry until timeout)."},
		},
	}
	step := map[string]any{
		"type": "object", "additionalProperties": false,
		"properties": map[string]any{
			"id":      map[string]any{"type": "string", "pattern": "^[a-z][a-z0-9_-]*$", "description": "Name for steps.<id> references."},
			"name":    map[string]any{"type": "string"},
			"uses":    map[string]any{"enum": kinds, "description": "The step kind (bluegreen steps lists them)."},
			"with":    map[string]any{"type": "object"},
			"if":      withDoc(condition, "Skip the step when false."),
			"gate":    gate,
			"foreach": map[string]any{"anyOf": []any{map[string]any{"type": "array"}, exprString}, "description": "Repeat the nested steps for each item."},
			"as":      map[string]any{"type": "string", "pattern": "^[a-z_][a-z0-9_]*$", "description": "The loop variable (default item)."},
			"steps":   map[string]any{"type": "array", "items": map[string]any{"$ref": "#/$defs/step"}},
			"phase":   map[string]any{"type": "string", "pattern": "^[a-z][a-z0-9_-]*$", "description": "Starts a phase (bluegreen run --phase)."},
			"timeout": withDoc(duration, "Fail the step when it takes longer."),
		},
		"allOf": branches,
	}
	input := map[string]any{
		"type": "object", "additionalProperties": false,
		"properties": map[string]any{
			"type":        map[string]any{"enum": []any{"string", "int", "number", "bool", "duration", "list", "map"}},
			"description": map[string]any{"type": "string"},
			"default":     map[string]any{},
			"required":    map[string]any{"type": "boolean"},
			"sensitive":   map[string]any{"type": "boolean"},
			"enum":        map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
			"validate": map[string]any{
				"type":        "array",
				"description": "Rules the value must meet, checked in order before anything runs (and for the default at load).",
				"items": map[string]any{
					"type": "object", "additionalProperties": false, "required": []string{"rule"},
					"properties": map[string]any{
						"rule":    withDoc(condition, "A condition over value (the input's typed value), e.g. len(value) > 0."),
						"message": map[string]any{"type": "string", "description": "What is expected, shown when the rule fails."},
					},
				},
			},
		},
	}
	root := map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"$id":                  "https://github.com/bluegreen-deploy/bluegreen/runbooks/runbook.schema.json",
		"title":                "bluegreen runbook",
		"type":                 "object",
		"additionalProperties": false,
		"required":             []string{"version", "name", "colours", "steps"},
		"patternProperties":    map[string]any{"^x-": map[string]any{"description": "Ignored by bluegreen: holds anchors for aliases and merge keys (<<: *name)."}},
		"properties": map[string]any{
			"version":     map[string]any{"const": 1},
			"name":        map[string]any{"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]*$"},
			"description": map[string]any{"type": "string"},
			"inputs":      map[string]any{"type": "object", "additionalProperties": input},
			"colours": map[string]any{"type": "object", "minProperties": 2, "maxProperties": 2,
				"additionalProperties": map[string]any{"type": "object"}},
			"detect": map[string]any{"type": "object", "additionalProperties": false, "required": []string{"uses", "live"},
				"properties": map[string]any{"uses": map[string]any{"enum": kinds}, "with": map[string]any{"type": "object"}, "live": condition}},
			"steps":      map[string]any{"type": "array", "minItems": 1, "items": map[string]any{"$ref": "#/$defs/step"}},
			"on_failure": map[string]any{"enum": []any{"rollback", "stop"}},
			"key": map[string]any{"type": "string", "description": "The state key: names the application whose journal, lock and live colour the run keeps, " +
				"e.g. ${{ inputs.listener_arn }} (inputs and colours). Default: the runbook name and a digest of the colours' resolved attributes."},
		},
		"$defs": map[string]any{"step": step},
	}
	b, _ := json.MarshalIndent(root, "", "  ")
	return append(b, '\n')
}

func withDoc(m map[string]any, doc string) map[string]any {
	out := map[string]any{"description": doc}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func paramSchema(p steps.Param) map[string]any {
	var typed map[string]any
	switch p.Type {
	case steps.String:
		typed = map[string]any{"type": "string"}
		if len(p.Enum) > 0 {
			typed["enum"] = p.Enum
		}
	case steps.Int:
		typed = map[string]any{"type": "integer"}
	case steps.Number:
		typed = map[string]any{"type": "number"}
	case steps.Bool:
		typed = map[string]any{"type": "boolean"}
	case steps.Duration:
		typed = map[string]any{"type": "string", "pattern": `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`}
	case steps.List:
		typed = map[string]any{"type": "array"}
	case steps.Map:
		typed = map[string]any{"type": "object"}
	default:
		typed = map[string]any{}
	}
	out := map[string]any{"description": p.Doc, "anyOf": []any{typed, exprString}}
	if p.Default != nil {
		d := p.Default
		if p.Type == steps.Duration {
			d = steps.FormatValue(d)
		}
		out["default"] = d
	}
	if len(p.Examples) > 0 {
		ex := make([]any, len(p.Examples))
		for i, e := range p.Examples {
			ex[i] = steps.Normalize(e)
		}
		out["examples"] = ex
	}
	return out
}
