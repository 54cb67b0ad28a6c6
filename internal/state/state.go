// Package state keeps what must outlive a bluegreen process: the journal of
// undos, the lock that keeps two runs of one runbook apart, the live colour
// and the outputs that carry one phase's results to the next. One interface,
// Store, with the file store (a directory, the default) here; other stores
// live in their own packages and register a --state scheme (see Register):
// internal/state/dynamostate keeps records in a DynamoDB table, for runs
// that move between machines as Octopus workers do.
package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// Store is the state backend. Keys name an application (see the runbook's
// key:); every method is safe for concurrent use by several processes.
type Store interface {
	// Acquire takes the key's exclusive lock for h. When another holder has
	// it, Acquire returns a *LockedError naming that holder. A lock whose
	// holder is provably gone (same host, process no longer running) or
	// whose lease expired (h.Expires passed without a Renew, on any host)
	// may be taken over; the store says so through the returned Takeover.
	Acquire(ctx context.Context, key string, h Holder) (*Takeover, error)
	// Renew moves the end of runID's lease on key to until. It returns a
	// *LeaseLostError when runID no longer holds the lock.
	Renew(ctx context.Context, key string, runID string, until time.Time) error
	// SaveHeld is Save fenced by the lock: it writes only while runID holds
	// key's lock, atomically with that check, and returns a
	// *LeaseLostError otherwise. A run saves only through it, so a holder
	// that lost its lease (paused, partitioned) can never write.
	SaveHeld(ctx context.Context, key string, runID string, rec *Record) error
	// Break removes key's lock whoever holds it and returns the holder it
	// removed (nil when the lock was free): `bluegreen unlock --force`.
	Break(ctx context.Context, key string) (*Holder, error)
	// Release drops the lock if runID holds it.
	Release(ctx context.Context, key string, runID string) error
	// Holder returns the current lock holder, or nil.
	Holder(ctx context.Context, key string) (*Holder, error)
	// Load returns the key's record, or (nil, nil) when there is none.
	Load(ctx context.Context, key string) (*Record, error)
	// Save replaces the key's record durably (atomically: readers see the
	// old record or the new one, and it survives a crash once Save returns).
	// It refuses to replace a record of a newer format (*FormatError).
	Save(ctx context.Context, key string, rec *Record) error
}

// Holder names who holds a lock.
type Holder struct {
	Host  string    `json:"host"`
	PID   int       `json:"pid"`
	RunID string    `json:"run_id"`
	Since time.Time `json:"since"`
	// Expires is the end of the holder's lease: the holder renews it while
	// it runs, and once it has passed any host may take the lock over. A
	// zero Expires is a lock without a lease (only a dead process on the
	// same host frees it).
	Expires time.Time `json:"expires,omitempty"`
}

func (h Holder) String() string {
	s := fmt.Sprintf("run %s (pid %d on %s since %s", h.RunID, h.PID, h.Host, h.Since.UTC().Format(time.RFC3339))
	if !h.Expires.IsZero() {
		s += ", lease until " + h.Expires.UTC().Format(time.RFC3339)
	}
	return s + ")"
}

// Takeover reports a stale lock that Acquire replaced.
type Takeover struct {
	Previous Holder
	Reason   string
}

// LockedError is returned by Acquire when the lock is held.
type LockedError struct {
	Key    string
	Holder Holder
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("runbook %q is locked by %s", e.Key, e.Holder)
}

// ErrLocked matches any *LockedError with errors.Is.
var ErrLocked = errors.New("lock held")

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Record is everything stored for one key.
type Record struct {
	// Format is the record's format version (FormatVersion when saved).
	Format int `json:"format,omitempty"`
	// Live is the colour that serves production after the last completed
	// swap ("" before the first).
	Live string `json:"live,omitempty"`
	// Run is the latest run, finished or not.
	Run *Run `json:"run,omitempty"`
	// History keeps short summaries of earlier runs, newest last: every
	// run that changed something, and the latest MaxHistory of the others.
	History []Summary `json:"history,omitempty"`
	// Extra holds fields this build does not know; they are saved back.
	Extra map[string]json.RawMessage `json:"-"`
}

// Run statuses.
const (
	StatusRunning     = "running"
	StatusSucceeded   = "succeeded"
	StatusFailed      = "failed"      // failed and stopped (on_failure: stop), journal kept
	StatusRolledBack  = "rolled-back" // failed and every undo applied
	StatusRollbackErr = "rollback-failed"
	StatusInterrupted = "interrupted" // signal: resume or rollback next
	StatusPhaseDone   = "phase-done"  // a --phase run finished; later phases pending
)

// Run is one execution of a runbook, possibly spread over several processes
// (phases, resume).
type Run struct {
	ID       string    `json:"id"`
	Runbook  string    `json:"runbook"`
	File     string    `json:"file,omitempty"`
	Status   string    `json:"status"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitempty"`
	// Live and Idle as detect bound them at the start of the run.
	Live string `json:"live"`
	Idle string `json:"idle"`
	// Inputs with sensitive inputs left out (resume asks for them again).
	Inputs map[string]any `json:"inputs,omitempty"`
	// Phase is the phase the run was started for ("" for all phases).
	Phase string `json:"phase,omitempty"`
	// Phases that have completed.
	Phases []string `json:"phases,omitempty"`
	// Done lists the paths of steps that completed (e.g. "shift[1].0").
	Done []string `json:"done,omitempty"`
	// Outputs of completed steps by step id (sensitive outputs left out).
	Outputs map[string]map[string]any `json:"outputs,omitempty"`
	// Journal is the undo log, in the order the changes were made.
	Journal []Entry `json:"journal,omitempty"`
	// Error is the failure reason, if any.
	Error string `json:"error,omitempty"`
	// App is a digest of what the run released (the state key and the
	// colours' resolved identities): resume and recovery refuse inputs
	// that name a different application.
	App string `json:"app,omitempty"`
	// Extra holds fields this build does not know; they are saved back.
	Extra map[string]json.RawMessage `json:"-"`
}

// Entry states.
const (
	// EntryPending: the undo is journaled and the change may or may not
	// have been applied (the process may have died in between). Rollback
	// runs it anyway: every undo restores an absolute state, so running it
	// when the change never happened is harmless.
	EntryPending = "pending"
	EntryApplied = "applied"
	EntryUndone  = "undone"
	EntryFailed  = "undo-failed"
)

// Entry is one journaled undo.
type Entry struct {
	Seq   int        `json:"seq"`
	Step  string     `json:"step"` // the step's path
	Kind  string     `json:"kind"` // the kind of the step that made the change
	Undo  steps.Undo `json:"undo"`
	State string     `json:"state"`
	At    time.Time  `json:"at"`
	Error string     `json:"error,omitempty"`
	// Extra holds fields this build does not know; they are saved back.
	Extra map[string]json.RawMessage `json:"-"`
}

// Summary is a finished run in the history.
type Summary struct {
	ID       string    `json:"id"`
	Status   string    `json:"status"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Live     string    `json:"live"`
	Error    string    `json:"error,omitempty"`
	// Changes is how many changes the run journaled; a run that changed
	// something is never dropped from the history.
	Changes int `json:"changes,omitempty"`
	// Extra holds fields this build does not know; they are saved back.
	Extra map[string]json.RawMessage `json:"-"`
}
