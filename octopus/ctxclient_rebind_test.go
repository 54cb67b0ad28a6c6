package octopus_test

import (
	"context"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/octopus"
	"github.com/bluegreen-deploy/bluegreen/octopus/octopustest"
)

// TestClientOutlivesTheContextItConnectedWith: a cached client is bound to
// each step's context in turn; once the step that connected has ended
// (its context cancelled), the next step's calls must still work. They
// failed with "context canceled" because the connecting context stayed in
// the transport under every later binding.
func TestClientOutlivesTheContextItConnectedWith(t *testing.T) {
	srv := octopustest.New(t)
	first, cancel := context.WithCancel(context.Background())
	c, err := octopus.Connect(first, octopus.Config{URL: srv.URL, APIKey: srv.APIKey})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	next := c.WithContext(context.Background())
	if _, err := next.GetDocs(next.Path("/projects/all")); err != nil {
		t.Fatalf("a call under a live context: %v", err)
	}
}
