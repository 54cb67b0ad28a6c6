package octopus_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus/octopustest"
)

// TestRememberWaitHonoursTheCallersContext: while one caller's lookup is
// slow, another caller of the same connection waits for it only as long
// as its own context allows; the slow lookup, once done, is remembered.
func TestRememberWaitHonoursTheCallersContext(t *testing.T) {
	c := octopustest.New(t).Connect(t)
	inside, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	// A bound on the slow lookup, so that a wait that ignores the caller's
	// context fails the test instead of hanging it.
	time.AfterFunc(3*time.Second, free)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = c.Remember("slow", func() (any, error) {
			close(inside)
			<-release
			return "found", nil
		})
	}()
	<-inside

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.WithContext(ctx).Remember("other", func() (any, error) { return "other", nil })
	waited := time.Since(start)
	free()
	if !errors.Is(err, context.DeadlineExceeded) || waited > time.Second {
		t.Errorf("second caller: %v after %s; want its own deadline (50ms) to end the wait", err, waited)
	}
	<-done
	v, err := c.Remember("slow", func() (any, error) { return nil, errors.New("looked up again") })
	if err != nil || v != "found" {
		t.Errorf("the slow lookup, once done: %v, %v; want it remembered", v, err)
	}
}
