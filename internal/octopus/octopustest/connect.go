package octopustest

import (
	"context"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
)

// Connect returns a client of package octopus (the real go-octopusdeploy
// client underneath) connected to the server's default space with the key
// the server accepts; the test stops when it cannot connect. Tests of the
// client and of the publisher share it rather than each spelling the
// connection out.
func (s *Server) Connect(tb testing.TB) *octopus.Client {
	tb.Helper()
	c, err := octopus.Connect(context.Background(), octopus.Config{URL: s.URL, APIKey: s.APIKey})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
