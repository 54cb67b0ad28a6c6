package engine

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// bindRunbook declares inputs as params are declared; its colours and
// steps are rulesRunbook's.
var bindRunbook = `version: 1
name: bind
inputs:
  count: {type: int}
  pw: {type: string, sensitive: true, enum: [alpha, beta], default: alpha}
  tier:
    type: string
    enum: [gold, silver]
` + rulesRunbook[strings.Index(rulesRunbook, "colours:"):]

// TestInputsBindAsParams: given inputs are bound by the code that binds a
// step's params, so a wrong value gets the words a wrong param gets, at
// the input's own line and column; a sensitive input's value is never
// shown, not even when it is outside its enum.
func TestInputsBindAsParams(t *testing.T) {
	rb, err := Parse("bind.yaml", []byte(bindRunbook), testRegistry(newWorld()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = rb.ResolveInputs(map[string]any{"count": "x", "pw": "s3cret-value", "tier": "bronze"})
	var inv *InvalidError
	if !errors.As(err, &inv) || len(inv.Diags) != 3 {
		t.Fatalf("err = %v, want three problems", err)
	}
	for i, want := range []struct {
		at  Pos
		msg string
	}{
		{Pos{4, 3}, `input "count": expected an integer, found "x"`},
		{Pos{5, 3}, `input "pw": expected one of alpha, beta, found another value (not shown: the value is sensitive)`},
		{Pos{6, 3}, `input "tier": expected one of gold, silver, found "bronze"`},
	} {
		d := inv.Diags[i]
		if d.Pos != want.at || d.Message != want.msg {
			t.Errorf("problem %d: %d:%d: %s\nwant %d:%d: %s", i+1, d.Pos.Line, d.Pos.Col, d.Message, want.at.Line, want.at.Col, want.msg)
		}
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the sensitive input's value is in the error: %v", err)
	}
	// The message is the one a step param with the same declaration gets.
	tier := rb.Input("tier").param()
	if _, perr := tier.Check("bronze"); perr == nil || !strings.HasSuffix(inv.Diags[2].Message, ": "+perr.Error()) {
		t.Errorf("input problem %q is not the param problem %v", inv.Diags[2].Message, perr)
	}

	// An input given as null (an empty key in an --inputs file) is not
	// given: a required one is missing, at its declaration; an optional one
	// takes its default.
	_, err = rb.ResolveInputs(map[string]any{"count": nil, "pw": nil, "tier": "gold"})
	if !errors.As(err, &inv) || len(inv.Diags) != 1 {
		t.Fatalf("err = %v, want one problem", err)
	}
	if d := inv.Diags[0]; d.Pos != (Pos{4, 3}) || !strings.HasPrefix(d.Message, `missing required input "count"`) {
		t.Errorf("null count: %d:%d: %s, want the missing input at 4:3", d.Pos.Line, d.Pos.Col, d.Message)
	}
	got, err := rb.ResolveInputs(map[string]any{"count": "3", "pw": nil, "tier": "gold"})
	if err != nil {
		t.Fatal(err)
	}
	if got["count"] != 3 || got["pw"] != "alpha" || got["tier"] != "gold" {
		t.Errorf("inputs = %v", got)
	}
}

// TestLiteralParamCheckedOnce: a param written literally is checked when
// the runbook loads by the check Bind makes when the step runs, so both
// report the same problem in the same words, and neither shows the value
// of a sensitive param.
func TestLiteralParamCheckedOnce(t *testing.T) {
	reg := steps.NewRegistry()
	reg.Register(steps.Spec{
		Kind: "test.login", Title: "Login", Summary: "Logs in.",
		Params: []steps.Param{
			{Name: "mode", Type: steps.String, Doc: "Mode.", Enum: []string{"fast", "slow"}},
			{Name: "pin", Type: steps.Int, Doc: "PIN.", Sensitive: true},
			{Name: "realm", Type: steps.String, Doc: "Realm.", Enum: []string{"staff", "guests"}, Sensitive: true},
		},
		New: func() steps.Step {
			return steps.StepFunc(func(context.Context, *steps.Call) (steps.Outputs, error) { return nil, nil })
		},
	})
	src := `version: 1
name: literal
colours: {blue: {}, green: {}}
steps:
  - uses: test.login
    with: {mode: quick, pin: "12x4", realm: "s3cret-realm"}
`
	_, err := Parse("literal.yaml", []byte(src), reg)
	var inv *InvalidError
	if !errors.As(err, &inv) || len(inv.Diags) != 3 {
		t.Fatalf("err = %v, want three problems", err)
	}
	spec, _ := reg.Lookup("test.login")
	_, perrs := spec.Bind(map[string]any{"mode": "quick", "pin": "12x4", "realm": "s3cret-realm"})
	if len(perrs) != 3 {
		t.Fatalf("Bind: %v, want three problems", perrs)
	}
	for i, at := range []Pos{{6, 18}, {6, 30}, {6, 45}} {
		d, perr := inv.Diags[i], perrs[i]
		if want := "with: " + perr.Param + ": " + perr.Msg; d.Pos != at || d.Message != want {
			t.Errorf("problem %d: %d:%d: %s\nwant %d:%d: %s", i+1, d.Pos.Line, d.Pos.Col, d.Message, at.Line, at.Col, want)
		}
	}
	// The snippet quotes the runbook's own line; the messages say nothing
	// of the values.
	if strings.Contains(inv.Diags[1].Message, "12x4") || strings.Contains(inv.Diags[2].Message, "s3cret") {
		t.Errorf("a sensitive param's value is in a message: %v", inv.Diags)
	}
}

// TestRecoveryKeyInputAtItsLine: when rollback or status cannot find the
// run because inputs are missing, a given input that is wrong is still
// reported at its declaration, not folded into a message without a line.
func TestRecoveryKeyInputAtItsLine(t *testing.T) {
	src := `version: 1
name: keyed
inputs:
  count: {type: int}
  app: {type: string}
key: "${{ inputs.app }}-${{ inputs.count }}"
colours: {blue: {}, green: {}}
steps:
  - uses: test.health
    with: {group: g}
`
	rb, err := Parse("keyed.yaml", []byte(src), testRegistry(newWorld()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = (&Executor{}).KeyFor(rb, map[string]any{"count": "x"})
	var inv *InvalidError
	if !errors.As(err, &inv) || len(inv.Diags) != 2 {
		t.Fatalf("err = %v, want two problems", err)
	}
	if d := inv.Diags[0]; d.Pos != (Pos{}) || !strings.Contains(d.Message, "pass --key, or the inputs that name the application (missing: app)") {
		t.Errorf("first problem: %s", d.Error())
	}
	if d := inv.Diags[1]; d.Pos != (Pos{4, 3}) || d.Message != `input "count": expected an integer, found "x"` {
		t.Errorf("second problem: %s, want the input at 4:3", d.Error())
	}
}
