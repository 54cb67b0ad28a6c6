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
	log := zerolog.New(w)
	log.Info().Str("dsn", `postgres://u:p"ss\word@h/db`).Msg(`raw p"ss\word`)
	out := buf.String()
	if strings.Contains(out, `ss\\word`) || strings.Contains(out, `p"ss`) || strings.Count(out, "***") != 2 {
		t.Fatalf("not masked as expected: %s", out)
	}
}

// TestShortSecretsMasked: secrets under four characters used to be left in
// clear. Now every secret is masked whatever its length; a short one where
// it stands as a whole token (a value, a word), not inside longer words or
// numbers, so that masking "1" does not garble every line.
func TestShortSecretsMasked(t *testing.T) {
	var buf bytes.Buffer
	w := NewSecretWriter(&buf)
	w.Add("abc")
	w.Add("7")
	log := zerolog.New(w)
	log.Info().Str("pin", "7").Str("code", "abc").Msg("pin=7 code abc; abcdef 17 7.5 [7]")
	out := buf.String()
	want := `{"level":"info","pin":"***","code":"***","message":"pin=*** code ***; abcdef 17 ***.5 [***]"}`
	if strings.TrimSpace(out) != want {
		t.Fatalf("log\n%s\nwant\n%s", out, want)
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
