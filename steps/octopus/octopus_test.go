package octopus

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/octopustest"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/servicemsg"
	"github.com/bluegreen-deploy/bluegreen/steps"
	"github.com/bluegreen-deploy/bluegreen/steps/steptest"
)

// fixture is a server with one project, two environments and four
// targets: two per colour, one of each in each environment.
type fixture struct {
	srv                *octopustest.Server
	space, proj        string
	prod, preprod      string
	blue1, blue2, grn1 string
	grn2               string
}

func newFixture(t *testing.T) *fixture {
	srv := octopustest.New(t)
	t.Setenv(octopus.EnvURL, srv.URL)
	t.Setenv(octopus.EnvAPIKey, srv.APIKey)
	t.Setenv(octopus.EnvSpace, "")
	f := &fixture{srv: srv, space: octopustest.DefaultSpaceID}
	f.proj = srv.AddProject(f.space, "Web")
	f.prod = srv.AddEnvironment(f.space, "Production")
	f.preprod = srv.AddEnvironment(f.space, "Pre-Production")
	f.blue1 = srv.AddMachine(f.space, octopustest.Machine{Name: "web-blue-1", Roles: []string{"web-blue", "web-live"}, EnvironmentIDs: []string{f.prod}})
	f.blue2 = srv.AddMachine(f.space, octopustest.Machine{Name: "web-blue-2", Roles: []string{"web-blue", "web-live"}, EnvironmentIDs: []string{f.prod}, HealthStatus: "Unhealthy"})
	f.grn1 = srv.AddMachine(f.space, octopustest.Machine{Name: "web-green-1", Roles: []string{"web-green", "web-idle"}, EnvironmentIDs: []string{f.preprod}})
	f.grn2 = srv.AddMachine(f.space, octopustest.Machine{Name: "web-green-2", Roles: []string{"web-green", "web-idle"}, EnvironmentIDs: []string{f.preprod}, IsDisabled: true})
	return f
}

// run binds raw params as the engine would and runs the step, returning
// its outputs and the undos it journaled.
func run(t *testing.T, kind string, raw map[string]any, undoing bool) (steps.Outputs, []steps.Undo, error) {
	t.Helper()
	r := steptest.Run(context.Background(), t, kind, raw, steptest.Options{Undoing: undoing})
	return r.Out, r.Undos, r.Err
}

func mustRun(t *testing.T, kind string, raw map[string]any) (steps.Outputs, []steps.Undo) {
	t.Helper()
	out, undos, err := run(t, kind, raw, false)
	if err != nil {
		t.Fatalf("%s: %v", kind, err)
	}
	return out, undos
}

func applyUndos(t *testing.T, undos []steps.Undo) {
	t.Helper()
	for i := len(undos) - 1; i >= 0; i-- {
		if _, _, err := run(t, undos[i].Kind, undos[i].Params, true); err != nil {
			t.Fatalf("undo %s: %v", undos[i].Kind, err)
		}
	}
}

func TestVariablesSetKeepsSensitiveSecret(t *testing.T) {
	f := newFixture(t)
	f.srv.SetVariables(f.space, f.proj, []octopustest.Variable{
		{Name: "BlueGreen.Live", Value: "blue"},
		{Name: "Db.Password", Value: "s3cret!", Sensitive: true},
	})
	out, undos := mustRun(t, "octopus.variables.set", map[string]any{"project": "Web", "name": "BlueGreen.Live", "value": "green"})
	if out["previous"] != "blue" || out["changed"] != true || len(undos) != 1 {
		t.Fatalf("outputs %v, undos %v", out, undos)
	}
	vars := f.srv.Variables(f.space, f.proj)
	got := map[string]string{}
	for _, v := range vars {
		got[v.Name] = v.Value
	}
	if got["BlueGreen.Live"] != "green" || got["Db.Password"] != "s3cret!" {
		t.Fatalf("after set: %v", got)
	}
	// Reading back: the sensitive value never leaves the server.
	out, _ = mustRun(t, "octopus.variables.get", map[string]any{"project": f.proj, "name": "Db.Password"})
	if out["found"] != true || out["sensitive"] != true || out["value"] != "" {
		t.Errorf("get sensitive: %v", out)
	}
	applyUndos(t, undos)
	out, _ = mustRun(t, "octopus.variables.get", map[string]any{"project": "Web", "name": "BlueGreen.Live"})
	if out["value"] != "blue" {
		t.Errorf("after undo: %v", out)
	}
	for _, v := range f.srv.Variables(f.space, f.proj) {
		if v.Name == "Db.Password" && v.Value != "s3cret!" {
			t.Errorf("the undo wiped the secret: %q", v.Value)
		}
	}
}

func TestVariablesSetScopedCreateAndUndo(t *testing.T) {
	f := newFixture(t)
	f.srv.SetVariables(f.space, f.proj, []octopustest.Variable{{Name: "BlueGreen.Live", Value: "blue"}})
	out, undos := mustRun(t, "octopus.variables.set", map[string]any{"project": "Web", "name": "BlueGreen.Live", "value": "green", "environment": "Production"})
	if out["existed"] != false || len(undos) != 1 || undos[0].Params["remove"] != true {
		t.Fatalf("outputs %v, undos %+v", out, undos)
	}
	scoped, _ := mustRun(t, "octopus.variables.get", map[string]any{"project": "Web", "name": "BlueGreen.Live", "environment": "Production"})
	unscoped, _ := mustRun(t, "octopus.variables.get", map[string]any{"project": "Web", "name": "BlueGreen.Live"})
	if scoped["value"] != "green" || unscoped["value"] != "blue" {
		t.Fatalf("scoped %v, unscoped %v", scoped, unscoped)
	}
	// Setting the same value again changes nothing and journals nothing.
	again, undos2 := mustRun(t, "octopus.variables.set", map[string]any{"project": "Web", "name": "BlueGreen.Live", "value": "green", "environment": "Production"})
	if again["changed"] != false || len(undos2) != 0 {
		t.Errorf("idempotent set: %v %v", again, undos2)
	}
	applyUndos(t, undos)
	applyUndos(t, undos) // an undo restores an absolute state: twice is harmless
	if vars := f.srv.Variables(f.space, f.proj); len(vars) != 1 || vars[0].Value != "blue" {
		t.Errorf("after undo: %+v", vars)
	}
}

// TestVariablesSetUndoKeepsSpace sets a variable in a space given by the
// step's param rather than OCTOPUS_SPACE: the undo must go back to that
// space, not to the default one the environment leads to.
func TestVariablesSetUndoKeepsSpace(t *testing.T) {
	f := newFixture(t)
	other := f.srv.AddSpace("Other")
	proj := f.srv.AddProject(other, "Web")
	f.srv.SetVariables(other, proj, []octopustest.Variable{{Name: "BlueGreen.Live", Value: "blue"}})
	f.srv.SetVariables(f.space, f.proj, []octopustest.Variable{{Name: "BlueGreen.Live", Value: "blue"}})
	_, undos := mustRun(t, "octopus.variables.set", map[string]any{"project": "Web", "name": "BlueGreen.Live", "value": "green", "space": "Other"})
	if len(undos) != 1 || undos[0].Params["space"] != "Other" || undos[0].Params["api_key"] != nil {
		t.Fatalf("undos %+v, want the space and never the key", undos)
	}
	applyUndos(t, undos)
	if vars := f.srv.Variables(other, proj); len(vars) != 1 || vars[0].Value != "blue" {
		t.Errorf("after undo, space Other: %+v", vars)
	}
}

func TestVariablesSetRetriesConcurrentEdit(t *testing.T) {
	f := newFixture(t)
	f.srv.SetVariables(f.space, f.proj, []octopustest.Variable{{ID: "v1", Name: "BlueGreen.Live", Value: "blue"}})
	// Someone saves the set between the step's read and its first write.
	f.srv.Inject(octopustest.Fault{Method: "PUT", Path: "/variables/", Times: 1, Do: func() {
		f.srv.SetVariables(f.space, f.proj, []octopustest.Variable{{ID: "v1", Name: "BlueGreen.Live", Value: "blue"}, {Name: "Other", Value: "x"}})
	}})
	out, _ := mustRun(t, "octopus.variables.set", map[string]any{"project": "Web", "name": "BlueGreen.Live", "value": "green"})
	if out["changed"] != true {
		t.Fatalf("outputs %v", out)
	}
	if n := f.srv.CountRequests("PUT", "/variables/"); n != 2 {
		t.Errorf("%d PUTs, want 2 (a rejected stale one and the retry)", n)
	}
	got := map[string]string{}
	for _, v := range f.srv.Variables(f.space, f.proj) {
		got[v.Name] = v.Value
	}
	if got["BlueGreen.Live"] != "green" || got["Other"] != "x" {
		t.Errorf("the retry lost the other edit or the change: %v", got)
	}
}

func TestVariablesSetRefusesSensitiveAndSurfacesErrors(t *testing.T) {
	f := newFixture(t)
	f.srv.SetVariables(f.space, f.proj, []octopustest.Variable{{Name: "Key", Value: "k", Sensitive: true}})
	if _, undos, err := run(t, "octopus.variables.set", map[string]any{"project": "Web", "name": "Key", "value": "new"}, false); err == nil || len(undos) != 0 {
		t.Errorf("setting a sensitive variable: %v %v", err, undos)
	}
	if _, _, err := run(t, "octopus.variables.set", map[string]any{"project": "Nope", "name": "X", "value": "1"}, false); err == nil || !strings.Contains(err.Error(), `"Nope"`) {
		t.Errorf("missing project: %v", err)
	}
	f.srv.Inject(octopustest.Fault{Method: "PUT", Path: "/variables/", Status: 500})
	if _, _, err := run(t, "octopus.variables.set", map[string]any{"project": "Web", "name": "X", "value": "1"}, false); err == nil || octopus.StatusCode(err) != 500 {
		t.Errorf("server error: %v", err)
	}
}

func TestRetagSwapAndUndo(t *testing.T) {
	f := newFixture(t)
	before := map[string][]string{}
	for _, id := range []string{f.blue1, f.blue2, f.grn1, f.grn2} {
		before[id] = f.srv.Machine(f.space, id).Roles
	}
	_, undoGreen := mustRun(t, "octopus.targets.retag", map[string]any{"role": "web-green", "add_roles": []any{"web-live"}, "remove_roles": []any{"web-idle"}})
	out, undoBlue := mustRun(t, "octopus.targets.retag", map[string]any{"role": "web-blue", "add_roles": "[web-idle]", "remove_roles": "[web-live]"})
	if out["matched"] != 2 || out["changed"] != 2 {
		t.Errorf("blue retag outputs %v", out)
	}
	want := map[string][]string{f.blue1: {"web-blue", "web-idle"}, f.blue2: {"web-blue", "web-idle"}, f.grn1: {"web-green", "web-live"}, f.grn2: {"web-green", "web-live"}}
	for id, roles := range want {
		if got := f.srv.Machine(f.space, id).Roles; !sameSet(got, roles) {
			t.Errorf("%s roles %v, want %v", id, got, roles)
		}
	}
	// A second identical retag writes nothing.
	puts := f.srv.CountRequests("PUT", "/machines/")
	if out, undos := mustRun(t, "octopus.targets.retag", map[string]any{"role": "web-blue", "add_roles": []any{"web-idle"}}); out["changed"] != 0 || len(undos) != 0 || f.srv.CountRequests("PUT", "/machines/") != puts {
		t.Errorf("idempotent retag: %v %v", out, undos)
	}
	applyUndos(t, append(undoGreen, undoBlue...))
	for id, roles := range before {
		if got := f.srv.Machine(f.space, id).Roles; !slices.Equal(got, roles) {
			t.Errorf("after undo %s roles %v, want %v", id, got, roles)
		}
	}
	if _, _, err := run(t, "octopus.targets.retag", map[string]any{"role": "web-purple", "add_roles": []any{"x"}}, false); err == nil {
		t.Error("a selection that matches nothing succeeded")
	}
}

func TestMoveEnvironmentAndUndo(t *testing.T) {
	f := newFixture(t)
	out, undos := mustRun(t, "octopus.targets.move-environment", map[string]any{"role": "web-green", "from": "Pre-Production", "to": "Production"})
	if out["changed"] != 2 || len(undos) != 1 {
		t.Fatalf("outputs %v undos %v", out, undos)
	}
	for _, id := range []string{f.grn1, f.grn2} {
		if got := f.srv.Machine(f.space, id).EnvironmentIDs; !slices.Equal(got, []string{f.prod}) {
			t.Errorf("%s environments %v", id, got)
		}
	}
	applyUndos(t, undos)
	for _, id := range []string{f.grn1, f.grn2} {
		if got := f.srv.Machine(f.space, id).EnvironmentIDs; !slices.Equal(got, []string{f.preprod}) {
			t.Errorf("after undo %s environments %v", id, got)
		}
	}
	if _, _, err := run(t, "octopus.targets.move-environment", map[string]any{"role": "web-green", "to": "Staging"}, false); err == nil || !strings.Contains(err.Error(), "Staging") {
		t.Errorf("unknown environment: %v", err)
	}
}

func TestTargetHealth(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		params map[string]any
		want   map[string]any
	}{
		{"blue", map[string]any{"role": "web-blue"}, map[string]any{"total": 2, "healthy": 1, "unhealthy": 1, "disabled": 0}},
		{"green", map[string]any{"role": "web-green"}, map[string]any{"total": 1, "healthy": 1, "disabled": 1}},
		{"production", map[string]any{"environment": "Production"}, map[string]any{"total": 2, "healthy": 1}},
		{"by name", map[string]any{"targets": []any{"web-blue-2"}}, map[string]any{"total": 1, "unhealthy": 1}},
		{"everything", map[string]any{}, map[string]any{"total": 3, "healthy": 2, "disabled": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _ := mustRun(t, "octopus.targets.health", tt.params)
			for k, v := range tt.want {
				if out[k] != v {
					t.Errorf("%s = %v, want %v (all: %v)", k, out[k], v, out)
				}
			}
		})
	}
	f.srv.SetHealth(f.space, f.blue2, "Healthy")
	if out, _ := mustRun(t, "octopus.targets.health", map[string]any{"role": "web-blue"}); out["healthy"] != 2 || len(out["not_healthy"].([]any)) != 0 {
		t.Errorf("after the health check: %v", out)
	}
}

func TestOutputWritesServiceMessages(t *testing.T) {
	var buf bytes.Buffer
	old := stdout
	stdout = &buf
	t.Cleanup(func() { stdout = old })
	out, _ := mustRun(t, "octopus.output", map[string]any{"values": map[string]any{"Live": "green", "Weights": []any{10, 50}, "Quote": "it's ]"}})
	if out["count"] != 3 {
		t.Errorf("count %v", out["count"])
	}
	msgs, err := servicemsg.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	vals, sens := servicemsg.Variables(msgs)
	want := map[string]string{"Live": "green", "Weights": "[10, 50]", "Quote": "it's ]"}
	for k, v := range want {
		if vals[k] != v || sens[k] {
			t.Errorf("%s = %q (sensitive %v), want %q", k, vals[k], sens[k], v)
		}
	}
}
