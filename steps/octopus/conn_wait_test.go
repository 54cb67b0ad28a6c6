package octopus

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus/octopustest"
	"github.com/bluegreen-deploy/bluegreen/steps/steptest"
)

// TestConnectWaitHonoursTheCallersContext: while one caller connects to a
// slow server, a second caller of the same connection waits for it only as
// long as its own context allows (a gate's deadline, a step's timeout), not
// for as long as the first caller's connect takes.
func TestConnectWaitHonoursTheCallersContext(t *testing.T) {
	f := newFixture(t)
	clients.Clear()
	reached := make(chan struct{})
	var once sync.Once
	f.srv.Inject(octopustest.Fault{Path: "^/api/?$", Delay: 3 * time.Second, Do: func() { once.Do(func() { close(reached) }) }})
	p := steptest.Bind(t, "octopus.variables.get", map[string]any{"project": "Web", "name": "X"})

	slowCtx, cancelSlow := context.WithCancel(context.Background())
	defer cancelSlow()
	first := make(chan error, 1)
	go func() {
		_, err := connect(slowCtx, p)
		first <- err
	}()
	// The first caller is inside its connect once the server has its request.
	select {
	case <-reached:
	case <-time.After(2 * time.Second):
		t.Fatal("the first connect never reached the server")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := connect(ctx, p)
	if waited := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || waited > time.Second {
		t.Errorf("second caller: %v after %s; want its own deadline (50ms) to end the wait", err, waited)
	}
	cancelSlow()
	<-first
}
