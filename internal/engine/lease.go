package engine

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
)

// A run holds its application's lock as a lease (engine/state/lease.go)
// and renews it from a heartbeat while it runs. The run also keeps its own
// view of how long the lease is certainly still its own: from the start of
// the last successful renewal plus the lease duration, on the monotonic
// clock. A process that was paused (SIGSTOP, a frozen VM) or cut off from
// the store past that point may already have been replaced by another
// worker, so before every change and every undo it checks that view, and
// every state write is fenced by the store. On a lost lease the run's
// context is cancelled and the run stops without changing anything more.

// lease is one run's hold on its application's lock.
type lease struct {
	store state.Store
	key   string
	runID string
	dur   time.Duration

	ctx    context.Context
	cancel context.CancelCauseFunc
	stop   chan struct{}
	done   chan struct{}

	mu    sync.Mutex
	valid time.Time // monotonic: the lease is surely ours until then
	lost  error
}

// leaseDuration is the executor's lease, or the default.
func (x *Executor) leaseDuration() time.Duration {
	if x.Lease > 0 {
		return x.Lease
	}
	return state.DefaultLease
}

// startLease begins the heartbeat of a lock just acquired at start.
func (x *Executor) startLease(ctx context.Context, key, runID string, start time.Time) *lease {
	l := &lease{store: x.Store, key: key, runID: runID, dur: x.leaseDuration(), stop: make(chan struct{}), done: make(chan struct{}), valid: start.Add(x.leaseDuration())}
	l.ctx, l.cancel = context.WithCancelCause(ctx)
	go l.beat()
	return l
}

// beat renews the lease every third of its duration until stopped.
func (l *lease) beat() {
	defer close(l.done)
	every := l.dur / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		began := time.Now()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(l.ctx), every)
		err := l.store.Renew(rctx, l.key, l.runID, began.Add(l.dur).UTC())
		cancel()
		l.mu.Lock()
		switch {
		case err == nil:
			if l.lost == nil {
				l.valid = began.Add(l.dur)
			}
		case errors.Is(err, state.ErrLeaseLost):
			l.lose(err)
		}
		l.mu.Unlock()
		// A renewal that failed for another reason (the store did not
		// answer) is tried again at the next beat; check notices when the
		// lease has run out meanwhile.
		if l.check() != nil {
			return
		}
	}
}

// lose records the loss (l.mu held) and cancels the run.
func (l *lease) lose(err error) {
	if l.lost == nil {
		l.lost = err
		l.cancel(err)
	}
}

// check returns a *state.LeaseLostError when the lease is lost or may have
// run out: the run must not change anything more.
func (l *lease) check() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost == nil && time.Now().After(l.valid) {
		l.lose(&state.LeaseLostError{Key: l.key, RunID: l.runID, Holder: l.holderNow()})
	}
	return l.lost
}

// holderNow reads who holds the lock now, for the error message.
func (l *lease) holderNow() *state.Holder {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h, err := l.store.Holder(ctx, l.key)
	if err != nil || h == nil || h.RunID == l.runID {
		return nil
	}
	return h
}

// end stops the heartbeat and releases the lock (when still held).
func (l *lease) end() {
	close(l.stop)
	<-l.done
	// Release is conditional on holding the lock, so it is safe even
	// when the lease was lost: it then leaves the new holder's lock alone.
	_ = l.store.Release(context.WithoutCancel(l.ctx), l.key, l.runID)
	l.cancel(nil)
}

// beforeAnyChange turns a lease lost at a run's first save, before this
// process changed anything, into what a refused acquire gives: a
// *state.LockedError naming the holder (exit 3). The store granted the
// lock and another run holds it now, so for the caller the lock was held.
func beforeAnyChange(err error) error {
	var lost *state.LeaseLostError
	if errors.As(err, &lost) && lost.Holder != nil {
		return &state.LockedError{Key: lost.Key, Holder: *lost.Holder}
	}
	return err
}
