package state

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// A lock is a lease: its holder writes an expiry into it and renews it
// while it runs (the executor's heartbeat). A holder that stops renewing,
// because its process died, its machine went away or it is paused or cut
// off from the store, loses the lock once the lease ends, and any worker
// may then take it over. Every write of the record is fenced by the lock
// (SaveHeld): it is applied only while the writer still holds it, checked
// atomically with the write, so an old holder that wakes up after a
// takeover cannot change the record.
//
// Expiry is judged by the clock of the host that wants the lock against
// the time the holder wrote. The default lease (two minutes) is far longer
// than the clock skew between synchronised hosts.

// DefaultLease is how long a lock stays held without a renewal.
const DefaultLease = 2 * time.Minute

// ErrLeaseLost matches every *LeaseLostError with errors.Is.
var ErrLeaseLost = errors.New("lease lost")

// LeaseLostError says a run no longer holds its lock: its lease expired
// and another run took the lock over, or someone broke it. The run must
// stop without changing anything more.
type LeaseLostError struct {
	Key   string
	RunID string
	// Holder is who holds the lock now (nil when nobody does).
	Holder *Holder
}

func (e *LeaseLostError) Error() string {
	now := "the lock was broken or released"
	if e.Holder != nil {
		now = "it is now held by " + e.Holder.String()
	}
	return fmt.Sprintf("run %s lost the lock of %q (%s): it changes nothing more and writes nothing to the state", e.RunID, e.Key, now)
}

// Is makes errors.Is(err, ErrLeaseLost) true.
func (e *LeaseLostError) Is(target error) bool { return target == ErrLeaseLost }

// leaseExpired reports whether h's lease has ended at now.
func leaseExpired(h Holder, now time.Time) (string, bool) {
	if h.Expires.IsZero() || !now.After(h.Expires) {
		return "", false
	}
	return fmt.Sprintf("its lease expired at %s (not renewed for %s)", h.Expires.UTC().Format(time.RFC3339), now.Sub(h.Expires).Round(time.Millisecond)), true
}

// StaleHolder reports whether h's lock may be taken over, judged from this
// host now, and why: the takeover rule every store applies.
func StaleHolder(h Holder) (string, bool) {
	return staleHolder(h, os.Hostname, processAlive)
}

// staleHolder is the takeover rule with its seams: a lease that ended
// (any host), or a holder on this host whose process is gone.
func staleHolder(h Holder, hostname func() (string, error), alive func(int) bool) (string, bool) {
	if reason, ok := leaseExpired(h, time.Now()); ok {
		return reason, true
	}
	host, err := hostname()
	if err != nil || host == "" || h.Host != host || h.PID <= 0 || alive(h.PID) {
		return "", false
	}
	return fmt.Sprintf("process %d on %s no longer exists", h.PID, h.Host), true
}
