package engine

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// TestCredentialsScrubbedFromStepErrors: an error text that came from a
// server (a page echoing the request's headers) carries a credential the
// process registered (an Octopus API key, an AWS session token); the
// failure is reported everywhere without it.
func TestCredentialsScrubbedFromStepErrors(t *testing.T) {
	const cred = "session-token-echoed-9f8e7d"
	steps.RegisterCredential(cred)
	h := newHarness(t)
	h.reg.Register(steps.Spec{
		Kind: "test.echoing", Title: "Echoing", Summary: "Fails with the server's echo.",
		New: func() steps.Step {
			return steps.StepFunc(func(ctx context.Context, c *steps.Call) (steps.Outputs, error) {
				return nil, errors.New("500 Internal Server Error: X-Amz-Security-Token: " + cred)
			})
		},
	})
	rb := h.load("version: 1\nname: echo\ncolours: {a: {}, b: {}}\nsteps:\n  - uses: test.echoing\n")
	_, err := h.exec("").Run(context.Background(), rb, nil)
	if err == nil || strings.Contains(err.Error(), cred) || !strings.Contains(err.Error(), "X-Amz-Security-Token: ***") {
		t.Fatalf("err = %v", err)
	}
	events, _ := json.Marshal(h.rec.events)
	texts := map[string]string{"events": string(events)}
	files, _ := filepath.Glob(filepath.Join(h.dir, "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		texts[f] = string(b)
	}
	for what, text := range texts {
		if strings.Contains(text, cred) {
			t.Errorf("%s holds the credential:\n%s", what, text)
		}
	}
}
