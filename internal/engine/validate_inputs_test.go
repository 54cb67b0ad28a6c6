package engine

import (
	"errors"
	"strings"
	"testing"
)

const rulesRunbook = `version: 1
name: rules
inputs:
  weights:
    type: list
    default: [10, 50, 100]
    validate:
      - rule: len(value) > 0
        message: expected at least one weight
      - rule: "all(value, {type(#) in ['int', 'float'] && # >= 0 && # <= 100})"
        message: expected every weight to be a number from 0 to 100
      - rule: "all(1..len(value)-1, {value[# - 1] < value[#]})"
        message: expected the weights to be strictly increasing
      - rule: last(value) == 100
        message: expected the last weight to be 100
  pw:
    type: string
    sensitive: true
    validate:
      - rule: len(value) >= 8
        message: expected at least 8 characters
  zone: {type: string}
colours:
  blue: {group: web-blue}
  green: {group: web-green}
steps:
  - uses: test.health
    with: {group: "${{ live.group }}"}
`

// TestInputRules: a weight list that makes no sense is refused before
// anything runs, at the input's own line, with the rule's message; a
// sensitive value is never quoted.
func TestInputRules(t *testing.T) {
	rb, err := Parse("rules.yaml", []byte(rulesRunbook), testRegistry(newWorld()))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ weights, want string }{
		{"[]", `input "weights": expected at least one weight, found an empty list (rule 1: len(value) > 0)`},
		{"[50]", `input "weights": expected the last weight to be 100, found [50] (rule 4: last(value) == 100)`},
		{"[50, 10, 100]", "expected the weights to be strictly increasing"},
		{"[10, 10, 100]", "expected the weights to be strictly increasing"},
		{"[10, 150]", "expected every weight to be a number from 0 to 100"},
		{"[-5, 100]", "expected every weight to be a number from 0 to 100"},
		{`["a", 100]`, "expected every weight to be a number from 0 to 100"},
	} {
		_, err := rb.ResolveInputs(map[string]any{"weights": c.weights, "pw": "long enough", "zone": "Z"})
		var inv *InvalidError
		if !errors.As(err, &inv) || len(inv.Diags) != 1 {
			t.Fatalf("weights=%s: err = %v, want one problem", c.weights, err)
		}
		if d := inv.Diags[0]; !strings.Contains(d.Message, c.want) || d.Pos != (Pos{4, 3}) {
			t.Errorf("weights=%s: %s, want %q at 4:3", c.weights, d.Error(), c.want)
		}
	}
	for _, ok := range []string{"[100]", "[10, 50, 100]", "[0, 100]", "[12.5, 100]"} {
		if _, err := rb.ResolveInputs(map[string]any{"weights": ok, "pw": "long enough", "zone": "Z"}); err != nil {
			t.Errorf("weights=%s: %v", ok, err)
		}
	}
	// A sensitive input's rule says what is wrong, never the value; a
	// missing input points at its declaration, not at line 1.
	_, err = rb.ResolveInputs(map[string]any{"pw": "s3cr"})
	var inv *InvalidError
	if !errors.As(err, &inv) || len(inv.Diags) != 2 {
		t.Fatalf("err = %v, want two problems", err)
	}
	if d := inv.Diags[0]; strings.Contains(d.Message, "s3cr") || !strings.Contains(d.Message, `input "pw": expected at least 8 characters (rule 1`) || d.Pos != (Pos{16, 3}) {
		t.Errorf("sensitive rule: %s", d.Error())
	}
	if d := inv.Diags[1]; !strings.Contains(d.Message, `missing required input "zone"`) || d.Pos != (Pos{22, 3}) {
		t.Errorf("missing input: %s, want it at 22:3", d.Error())
	}
}

// TestInputRuleDefaultsAtLoad: a default that breaks its own rules, a rule
// that is not a condition and a rule over a name that does not exist are
// load errors at their positions.
func TestInputRuleDefaultsAtLoad(t *testing.T) {
	src := `version: 1
name: rules
inputs:
  weights:
    type: list
    default: [50]
    validate:
      - {rule: "last(value) == 100", message: expected the last weight to be 100}
      - {rule: "len(value)"}
      - {rule: "inputs.other > 1"}
      - {message: no rule}
colours:
  blue: {group: web-blue}
  green: {group: web-green}
steps:
  - uses: test.health
    with: {group: "${{ live.group }}"}
`
	_, err := Parse("rules.yaml", []byte(src), testRegistry(newWorld()))
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("err = %v", err)
	}
	got := inv.Error()
	for _, want := range []string{
		`rules.yaml:6:14: input weights: default: expected the last weight to be 100, found [50]`,
		`rules.yaml:9:17: input weights: validate: rule 2: rule: expected a bool`,
		`rules.yaml:10:17: unknown name "inputs"`,
		`rules.yaml:11:9: input weights: validate: rule 4: missing key "rule"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}
