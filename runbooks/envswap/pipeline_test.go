package envswap

import (
	"slices"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus/octopustest"
)

// The env-swap pipeline as Octopus runs it: every release is deployed to
// the pre-prod environment's targets; deploying it to production runs
// prepare, promote and cleanup, and the targets change environments, so
// the next pre-prod deployment lands on the stack that was production.

// deployTo is the stand-in for Octopus's "Deploy a Package" in one
// environment: it returns the colours whose targets the deployment
// reaches (the targets in that environment).
func (w *world) deployTo(env string) []string {
	var out []string
	for c, id := range w.machines {
		if slices.Contains(w.oct.Machine(w.space, id).EnvironmentIDs, w.envs[env]) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

func (w *world) mustPhase(name string, inputs map[string]any) {
	w.t.Helper()
	w.phase = name
	defer func() { w.phase = "" }()
	if _, err := w.run(inputs); err != nil {
		w.t.Fatalf("phase %s: %v\n%s", name, err, w.logs.String())
	}
}

func TestPipelinePhases(t *testing.T) {
	w := newWorld(t)
	if got := w.deployTo("Pre-Production"); !slices.Equal(got, []string{"green"}) {
		t.Fatalf("release 43 deployed to pre-prod reaches %v, want green", got)
	}

	w.mustPhase("prepare", w.inputs)
	// prepare copied the data but moved nothing.
	w.assertDNS("blue")
	w.assertWritable("blue", true)
	if got, want := w.octopusState(), "blue in Production; green in Pre-Production; BlueGreen.Live=blue"; got != want {
		t.Errorf("Octopus after prepare: %s", got)
	}

	w.mustPhase("promote", w.inputs)
	w.assertDNS("green")
	if got, want := w.octopusState(), "blue in Pre-Production; green in Production; BlueGreen.Live=green"; got != want {
		t.Errorf("Octopus after promote: %s\nwant %s", got, want)
	}
	w.mustPhase("cleanup", w.inputs)
	w.assertWritable("green", true)
	w.assertWritable("blue", false)

	// The next release goes to pre-prod: the stack that was production.
	if got := w.deployTo("Pre-Production"); !slices.Equal(got, []string{"blue"}) {
		t.Errorf("release 44 deployed to pre-prod reaches %v, want blue", got)
	}
}

// TestPipelinePromoteFailureRollsBackPrepare: promote fails after the swap
// (BlueGreen.Live cannot be written); the rollback undoes promote and
// prepare: names, targets and the databases' writability as before.
func TestPipelinePromoteFailureRollsBackPrepare(t *testing.T) {
	w := newWorld(t)
	w.freeze("green") // the idle copy, left frozen by the release before
	before := w.octopusState()
	w.mustPhase("prepare", w.inputs)
	w.assertWritable("green", true) // prepare lifted the freeze to sync into it

	w.phase = "promote"
	// The last write fails once (an unknown project would be caught by
	// preflight before promote changed anything).
	w.oct.Inject(octopustest.Fault{Method: "PUT", Path: "/variables/", Status: 500, Times: 1})
	_, err := w.run(w.with())
	w.phase = ""
	assertRolledBack(t, err, "live_variable")
	w.assertDNS("blue")
	w.assertWritable("blue", true)
	w.assertWritable("green", false) // prepare's change undone too
	if after := w.octopusState(); after != before {
		t.Errorf("Octopus not restored:\nbefore %s\nafter  %s", before, after)
	}
}
