// Package state keeps what must outlive a bluegreen process: the journal of
// undos, the lock that keeps two runs of one runbook apart, the live colour
// and the outputs that carry one phase's results to the next. One interface,
// two implementations: a directory of files (the default) and a DynamoDB
// table (for runs that move between machines, as Octopus workers do).
package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// Store is the state backend. Keys name a runbook (its name, or a name the
// user chose); every method is safe for concurrent use by several processes.
type Store interface {
	// Acquire takes the key's exclusive lock for h. When another holder has
	// it, Acquire returns a *LockedError naming that holder. A lock whose
	// holder is provably gone (same host, process no longer running) may be
	// taken over; the store says so through the returned Takeover.
	Acquire(ctx context.Context, key string, h Holder) (*Takeover, error)
	// Release drops the lock if runID holds it.
	Release(ctx context.Context, key string, runID string) error
	// Holder returns the current lock holder, or nil.
	Holder(ctx context.Context, key string) (*Holder, error)
	// Load returns the key's record, or (nil, nil) when there is none.
	Load(ctx context.Context, key string) (*Record, error)
	// Save replaces the key's record durably (atomically: readers see the
	// old record or the new one, and it survives a crash once Save returns).
	Save(ctx context.Context, key string, rec *Record) error
}

// Holder names who holds a lock.
type Holder struct {
	Host  string    `json:"host"`
	PID   int       `json:"pid"`
	RunID string    `json:"run_id"`
	Since time.Time `json:"since"`
}

func (h Holder) String() string {
	return fmt.Sprintf("run %s (pid %d on %s since %s)", h.RunID, h.PID, h.Host, h.Since.UTC().Format(time.RFC3339))
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
	// Live is the colour that serves production after the last completed
	// swap ("" before the first).
	Live string `json:"live,omitempty"`
	// Run is the latest run, finished or not.
	Run *Run `json:"run,omitempty"`
	// History keeps short summaries of earlier runs, newest last, bounded.
	History []Summary `json:"history,omitempty"`
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
}

// Summary is a finished run in the history.
type Summary struct {
	ID       string    `json:"id"`
	Status   string    `json:"status"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Live     string    `json:"live"`
	Error    string    `json:"error,omitempty"`
}
