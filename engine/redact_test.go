package engine

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func TestSecretWriterMasksRawAndEscapedForms(t *testing.T) {
	var buf bytes.Buffer
	w := NewSecretWriter(&buf)
	w.Add(`p"ss\word`)
	w.Add("abc") // too short to mask
	log := zerolog.New(w)
	log.Info().Str("dsn", `postgres://u:p"ss\word@h/db`).Msg(`raw p"ss\word and abc`)
	out := buf.String()
	if strings.Contains(out, `ss\\word`) || strings.Contains(out, `p"ss`) || !strings.Contains(out, "***") || !strings.Contains(out, "abc") {
		t.Fatalf("not masked as expected: %s", out)
	}
}

func TestExecutorRegistersSecretsBeforeStepsLog(t *testing.T) {
	h := newHarness(t)
	var buf bytes.Buffer
	sw := NewSecretWriter(&buf)
	h.reg.Register(steps.Spec{
		Kind: "test.leaky", Title: "Leaky", Summary: "Logs its param.",
		Params: []steps.Param{{Name: "v", Type: steps.String, Doc: "Value."}},
		New: func() steps.Step {
			return steps.StepFunc(func(ctx context.Context, c *steps.Call) (steps.Outputs, error) {
				c.Log.Info().Msg("careless: " + c.Params.String("v"))
				return nil, nil
			})
		},
	})
	src := "version: 1\nname: leak\ninputs: {pw: {type: string, sensitive: true}}\ncolours: {a: {}, b: {}}\nsteps:\n  - uses: test.leaky\n    with: {v: \"${{ inputs.pw }}\"}\n"
	x := h.exec("")
	x.Log, x.Secrets = zerolog.New(sw), sw
	if _, err := x.Run(context.Background(), h.load(src), map[string]any{"pw": "hunter22"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "careless: ***") || strings.Contains(buf.String(), "hunter22") {
		t.Fatalf("log = %s", buf.String())
	}
}
