package e2e_aws

import (
	"context"
	"slices"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/octopustest"
)

// TestRunbooksMakeOctopusFollow runs both AWS runbooks with octopus_project
// set against the in-memory Octopus server: after the swap BlueGreen.Live
// names the new colour and the targets' live/idle tags have moved.
func TestRunbooksMakeOctopusFollow(t *testing.T) {
	for _, c := range []struct {
		book string
		opts awstest.Options
	}{
		{"weighted-dns.yaml", awstest.Options{}},
		{"alb-weighted.yaml", awstest.Options{SharedALB: true}},
	} {
		t.Run(c.book, func(t *testing.T) {
			srv := octopustest.New(t)
			t.Setenv(octopus.EnvURL, srv.URL)
			t.Setenv(octopus.EnvAPIKey, srv.APIKey)
			t.Setenv(octopus.EnvSpace, "")
			space := octopustest.DefaultSpaceID
			proj := srv.AddProject(space, "Web")
			prod := srv.AddEnvironment(space, "Production")
			blue := srv.AddMachine(space, octopustest.Machine{Name: "blue-1", Roles: []string{"app-blue", "app-live"}, EnvironmentIDs: []string{prod}})
			green := srv.AddMachine(space, octopustest.Machine{Name: "green-1", Roles: []string{"app-green", "app-idle"}, EnvironmentIDs: []string{prod}})
			srv.SetVariables(space, proj, []octopustest.Variable{{Name: "BlueGreen.Live", Value: "blue", Environments: []string{prod}}})

			w := newWorld(t, c.book, c.opts)
			over := map[string]string{"octopus_project": "Web", "octopus_environment": "Production", "target_role": "app", "weights": "[100]"}
			w.mustSucceed(over, "green")

			var live string
			for _, v := range srv.Variables(space, proj) {
				if v.Name == "BlueGreen.Live" && slices.Equal(v.Environments, []string{prod}) {
					live = v.Value
				}
			}
			if live != "green" {
				t.Errorf("BlueGreen.Live = %q, want green", live)
			}
			roles := func(id string) []string {
				r := slices.Clone(srv.Machine(space, id).Roles)
				slices.Sort(r)
				return r
			}
			if got := roles(green); !slices.Equal(got, []string{"app-green", "app-live"}) {
				t.Errorf("green target roles %v", got)
			}
			if got := roles(blue); !slices.Equal(got, []string{"app-blue", "app-idle"}) {
				t.Errorf("blue target roles %v", got)
			}

			// And back.
			if err := w.topo.DeregisterGone(context.Background()); err != nil {
				t.Fatal(err)
			}
			w.mustSucceed(over, "blue")
			if got := roles(blue); !slices.Equal(got, []string{"app-blue", "app-live"}) {
				t.Errorf("after swapping back blue target roles %v", got)
			}
		})
	}
}
