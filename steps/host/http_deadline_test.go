package host

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/blackhole"
)

// TestHTTPCheckHungServer: a server that accepts the connection and never
// answers fails the check at the smaller of the check's own timeout and
// what is left of the caller's deadline.
func TestHTTPCheckHungServer(t *testing.T) {
	url := "http://" + blackhole.Listen(t) + "/health"
	for _, c := range []struct {
		name    string
		timeout string
		ctx     time.Duration
	}{
		{"caller's deadline first", "10s", 300 * time.Millisecond},
		{"check's timeout first", "300ms", time.Minute},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), c.ctx)
			defer cancel()
			start := time.Now()
			_, err := runCtx(ctx, t, "host.http-check", map[string]any{"url": url, "timeout": c.timeout}, nil, false)
			took := time.Since(start)
			if err == nil || !strings.Contains(err.Error(), "deadline exceeded") || took >= 10*time.Second {
				t.Fatalf("after %s: err = %v", took, err)
			}
			t.Logf("hung HTTP server: failed after %s", took)
		})
	}
}
