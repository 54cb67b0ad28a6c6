package octopus_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/octopustest"
	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/steps"

	_ "github.com/bluegreen-deploy/bluegreen/steps/flow"
	_ "github.com/bluegreen-deploy/bluegreen/steps/octopus"
)

type octopusState struct {
	vars  map[string]string // name@environments → value (secrets included)
	roles map[string][]string
}

func snapshot(srv *octopustest.Server, space, proj string, machines []string) octopusState {
	s := octopusState{vars: map[string]string{}, roles: map[string][]string{}}
	for _, v := range srv.Variables(space, proj) {
		s.vars[v.Name+"@"+strings.Join(v.Environments, ",")] = v.Value
	}
	for _, id := range machines {
		r := slices.Clone(srv.Machine(space, id).Roles)
		slices.Sort(r)
		s.roles[id] = r
	}
	return s
}

func TestRunbookMakesOctopusFollowTheSwap(t *testing.T) {
	tests := []struct {
		name     string
		inputs   map[string]any
		wantFail bool
	}{
		{"swap", map[string]any{"octopus_project": "Web", "octopus_environment": "Production"}, false},
		{"failed run leaves Octopus as it was", map[string]any{"octopus_project": "Web", "octopus_environment": "Production", "fail_after": "true"}, true},
		{"no project skips the Octopus steps", map[string]any{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := octopustest.New(t)
			t.Setenv(octopus.EnvURL, srv.URL)
			t.Setenv(octopus.EnvAPIKey, srv.APIKey)
			t.Setenv(octopus.EnvSpace, "")
			space := octopustest.DefaultSpaceID
			proj := srv.AddProject(space, "Web")
			prod := srv.AddEnvironment(space, "Production")
			var ms []string
			for _, m := range []octopustest.Machine{
				{Name: "blue-1", Roles: []string{"web-blue", "web-live"}},
				{Name: "blue-2", Roles: []string{"web-blue", "web-live", "db-client"}},
				{Name: "green-1", Roles: []string{"web-green", "web-idle"}},
			} {
				m.EnvironmentIDs = []string{prod}
				ms = append(ms, srv.AddMachine(space, m))
			}
			srv.SetVariables(space, proj, []octopustest.Variable{
				{Name: "BlueGreen.Live", Value: "blue", Environments: []string{prod}},
				{Name: "Db.Password", Value: "s3cret", Sensitive: true},
			})
			before := snapshot(srv, space, proj, ms)

			rb, err := engine.Load(filepath.Join("testdata", "follow-swap.yaml"), steps.Default)
			if err != nil {
				t.Fatal(err)
			}
			st, err := state.NewFileStore(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			x := &engine.Executor{Registry: steps.Default, Store: st}
			res, err := x.Run(context.Background(), rb, tt.inputs)
			after := snapshot(srv, space, proj, ms)

			switch {
			case tt.wantFail:
				var rf *engine.RunFailedError
				if !errors.As(err, &rf) || !rf.RolledBack {
					t.Fatalf("run: %v", err)
				}
				// 1 variable PUT + 3 target PUTs, then as many to undo them.
				if n := srv.CountRequests("PUT", ""); n != 8 {
					t.Errorf("%d PUTs, want 8: the swap and its undo", n)
				}
				if !equalState(before, after) {
					t.Errorf("Octopus changed by a rolled-back run:\nbefore %+v\nafter  %+v", before, after)
				}
			case tt.inputs["octopus_project"] == nil:
				if err != nil {
					t.Fatal(err)
				}
				if !equalState(before, after) || srv.CountRequests("", "") != 0 {
					t.Errorf("skipped steps reached Octopus: %d requests", srv.CountRequests("", ""))
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if res.Live != "green" {
					t.Errorf("live colour %q", res.Live)
				}
				want := octopusState{
					vars:  map[string]string{"BlueGreen.Live@" + prod: "green", "Db.Password@": "s3cret"},
					roles: map[string][]string{ms[0]: {"web-blue", "web-idle"}, ms[1]: {"db-client", "web-blue", "web-idle"}, ms[2]: {"web-green", "web-live"}},
				}
				if !equalState(want, after) {
					t.Errorf("after the swap:\n got  %+v\n want %+v", after, want)
				}
			}
		})
	}
}

func equalState(a, b octopusState) bool {
	if len(a.vars) != len(b.vars) || len(a.roles) != len(b.roles) {
		return false
	}
	for k, v := range a.vars {
		if b.vars[k] != v {
			return false
		}
	}
	for k, v := range a.roles {
		if !slices.Equal(b.roles[k], v) {
			return false
		}
	}
	return true
}
