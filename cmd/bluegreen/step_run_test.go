package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus/servicemsg"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// Two kinds only these tests run: one that panics, one with a sensitive
// output (no shipped kind has one).
func init() {
	steps.Register(steps.Spec{
		Kind: "test.step-run-panic", Title: "Panic", Summary: "Panics (a provider bug, in tests).",
		New: func() steps.Step {
			return steps.StepFunc(func(context.Context, *steps.Call) (steps.Outputs, error) { panic("index out of range [3]") })
		},
	})
	steps.Register(steps.Spec{
		Kind: "test.step-run-token", Title: "Token", Summary: "Returns a token and its expiry (in tests).",
		Params: []steps.Param{{Name: "token", Type: steps.String, Required: true, Doc: "The token to return."}},
		Outputs: []steps.Output{
			{Name: "token", Type: steps.String, Doc: "The token.", Sensitive: true},
			{Name: "expires", Type: steps.Int, Doc: "Seconds until it expires."},
			{Name: "scopes", Type: steps.List, Doc: "What it allows."},
		},
		New: func() steps.Step {
			return steps.StepFunc(func(_ context.Context, c *steps.Call) (steps.Outputs, error) {
				return steps.Outputs{"token": c.Params.String("token"), "expires": int64(3600), "scopes": []any{"read", "write"}}, nil
			})
		},
	})
}

// A step that panics fails like any failing step: exit 1 with its kind
// and the panic in one line, not a crashed process with a goroutine dump
// (the old `step run` had no guard, unlike the engine's steps).
func TestStepRunPanicIsAnError(t *testing.T) {
	r := bg(t, "step", "run", "test.step-run-panic")
	r.wantCode(t, ExitFailed)
	if want := "error: test.step-run-panic: step panicked: index out of range [3]\n"; !strings.HasSuffix(r.stderr, want) {
		t.Errorf("stderr %q, want it to end with %q", r.stderr, want)
	}
	if strings.Contains(r.stderr, "goroutine ") {
		t.Errorf("stderr has a stack dump: %q", r.stderr)
	}

	// Under Octopus the failure is the step's result message.
	r = bg(t, "step", "run", "test.step-run-panic", "--octopus-output")
	r.wantCode(t, ExitFailed)
	msgs, err := servicemsg.Decode(strings.NewReader(r.stdout))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range msgs {
		found = found || m.Name == "resultMessage" && strings.Contains(m.Attrs["message"], "step panicked")
	}
	if !found {
		t.Errorf("no result message naming the panic in %q", r.stdout)
	}
}

func TestStepRunOutputJSON(t *testing.T) {
	r := bg(t, "step", "run", "test.step-run-token", "--param", "token=s3cr3t-t0ken", "--output", "json")
	r.wantCode(t, ExitOK)
	var got struct {
		Kind    string         `json:"kind"`
		Outputs map[string]any `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, r.stdout)
	}
	if got.Kind != "test.step-run-token" || got.Outputs["expires"] != 3600.0 || got.Outputs["token"] != steps.Redaction ||
		len(got.Outputs["scopes"].([]any)) != 2 || len(got.Outputs) != 3 {
		t.Errorf("step run -o json = %+v", got)
	}
	if strings.Contains(r.stdout+r.stderr, "s3cr3t-t0ken") {
		t.Errorf("the sensitive output was printed:\n%s\n%s", r.stdout, r.stderr)
	}

	// Text is the default: one line an output, the secret redacted.
	r = bg(t, "step", "run", "test.step-run-token", "--param", "token=s3cr3t-t0ken")
	r.wantCode(t, ExitOK)
	if want := "expires: 3600\nscopes: [read, write]\ntoken: ***\n"; r.stdout != want {
		t.Errorf("step run text = %q, want %q", r.stdout, want)
	}

	// Octopus reads stdout for service messages: JSON cannot share it.
	bg(t, "step", "run", "test.step-run-token", "--param", "token=x", "-o", "json", "--octopus-output").wantCode(t, ExitInvalid)
	bg(t, "step", "run", "test.step-run-token", "--param", "token=x", "-o", "yaml").wantCode(t, ExitInvalid)

	// As Octopus output variables, the token is a sensitive one.
	r = bg(t, "step", "run", "test.step-run-token", "--param", "token=s3cr3t-t0ken", "--octopus-output")
	r.wantCode(t, ExitOK)
	msgs, err := servicemsg.Decode(strings.NewReader(r.stdout))
	if err != nil {
		t.Fatal(err)
	}
	vals, sens := servicemsg.Variables(msgs)
	if vals["token"] != "s3cr3t-t0ken" || !sens["token"] || vals["expires"] != "3600" || sens["expires"] {
		t.Errorf("variables %v, sensitive %v", vals, sens)
	}
}
