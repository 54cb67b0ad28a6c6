package octopus

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/benchrun"
	"github.com/bluegreen-deploy/bluegreen/steps/steptest"
)

// probeAndRun does what one `bluegreen run` process does with a swap's
// Octopus steps: it starts without a connection, runs every step's
// preflight probes in parallel (as the engine's preflight does), then the
// steps one after the other.
func probeAndRun(t *testing.T, calls []swapCall) {
	t.Helper()
	clients.Clear()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for _, c := range calls {
		p := steptest.Bind(t, c.kind, c.with)
		for _, pr := range steptest.Spec(t, c.kind).Preflight(p, func(string) bool { return true }) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := pr.Run(context.Background()); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("probe: %v", err)
	}
	for _, c := range calls {
		if r := steptest.Run(context.Background(), t, c.kind, c.with, steptest.Options{}); r.Err != nil {
			t.Fatalf("%s: %v", c.kind, r.Err)
		}
	}
}

// TestOneRunConnectsOnceAndLooksUpEachNameOnce: env-swap's Octopus steps
// and their preflight probes, in one process, connect once (they used to
// connect twice: the probes had a client of their own) and look up the
// environments and the project once (the environments were listed seven
// times: two probes, two per move, one for the variable's scope). The
// targets are still listed by each probe and each move (a move must see
// the targets as they are when it runs) and read again before each write.
func TestOneRunConnectsOnceAndLooksUpEachNameOnce(t *testing.T) {
	f := newFixture(t)
	probeAndRun(t, swaps[1].calls)
	got := benchrun.OctopusCalls(f.srv.Requests())
	want := map[string]int{
		"octopus:GET_/api":                     1,
		"octopus:GET_/api/":                    1,
		"octopus:GET_/api/spaces/all":          1,
		"octopus:GET_/api/{id}":                1,
		"octopus:GET_/api/{id}/environments":   1,
		"octopus:GET_/api/{id}/projects/Web":   1,
		"octopus:GET_/api/{id}/projects":       1,
		"octopus:GET_/api/{id}/projects/{id}":  1,
		"octopus:GET_/api/{id}/variables/{id}": 1,
		"octopus:PUT_/api/{id}/variables/{id}": 1,
		// Two probes (one per role) and two moves list the targets; each of
		// the four targets is read just before it is written.
		"octopus:GET_/api/{id}/machines":      4,
		"octopus:GET_/api/{id}/machines/{id}": 4,
		"octopus:PUT_/api/{id}/machines/{id}": 4,
	}
	keys := slices.Sorted(maps.Keys(got))
	for k := range want {
		if _, ok := got[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if got[k] != want[k] {
			t.Errorf("%s: %d calls, want %d", k, got[k], want[k])
		}
	}
	if v := f.srv.Variables(f.space, f.proj); len(v) != 1 || v[0].Value != "green" {
		t.Fatalf("BlueGreen.Live after the swap: %+v", v)
	}
}

// TestEnvironmentCreatedDuringARunIsFound: the remembered list of
// environments does not hide one created after it was read; a name that
// is in neither list still fails, naming the environments there are.
func TestEnvironmentCreatedDuringARunIsFound(t *testing.T) {
	f := newFixture(t)
	clients.Clear()
	c, err := connect(context.Background(), steptest.Bind(t, "octopus.variables.get", map[string]any{"project": "Web", "name": "X"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := environmentID(c, "Production"); err != nil {
		t.Fatal(err)
	}
	staging := f.srv.AddEnvironment(f.space, "Staging")
	if id, err := environmentID(c, "staging"); err != nil || id != staging {
		t.Fatalf("environment created during the run: %q, %v; want %s", id, err, staging)
	}
	before := f.srv.CountRequests("GET", "/environments$")
	if _, err := environmentID(c, "Staging"); err != nil {
		t.Fatal(err)
	}
	if _, err := environmentID(c, "Production"); err != nil {
		t.Fatal(err)
	}
	if n := f.srv.CountRequests("GET", "/environments$") - before; n != 0 {
		t.Errorf("known environments were listed again: %d calls", n)
	}
	_, err = environmentID(c, "Nowhere")
	if err == nil {
		t.Fatal("an unknown environment was found")
	}
	for _, s := range []string{`"Nowhere"`, "Production", "Pre-Production", "Staging"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("unknown environment: %v, want it to name %s", err, s)
		}
	}
}
