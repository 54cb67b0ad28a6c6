package octopus

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/blackhole"
	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/octopustest"
	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/steps"
	"github.com/bluegreen-deploy/bluegreen/steps/steptest"
)

// clientTimeout is the Octopus HTTP client's own per-call timeout: before
// calls ran under the caller's context, a hung server held a step (and a
// gate's poll) for this long whatever the step's or gate's deadline.
const clientTimeout = 60 * time.Second

// runWithin runs a step under a context that ends after d.
func runWithin(t *testing.T, d time.Duration, kind string, raw map[string]any) (time.Duration, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	err := steptest.Run(ctx, t, kind, raw, steptest.Options{}).Err
	return time.Since(start), err
}

// TestOctopusCallsEndWithTheCallersDeadline: a server that accepts the
// connection and never answers, and a server that stops answering after
// the connection was made (the go client's own calls, which take no
// context), both fail the step when the caller's deadline passes.
func TestOctopusCallsEndWithTheCallersDeadline(t *testing.T) {
	t.Run("server never answers", func(t *testing.T) {
		t.Setenv(octopus.EnvURL, "http://"+blackhole.Listen(t))
		t.Setenv(octopus.EnvAPIKey, octopustest.APIKey)
		took, err := runWithin(t, 300*time.Millisecond, "octopus.variables.get", map[string]any{"project": "Web", "name": "X"})
		if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") || took >= clientTimeout/2 {
			t.Fatalf("after %s: err = %v; want the caller's deadline", took, err)
		}
		t.Logf("hung Octopus server (connect): failed after %s", took)
	})
	t.Run("api call hangs after connecting", func(t *testing.T) {
		f := newFixture(t)
		mustRun(t, "octopus.variables.get", map[string]any{"project": "Web", "name": "X"})
		f.srv.Inject(octopustest.Fault{Path: `/variables`, Delay: time.Hour})
		took, err := runWithin(t, 300*time.Millisecond, "octopus.variables.get", map[string]any{"project": "Web", "name": "X"})
		if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") || took >= clientTimeout/2 {
			t.Fatalf("after %s: err = %v; want the caller's deadline", took, err)
		}
		t.Logf("hung Octopus API call (cached client): failed after %s: %v", took, err)
	})
}

// TestHungOctopusFailsTheGateNotTheRun: a gate polling Octopus while the
// server stops answering fails when the step's time is up, and the run
// ends as failed (rolled back) instead of hanging the process.
func TestHungOctopusFailsTheGateNotTheRun(t *testing.T) {
	f := newFixture(t)
	f.srv.Inject(octopustest.Fault{Path: `/machines`, Delay: time.Hour})
	rb, err := engine.Parse("hung.yaml", []byte(`version: 1
name: hung
colours: {blue: {}, green: {}}
steps:
  - uses: octopus.targets.health
    with: {role: web-blue}
    timeout: 1s
    gate: {until: "healthy > 0", every: 100ms, timeout: 1m}
`), steps.Default)
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = (&engine.Executor{Registry: steps.Default, Store: st}).Run(context.Background(), rb, nil)
	took := time.Since(start)
	var rf *engine.RunFailedError
	if !errors.As(err, &rf) || !strings.Contains(err.Error(), "deadline exceeded") || took >= clientTimeout/2 {
		t.Fatalf("after %s: err = %v; want the run failed by the step's timeout", took, err)
	}
	t.Logf("gate on a hung Octopus server: run failed after %s: %v", took, err)
}
