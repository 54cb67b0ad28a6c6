package octopus

import (
	"reflect"
	"strings"
	"testing"

	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/machines"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus/octopustest"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// TestTargetsRegisteredMatchesInstances: each instance needs a Healthy,
// enabled target in the selection that records its id in its name or a
// role; targets of other roles or environments, unhealthy or disabled
// targets and ids inside longer words do not count.
func TestTargetsRegisteredMatchesInstances(t *testing.T) {
	f := newFixture(t)
	const a, b, c, d, e = "i-0aaaaaaaaaaaaaaa1", "i-0bbbbbbbbbbbbbbb2", "i-0ccccccccccccccc3", "i-0ddddddddddddddd4", "i-0eeeeeeeeeeeeeee5"
	add := func(m octopustest.Machine) string { return f.srv.AddMachine(f.space, m) }
	add(octopustest.Machine{Name: "web-green-" + a, Roles: []string{"web-green"}, EnvironmentIDs: []string{f.prod}})
	add(octopustest.Machine{Name: "tentacle-7", Roles: []string{"web-green", b}, EnvironmentIDs: []string{f.prod}})
	idC := add(octopustest.Machine{Name: c, Roles: []string{"web-green"}, EnvironmentIDs: []string{f.prod}, HealthStatus: "Unknown"})
	add(octopustest.Machine{Name: "web-blue-" + d, Roles: []string{"web-blue"}, EnvironmentIDs: []string{f.prod}})
	add(octopustest.Machine{Name: "web-green-" + e, Roles: []string{"web-green"}, EnvironmentIDs: []string{f.preprod}})
	add(octopustest.Machine{Name: "x" + e, Roles: []string{"web-green"}, EnvironmentIDs: []string{f.prod}})

	sel := map[string]any{"role": "web-green", "environment": "Production", "instances": []any{a, strings.ToUpper(b), c, d, e}}
	out, undos := mustRun(t, "octopus.targets.registered", sel)
	if len(undos) != 0 {
		t.Fatalf("a read-only step journaled %v", undos)
	}
	want := map[string]any{
		"total": 4, "healthy": 3,
		"registered":  []any{a, strings.ToLower(b)},
		"missing":     []any{c, d, e},
		"targets":     []any{"tentacle-7", "web-green-" + a},
		"not_healthy": map[string]any{c: c + ": Unknown"},
		"unmatched":   []any{"x" + e},
		"waiting_for": c + " (" + c + ": Unknown), " + d + " (no target), " + e + " (no target)",
	}
	for k, v := range want {
		if !reflect.DeepEqual(out[k], v) {
			t.Errorf("%s = %#v, want %#v", k, out[k], v)
		}
	}

	// The Tentacle's health check passes: nothing is missing for c any more.
	f.srv.SetHealth(f.space, idC, "Healthy")
	out, _ = mustRun(t, "octopus.targets.registered", map[string]any{"role": "web-green", "environment": "Production", "instances": []any{a, b, c}})
	if got := out["missing"]; !reflect.DeepEqual(got, []any{}) {
		t.Errorf("missing after health check = %#v, want none", got)
	}

	// A malformed id breaks the spec's rule (validate and preflight see
	// it); an empty one, which no pattern rule refuses, is refused at run.
	spec, _ := steps.Lookup("octopus.targets.registered")
	if _, errs := spec.Bind(map[string]any{"role": "web-green", "instances": []any{a, "web-1"}}); len(errs) != 1 || !strings.Contains(errs[0].Error(), `param "instances": item 1: expected an EC2 instance id (i- and 8 or 17 hex digits), found "web-1"`) {
		t.Errorf("a malformed instance id: %v", errs)
	}
	if _, _, err := run(t, "octopus.targets.registered", map[string]any{"role": "web-green", "instances": []any{""}}, false); err == nil || !strings.Contains(err.Error(), `instances: "" is not an EC2 instance id`) {
		t.Errorf("an empty instance id: err %v", err)
	}
}

func TestRecordedInstances(t *testing.T) {
	for name, want := range map[string][]string{
		"i-0123456789abcdef0":                  {"i-0123456789abcdef0"},
		"web-green-i-0123456789ABCDEF0":        {"i-0123456789abcdef0"},
		"i-12345678_i-0123456789abcdef0":       {"i-12345678", "i-0123456789abcdef0"},
		"xi-0123456789abcdef0":                 nil,
		"i-0123456789abcdef0z":                 nil,
		"web-green-1":                          nil,
		"app (i-0123456789abcdef0) us-east-1a": {"i-0123456789abcdef0"},
	} {
		m := &machines.DeploymentTarget{}
		m.Name = name
		got := recordedInstances(m)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %v, want %v", name, got, want)
		}
	}
}
