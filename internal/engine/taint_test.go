package engine

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

const taintRunbook = `version: 1
name: taint
inputs:
  pw: {type: string, sensitive: true}
  pin: {type: string, sensitive: true}
  names: {type: list, default: [a, b]}
colours:
  a: {auth: "basic ${{ toBase64('admin:' + inputs.pw) }}"}
  b: {auth: none}
steps:
  - uses: test.leaky
    with: {v: "${{ upper(inputs.pw) }}"}
  - uses: test.leaky
    with: {v: "${{ live.auth }}"}
  - foreach: "${{ map(inputs.names, {# + '-' + inputs.pw}) }}"
    as: name
    steps:
      - uses: test.leaky
        with: {v: "user ${{ name }}"}
  - uses: test.leaky
    with: {v: "pin ${{ inputs.pin }} len ${{ len(inputs.pw) }} upper ${{ upper(inputs.names[0]) }}"}
`

// TestDerivedSecretsMasked: values computed from a sensitive input
// (upper, toBase64, concatenation, through a colour attribute or a
// foreach variable) used to appear in clear in logs, plan and report.
// They are secrets too: masked in the log, the events, the plan and the
// state. A one-character secret is masked as well.
func TestDerivedSecretsMasked(t *testing.T) {
	h := newHarness(t)
	registerLeaky(h.reg)
	const pw = "Hunter2pass"
	derived := []string{
		strings.ToUpper(pw),
		base64.StdEncoding.EncodeToString([]byte("admin:" + pw)),
		"a-" + pw, "b-" + pw,
	}
	var logBuf bytes.Buffer
	sw := NewSecretWriter(&logBuf)
	x := h.exec("")
	x.Log, x.Secrets = zerolog.New(sw), sw
	rb := h.load(taintRunbook)
	in := map[string]any{"pw": pw, "pin": "7"}
	if _, err := x.Run(context.Background(), rb, in); err != nil {
		t.Fatal(err)
	}
	plan, err := x.Plan(context.Background(), rb, in, PlanOptions{Live: "a"})
	if err != nil {
		t.Fatal(err)
	}
	events, _ := json.Marshal(h.rec.events)
	planJSON, _ := json.Marshal(plan)
	var stateText []byte
	files, _ := filepath.Glob(filepath.Join(h.dir, "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		stateText = append(stateText, b...)
	}
	for what, text := range map[string]string{"log": logBuf.String(), "events": string(events), "plan": string(planJSON), "state": string(stateText)} {
		for _, s := range append(derived, pw, "pin 7") {
			if strings.Contains(text, s) {
				t.Errorf("%s holds the secret %q:\n%s", what, s, text)
			}
		}
	}
	// What is not secret stays readable: the length of the password is a
	// number, the upper-cased name does not come from a secret.
	if !strings.Contains(logBuf.String(), "careless: pin *** len 11 upper A") {
		t.Errorf("the log masks too much or too little:\n%s", logBuf.String())
	}
}

func TestReadPathsAndTaintRefs(t *testing.T) {
	h := newHarness(t)
	registerLeaky(h.reg)
	rb := h.load(taintRunbook)
	got := map[string]exprTaint{}
	var walk func([]*Step)
	walk = func(list []*Step) {
		for _, st := range list {
			for _, e := range st.With.exprs() {
				got[e.Source] = e.taint
			}
			for _, e := range st.Foreach.exprs() {
				got[e.Source] = e.taint
			}
			walk(st.Steps)
		}
	}
	walk(rb.Steps)
	want := map[string]exprTaint{
		"upper(inputs.pw)": {tainted: true, ref: "upper(inputs.pw)"},
		"live.auth":        {tainted: true},
		"map(inputs.names, {# + '-' + inputs.pw})": {tainted: true, ref: "map(inputs.names, {# + '-' + inputs.pw})"},
		"name":                   {tainted: true},
		"inputs.pin":             {tainted: true, ref: "inputs.pin"},
		"len(inputs.pw)":         {tainted: true, ref: "len(inputs.pw)"},
		"upper(inputs.names[0])": {},
	}
	for src, w := range want {
		if got[src] != w {
			t.Errorf("%s: taint %+v, want %+v", src, got[src], w)
		}
	}
}

// registerLeaky adds a step that logs its param and returns it: the
// careless step secrets must survive.
func registerLeaky(reg *steps.Registry) {
	reg.Register(steps.Spec{
		Kind: "test.leaky", Title: "Leaky", Summary: "Logs its param and returns it.",
		Params:  []steps.Param{{Name: "v", Type: steps.String, Doc: "Value."}},
		Outputs: []steps.Output{{Name: "echo", Type: steps.String, Doc: "The value."}},
		New: func() steps.Step {
			return steps.StepFunc(func(ctx context.Context, c *steps.Call) (steps.Outputs, error) {
				c.Log.Info().Msg("careless: " + c.Params.String("v"))
				return steps.Outputs{"echo": c.Params.String("v")}, nil
			})
		},
	})
}

// TestRollbackRefusesAMaskedValue: a journal that holds *** inside an
// undo's list (as journals did before references) is not run: the undo
// fails with a message instead of running the mask and reporting success.
func TestRollbackRefusesAMaskedValue(t *testing.T) {
	h := newHarness(t)
	rb := h.load("version: 1\nname: masked\ninputs: {pw: {type: string, sensitive: true}}\ncolours: {a: {}, b: {}}\nsteps:\n  - uses: test.health\n    with: {group: g}\n")
	rc := &runCtx{rb: rb, inputs: map[string]any{"pw": "x"}, secrets: &secretSet{}}
	if _, err := rc.resolveJournaled([]any{"run", "***"}); !errors.Is(err, errMasked) {
		t.Fatalf("err = %v, want errMasked", err)
	}
	got, err := rc.resolveJournaled(map[string]any{"argv": []any{"--pw=${{ inputs.pw }}", "$${{ literal }}", `a${{ "$" }}${{ upper(inputs.pw) }}`}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"argv": []any{"--pw=x", "${{ literal }}", "a$X"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("resolved %v, want %v", got, want)
	}
	// journalString is the inverse: a literal "${{" and a "$" before a
	// secret survive the round trip.
	secrets := []secret{{value: "x", ref: "inputs.pw"}, {value: "X", ref: "upper(inputs.pw)"}}
	for _, s := range []string{"--pw=x", "${{ literal }}", "a$X", "$x$", "plain"} {
		j, _ := journalString(s, secrets)
		back, err := rc.resolveJournaled(j)
		if err != nil || back != s {
			t.Errorf("%q journaled as %q came back as %v (%v)", s, j, back, err)
		}
	}
}
