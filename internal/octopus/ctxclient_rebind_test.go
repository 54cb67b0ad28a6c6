package octopus_test

import (
	"context"
	"testing"

	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/environments"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/octopustest"
)

// TestCachedClientOutlivesConnectContext: steps cache the client a first
// step connected under its own context; once that context has ended, the
// client bound to a later step's context must still work (it did not: the
// go client kept Connect's context in its transport, so every later run
// of a process failed with "context canceled").
func TestCachedClientOutlivesConnectContext(t *testing.T) {
	srv := octopustest.New(t)
	srv.AddEnvironment(octopustest.DefaultSpaceID, "Production")
	first, cancel := context.WithCancel(context.Background())
	c, err := octopus.Connect(first, octopus.Config{URL: srv.URL, APIKey: srv.APIKey})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	envs, err := environments.GetAll(c.WithContext(context.Background()).API, c.SpaceID)
	if err != nil || len(envs) != 1 {
		t.Fatalf("a call under a live context after Connect's ended: %v (%d environments)", err, len(envs))
	}
	ended, stop := context.WithCancel(context.Background())
	stop()
	if _, err := environments.GetAll(c.WithContext(ended).API, c.SpaceID); err == nil {
		t.Error("a call under an ended context succeeded")
	}
}
