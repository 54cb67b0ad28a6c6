package engine

import "testing"

// TestEvalReadsEveryNamedField checks that evaluating an expression still
// sees every top-level name it reads now that Eval converts only those:
// names reached through $env, a computed index or a
// predicate must all hold their values, not zero ones.
func TestEvalReadsEveryNamedField(t *testing.T) {
	const book = `version: 1
name: fields
inputs:
  zone: {type: string, default: Z1}
  weights: {type: list, default: [10, 50, 100]}
colours:
  blue: {asg: web-blue}
  green: {asg: web-green}
steps:
  - id: check
    uses: test.health
    with: {group: web-blue}
  - id: env
    uses: test.health
    if: '$env.inputs.zone == "Z1" && $env["live"].asg == "web-blue"'
    with: {group: web-blue}
  - id: index
    uses: test.health
    if: 'inputs.weights[steps.check.healthy] == 100 && idle.asg == "web-green" && colours.green.asg == idle.asg'
    with: {group: web-blue}
  - id: predicate
    uses: test.health
    if: 'all(inputs.weights, # >= steps.check.healthy) && len(filter(inputs.weights, # > 10)) == 2'
    with: {group: web-blue}
`
	rb, err := Parse("fields.yaml", []byte(book), testRegistry(newWorld()))
	if err != nil {
		t.Fatal(err)
	}
	blue := map[string]any{"name": "blue", "asg": "web-blue"}
	green := map[string]any{"name": "green", "asg": "web-green"}
	vals := map[string]any{
		"inputs":  map[string]any{"zone": "Z1", "weights": []any{10, 50, 100}},
		"colours": map[string]any{"blue": blue, "green": green},
		"live":    blue, "idle": green,
		"steps": map[string]any{"check": map[string]any{"healthy": 2, "total": 3}},
		"run":   map[string]any{"id": "r1", "phase": "main"},
	}
	for _, s := range rb.Steps[1:] {
		ok, err := s.If.EvalBool(vals)
		if err != nil || !ok {
			t.Errorf("step %s: if %q = %v, %v; want true", s.ID, s.If.Source, ok, err)
		}
	}
	if got := rb.Steps[1].If.fields; got != nil {
		t.Errorf("an expression reading $env converts fields %v, want all (nil)", got)
	}
}
