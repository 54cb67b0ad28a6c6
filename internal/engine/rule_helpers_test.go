package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// drainRegistry is the engine's test registry with one more kind whose
// spec uses the rule helpers no provider uses yet: at most one of
// listener and rule, and a drain time between 1s and 1h. steps is the
// plugin API, so a provider may declare them; this spec holds them to the
// same checks as the rules the providers use.
func drainRegistry(w *world) *steps.Registry {
	r := testRegistry(w)
	r.Register(steps.Spec{
		Kind: "test.drain", Title: "Drain", Summary: "Drains a listener or a rule.", Mutates: true,
		Params: []steps.Param{
			{Name: "listener", Type: steps.String, Doc: "Listener."},
			{Name: "rule", Type: steps.String, Doc: "Rule."},
			{Name: "drain", Type: steps.Duration, Doc: "Drain time.", Default: time.Minute},
		},
		Rules: []steps.Rule{steps.AtMostOneOf("listener", "rule"), steps.DurationBetween("drain", time.Second, time.Hour)},
		New: func() steps.Step {
			return steps.StepFunc(func(ctx context.Context, c *steps.Call) (steps.Outputs, error) {
				w.setSize("drained", 1)
				return nil, nil
			})
		},
	})
	return r
}

const drainRunbook = `version: 1
name: drain
inputs:
  drain: {type: duration, default: 30s}
  rule: {type: string, default: ""}
colours: {blue: {group: web-blue}, green: {group: web-green}}
steps:
  - uses: test.drain
    with: {listener: l-1, rule: "${{ inputs.rule }}", drain: "${{ inputs.drain }}"}
`

// TestAtMostOneOfAndDurationBetween: both rules reject a literal runbook
// when it is validated, at the value that breaks them, and reject resolved
// values when the step's params are bound; values inside the rules pass.
func TestAtMostOneOfAndDurationBetween(t *testing.T) {
	reg := drainRegistry(newWorld())
	spec, ok := reg.Lookup("test.drain")
	if !ok {
		t.Fatal("test.drain is not registered")
	}
	if got := []string{spec.Rules[0].Doc(), spec.Rules[1].Doc()}; got[0] != "At most one of `listener` or `rule` may be given." || got[1] != "`drain`: from 1s to 1h." {
		t.Errorf("docs %q", got)
	}

	// Validate time: literal values.
	for _, c := range []struct {
		with string
		at   Pos
		want string // "" for a valid runbook
	}{
		{`{listener: l-1}`, Pos{}, ""},
		{`{rule: r-1, drain: 1s}`, Pos{}, ""},
		{`{listener: l-1, rule: "", drain: 1h}`, Pos{}, ""},
		{`{}`, Pos{}, ""},
		{`{listener: l-1, rule: r-1}`, Pos{5, 52}, `with: param "rule": give at most one of "listener" or "rule", found "listener" and "rule"`},
		{`{listener: l-1, drain: 2h}`, Pos{5, 53}, `with: param "drain": expected a duration from 1s to 1h, found 2h`},
		{`{drain: 500ms}`, Pos{5, 38}, `with: param "drain": expected a duration from 1s to 1h, found 500ms`},
	} {
		src := "version: 1\nname: drain\ncolours: {blue: {group: web-blue}, green: {group: web-green}}\nsteps:\n  - {uses: test.drain, with: " + c.with + "}\n"
		_, err := Parse("drain.yaml", []byte(src), reg)
		if c.want == "" {
			if err != nil {
				t.Errorf("with %s: %v", c.with, err)
			}
			continue
		}
		var inv *InvalidError
		if !errors.As(err, &inv) || len(inv.Diags) != 1 {
			t.Errorf("with %s: %v; want one problem", c.with, err)
			continue
		}
		if d := inv.Diags[0]; d.Pos != c.at || d.Message != c.want {
			t.Errorf("with %s: %d:%d: %s\nwant %d:%d: %s", c.with, d.Pos.Line, d.Pos.Col, d.Message, c.at.Line, c.at.Col, c.want)
		}
	}

	// Bind time: the values a step is given when it runs (resolved
	// expressions, the journal, step run's --param).
	for _, c := range []struct {
		raw  map[string]any
		want string
	}{
		{map[string]any{"listener": "l-1", "drain": "59m"}, ""},
		{map[string]any{"listener": "l-1", "rule": ""}, ""},
		{map[string]any{"rule": "r-1", "drain": time.Second}, ""},
		{map[string]any{"listener": "l-1", "rule": "r-1"}, `param "rule": give at most one of "listener" or "rule", found "listener" and "rule"`},
		{map[string]any{"drain": "61m"}, `param "drain": expected a duration from 1s to 1h, found 1h1m`},
		{map[string]any{"drain": "999ms"}, `param "drain": expected a duration from 1s to 1h, found 999ms`},
	} {
		_, errs := spec.Bind(c.raw)
		var got []string
		for _, e := range errs {
			got = append(got, e.Error())
		}
		if (c.want == "" && len(got) != 0) || (c.want != "" && (len(got) != 1 || got[0] != c.want)) {
			t.Errorf("bind %v = %q, want %q", c.raw, got, c.want)
		}
	}

	// A run whose expressions resolve to values the rules refuse changes
	// nothing; one whose values pass runs the step.
	h := newHarness(t)
	h.reg = drainRegistry(h.w)
	rb := h.load(drainRunbook)
	for _, bad := range []map[string]any{{"drain": "2h"}, {"rule": "r-1"}} {
		_, err := h.exec("").Run(context.Background(), rb, bad)
		if err == nil || h.w.size("drained") != 0 {
			t.Fatalf("run with %v = %v, drained %d; want refused before the step", bad, err, h.w.size("drained"))
		}
		if want := map[bool]string{true: `expected a duration from 1s to 1h, found 2h`, false: `give at most one of "listener" or "rule"`}[bad["drain"] != nil]; !strings.Contains(err.Error(), want) {
			t.Errorf("run with %v: %v, want %q", bad, err, want)
		}
	}
	if _, err := h.exec("").Run(context.Background(), rb, map[string]any{"drain": "45m"}); err != nil || h.w.size("drained") != 1 {
		t.Fatalf("run with drain 45m = %v, drained %d", err, h.w.size("drained"))
	}
}
