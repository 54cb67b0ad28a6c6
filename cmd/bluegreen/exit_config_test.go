package main

import (
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/octopustest"
)

// TestOctopusConfigErrorsExitInvalid: an Octopus connection that is not
// configured, a server URL that is not one and a space that does not exist
// are bad input (exit 2), from `octopus` commands and from `step run`
// alike; a rejected key and a server that does not answer are failures
// (exit 1). exit.go learns which is which from steps.ErrConfig, without
// importing the provider.
func TestOctopusConfigErrorsExitInvalid(t *testing.T) {
	srv := octopustest.New(t)
	t.Setenv(octopus.EnvURL, "")
	t.Setenv(octopus.EnvAPIKey, "")
	t.Setenv(octopus.EnvSpace, "")
	closed := octopustest.New(t)
	closed.Close()
	stepRun := []string{"step", "run", "octopus.variables.get", "--param", "project=Web", "--param", "name=Colour"}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"sync without a server", []string{"octopus", "sync", "--dry-run"}, ExitInvalid, "octopus connection is not configured"},
		{"sync without a key", []string{"octopus", "sync", "--dry-run", "--server", srv.URL}, ExitInvalid, "octopus connection is not configured"},
		{"sync with a url that is not one", []string{"octopus", "sync", "--dry-run", "--server", "octopus.example.com", "--api-key", srv.APIKey}, ExitInvalid, "bad octopus server url"},
		{"sync to a space that does not exist", []string{"octopus", "sync", "--dry-run", "--server", srv.URL, "--api-key", srv.APIKey, "--space", "Prod"}, ExitInvalid, "octopus space not found"},
		{"sync with a rejected key", []string{"octopus", "sync", "--dry-run", "--server", srv.URL, "--api-key", "API-WRONG1"}, ExitFailed, "octopus api key rejected"},
		{"sync to a server that does not answer", []string{"octopus", "sync", "--dry-run", "--server", closed.URL, "--api-key", srv.APIKey}, ExitFailed, "octopus server unreachable"},
		{"step run without a server", stepRun, ExitInvalid, "octopus connection is not configured"},
		{"step run to a space that does not exist", append(stepRun[:len(stepRun):len(stepRun)], "--param", "server="+srv.URL, "--param-env", "api_key=BG_TEST_KEY", "--param", "space=Prod"), ExitInvalid, "octopus space not found"},
	}
	t.Setenv("BG_TEST_KEY", srv.APIKey)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bg(t, tt.args...)
			r.wantCode(t, tt.code)
			if !strings.Contains(r.stderr, tt.msg) {
				t.Errorf("stderr lacks %q:\n%s", tt.msg, r.stderr)
			}
		})
	}
}
