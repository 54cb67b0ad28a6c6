package samehost

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/internal/testapp"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// The same-host pipeline as an Octopus deployment process runs it:
// prepare names the idle copy's folder in output variables, Octopus
// deploys the package into that folder, promote starts, checks and
// switches, cleanup drains and stops the old copy.

// phase runs one phase of the runbook for this host and returns, beside
// its result, the params and outputs of the steps it ran by step id.
func (h *host) phase(name string) (map[string]*engine.StepStarted, map[string]*engine.StepFinished, error) {
	var mu sync.Mutex
	started, finished := map[string]*engine.StepStarted{}, map[string]*engine.StepFinished{}
	rec := func(e engine.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch x := e.(type) {
		case *engine.StepStarted:
			started[x.ID] = x
		case *engine.StepFinished:
			finished[x.ID] = x
		}
	}
	x := &engine.Executor{Registry: steps.Default, Store: h.store, Sinks: []engine.Sink{h.events.add, rec}, Log: zerolog.Nop(),
		UndoBackoff: 100 * time.Millisecond, Phase: name}
	_, err := x.Run(h.t.Context(), h.rb, h.inputs())
	return started, finished, err
}

// outputVariables returns the values prepare's octopus.output step sets
// as Octopus output variables.
func outputVariables(started map[string]*engine.StepStarted) map[string]string {
	out := map[string]string{}
	if s, ok := started["idle"]; ok && s.Kind == "octopus.output" {
		for k, v := range s.Params["values"].(map[string]any) {
			out[k] = steps.FormatValue(v)
		}
	}
	return out
}

// deployInto is the stand-in for Octopus's "Deploy a Package" with a
// custom installation directory: the new release is unpacked into dir.
func deployInto(t *testing.T, dir, colour, release string) {
	t.Helper()
	if err := testapp.MakeRelease(dir, colour, map[string]string{
		"index.html": "<h1>release " + release + "</h1>\n", "config/app.yaml": "workers: 4\n", "licence.lic": "licensee=example seats=2\n",
	}); err != nil {
		t.Fatal(err)
	}
}

func TestPipelinePhases(t *testing.T) {
	for _, mode := range []string{"nginx", "symlink"} {
		t.Run(mode, func(t *testing.T) {
			h := newHost(t, mode)
			// A new release differs from the live one, which drift would
			// otherwise stop: it reports the differences.
			h.extraInput = map[string]any{"drift_fail": false}

			started, _, err := h.phase("prepare")
			if err != nil {
				t.Fatalf("prepare: %v\n%s", err, h.events)
			}
			vars := outputVariables(started)
			if vars["BlueGreen.IdleDir"] != h.dirs["green"] || vars["BlueGreen.IdleColour"] != "green" || vars["BlueGreen.IdlePort"] != itoa(h.ports["green"]) {
				t.Fatalf("output variables %v, want green's folder and port", vars)
			}
			// Nothing has moved: blue serves, green is not running.
			h.assertLive("blue")

			deployInto(t, vars["BlueGreen.IdleDir"], "green", "43")

			_, finished, err := h.phase("promote")
			if err != nil {
				t.Fatalf("promote: %v\n%s", err, h.events)
			}
			h.waitPublic("green")
			h.waitListening(h.ports["blue"], true) // the old copy still drains
			if d := finished["drift"]; d == nil || !strings.Contains(steps.FormatValue(d.Outputs), "index.html") {
				t.Errorf("drift did not report the new release's file: %v", d)
			}

			if _, _, err := h.phase("cleanup"); err != nil {
				t.Fatalf("cleanup: %v\n%s", err, h.events)
			}
			h.assertLive("green")
			b, _ := os.ReadFile(filepath.Join(h.dirs["green"], "index.html"))
			if !strings.Contains(string(b), "release 43") {
				t.Errorf("live copy holds %q, want the deployed release", b)
			}
		})
	}
}

// TestPipelinePromoteFailureRollsBack: the check after the switch fails in
// promote; the whole release is undone (traffic back on blue, green
// stopped) and the next deployment starts again at prepare.
func TestPipelinePromoteFailureRollsBack(t *testing.T) {
	h := newHost(t, "symlink")
	h.extraInput = map[string]any{"drift_fail": false, "expect_body": "colour=purple", "health_timeout": "1s"}
	started, _, err := h.phase("prepare")
	if err != nil {
		t.Fatalf("prepare: %v\n%s", err, h.events)
	}
	deployInto(t, outputVariables(started)["BlueGreen.IdleDir"], "green", "43")
	_, _, err = h.phase("promote")
	var rf *engine.RunFailedError
	if !errors.As(err, &rf) || !rf.RolledBack || !strings.Contains(err.Error(), "verify") {
		t.Fatalf("promote: %v, want a rolled-back failure of verify\n%s", err, h.events)
	}
	h.assertLive("blue")
	if _, _, err := h.phase("cleanup"); err == nil {
		t.Error("cleanup ran after a rolled-back promote")
	}
	h.extraInput = map[string]any{"drift_fail": false}
	if _, _, err := h.phase("prepare"); err != nil {
		t.Fatalf("the next release's prepare: %v", err)
	}
}

func itoa(n int) string { return steps.FormatValue(n) }
