package octopus_test

import (
	"context"
	"testing"

	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/environments"

	"github.com/bluegreen-deploy/bluegreen/octopus"
	"github.com/bluegreen-deploy/bluegreen/octopus/octopustest"
)

// TestCachedClientOutlivesItsFirstContext: a client connected under a
// context that has ended (a preflight probe, a step with a timeout) and
// bound to a new one with WithContext works under the new one.
func TestCachedClientOutlivesItsFirstContext(t *testing.T) {
	srv := octopustest.New(t)
	srv.AddEnvironment(octopustest.DefaultSpaceID, "Production")
	first, cancel := context.WithCancel(context.Background())
	c, err := octopus.Connect(first, octopus.Config{URL: srv.URL, APIKey: srv.APIKey})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	bound := c.WithContext(context.Background())
	all, err := environments.GetAll(bound.API, bound.SpaceID)
	if err != nil {
		t.Fatalf("call under a live context after the first one ended: %v", err)
	}
	if len(all) != 1 {
		t.Fatalf("%d environments", len(all))
	}
	// And the new context still bounds the calls.
	done, stop := context.WithCancel(context.Background())
	stop()
	if _, err := environments.GetAll(c.WithContext(done).API, c.SpaceID); err == nil {
		t.Fatal("a call under an ended context succeeded")
	}
}
