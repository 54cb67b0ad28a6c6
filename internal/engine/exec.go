package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// Executor runs runbooks. It is configured once and may run several
// runbooks one after another; it holds no per-run state itself.
type Executor struct {
	// Registry resolves step kinds, also those named by journaled undos.
	Registry *steps.Registry
	// Store keeps the journal, the lock and the live colour.
	Store state.Store
	// Key names the application in the store; "" means the runbook's
	// key: or its default (key.go).
	Key string
	// KeyScope, when set, prefixes the key ("SCOPE/KEY"): the Octopus
	// template passes project, environment and tenant.
	KeyScope string
	// Lease is how long the lock stays held without a renewal before
	// another worker may take it over (default state.DefaultLease).
	Lease time.Duration
	// Phase restricts a run to the steps of one phase ("" runs them all).
	Phase string
	// Sinks receive the run's events in order.
	Sinks []Sink
	// Log is handed to steps (each gets its path as a field).
	Log zerolog.Logger
	// Secrets, when set, is told every sensitive input value of a run
	// before any step runs (see SecretWriter).
	Secrets SecretSink
	// UndoAttempts is how often an undo is tried before it is recorded as
	// failed (default 3), UndoBackoff the first pause between tries (1s).
	UndoAttempts int
	UndoBackoff  time.Duration
	// Recover says what Run does when the latest run did not finish (the
	// process died, was interrupted, or stopped on failure): RecoverFail
	// (the default) refuses, RecoverRollback undoes it and then starts the
	// new run, RecoverResume finishes it instead of starting a new one.
	// Octopus retries a failed step by running it again, so a template
	// that passes --recover rollback heals a crashed release by itself.
	Recover string
}

// Recover modes.
const (
	RecoverFail     = "fail"
	RecoverRollback = "rollback"
	RecoverResume   = "resume"
)

// RunFailedError is returned when a step failed; the run was rolled back
// or stopped as the runbook's on_failure says. Exit code 1.
type RunFailedError struct {
	RunID string
	Step  string
	Cause error
	// RolledBack is true when every recorded undo was applied.
	RolledBack bool
	// RollbackErr is set when some undo failed.
	RollbackErr error
	msg         string
}

func (e *RunFailedError) Error() string { return e.msg }

// Unwrap returns the step's error.
func (e *RunFailedError) Unwrap() error { return e.Cause }

// InterruptedError is returned when the context was cancelled (SIGINT,
// SIGTERM): the run stopped at a safe point and its journal is kept for
// resume or rollback.
type InterruptedError struct {
	RunID string
	Cause error
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("run %s interrupted: journal kept; run `bluegreen resume` or `bluegreen rollback` next", e.RunID)
}

// Unwrap returns the cancellation cause.
func (e *InterruptedError) Unwrap() error { return e.Cause }

// Result describes a finished run.
type Result struct {
	RunID   string
	Status  string
	Live    string
	Idle    string
	Outputs map[string]map[string]any
}

type runCtx struct {
	x       *Executor
	rb      *Runbook
	key     string
	rec     *state.Record
	run     *state.Run
	inputs  map[string]any
	colours map[string]any
	outputs map[string]any
	done    map[string]bool
	secrets *secretSet
	phase   string
	ctx     context.Context
	// probed holds the keys of readiness probes that passed in this run.
	probed map[string]bool
	lease  *lease
	// detected holds what detect's step returned, for the traffic the run
	// started from.
	detected steps.Outputs
}

func newRunID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

func (x *Executor) emit(rc *runCtx, ev Event) {
	b := ev.Common()
	b.Time = time.Now().UTC()
	if rc != nil && rc.run != nil {
		b.RunID = rc.run.ID
	}
	for _, s := range x.Sinks {
		s(ev)
	}
}

// lock takes the application's lock as a lease and loads its record. The
// returned lease's context is cancelled when the lease is lost.
func (x *Executor) lock(ctx context.Context, key string, lockID string) (*state.Record, *lease, error) {
	if x.Store == nil {
		return nil, nil, errors.New("executor has no state store")
	}
	host, _ := os.Hostname()
	now := time.Now()
	tk, err := x.Store.Acquire(ctx, key, state.Holder{Host: host, PID: os.Getpid(), RunID: lockID, Since: now.UTC(), Expires: now.Add(x.leaseDuration()).UTC()})
	if err != nil {
		return nil, nil, err
	}
	if tk != nil {
		x.emit(nil, &Message{Level: "warn", Text: fmt.Sprintf("took over the lock of %q from %s: %s", key, tk.Previous, tk.Reason)})
	}
	l := x.startLease(ctx, key, lockID, now)
	rec, err := x.Store.Load(ctx, key)
	if err != nil {
		l.end()
		return nil, nil, fmt.Errorf("load state of %q: %w", key, err)
	}
	if rec == nil {
		rec = &state.Record{}
	}
	return rec, l, nil
}

// Run executes a runbook with raw inputs (typed here by their
// declarations). It returns *InvalidError for bad inputs or phases (nothing
// changed), *state.LockedError when another run holds the lock,
// *RunFailedError when a step failed, *InterruptedError on cancellation.
func (x *Executor) Run(ctx context.Context, rb *Runbook, raw map[string]any) (*Result, error) {
	inputs, err := rb.ResolveInputs(raw)
	if err != nil {
		return nil, err
	}
	if x.Phase != "" && !contains(rb.Phases, x.Phase) {
		return nil, invalid(rb.File, "unknown phase %q (the runbook's phases: %s)", x.Phase, list(rb.Phases))
	}
	key, app, err := x.stateKey(rb, inputs)
	if err != nil {
		return nil, err
	}
	lockID := newRunID()
	rec, l, err := x.lock(ctx, key, lockID)
	if err != nil {
		return nil, err
	}
	defer l.end()
	ctx = l.ctx
	rc := x.newRunCtx(ctx, rb, rec, nil, inputs, x.Phase)
	rc.key, rc.lease = key, l

	prev := rec.Run
	d := decideRecovery(recoveryState{Prev: prev, Runbook: rb.Name, Phases: rb.Phases, Phase: x.Phase, Recover: x.Recover, App: app, Key: key})
	if d.Next == nextResume {
		return x.resumeLocked(ctx, rb, rec, l, raw)
	}
	if d.RollbackFirst {
		x.emit(nil, &Message{Level: "warn", Text: fmt.Sprintf("run %s did not finish (status %s): rolling it back before the new run", prev.ID, prev.Status)})
		if _, err := x.rollbackLocked(ctx, rb, rec, l, raw); err != nil {
			return nil, err
		}
	}
	if d.Next == nextRefuse {
		return nil, invalid(rb.File, "%s", d.Why)
	}
	continuing := d.Next == nextContinue
	if continuing {
		rc.run = prev
		rc.run.Status = state.StatusRunning
		rc.run.Phase = x.Phase
		rc.run.Error = ""
		if err := rc.restore(); err != nil {
			return nil, err
		}
		for k, v := range rb.RedactInputs(inputs) {
			rc.run.Inputs[k] = v
		}
	} else {
		rc.run = &state.Run{ID: lockID, Runbook: rb.Name, File: rb.File, Status: state.StatusRunning, Started: time.Now().UTC(), Phase: x.Phase, Inputs: rb.RedactInputs(inputs), Outputs: map[string]map[string]any{}, App: app}
		if err := rc.evalColours(); err != nil {
			return nil, invalid(rb.File, "%s", rc.scrub(err.Error()))
		}
		live, inv, err := rc.detectChecked(ctx, rec.Live, true) // detect_probe.go
		if inv != nil {
			return nil, inv
		}
		if err != nil {
			msg := "detect: " + rc.scrub(err.Error())
			return nil, &RunFailedError{RunID: rc.run.ID, Step: "detect", Cause: errors.New(msg), RolledBack: true, msg: msg + " (nothing was changed)"}
		}
		rc.run.Live, rc.run.Idle = live, rb.Other(live)
	}
	if err := rc.preflightOrStop(ctx); err != nil {
		return nil, err
	}
	rec.Run = rc.run
	if err := rc.save(); err != nil {
		return nil, beforeAnyChange(err)
	}
	return rc.execute(ctx, "run")
}

// Resume continues the latest unfinished run from its journal: completed
// steps are skipped, the step that was in progress runs again (every
// change is journaled as an absolute undo, so running it again is safe).
func (x *Executor) Resume(ctx context.Context, rb *Runbook, raw map[string]any) (*Result, error) {
	return x.recoverLocked(ctx, rb, raw, "resume", x.resumeLocked)
}

// recoverLocked finds the latest run by its state key (verb names the
// command in errors), takes the lock and calls locked with it held.
func (x *Executor) recoverLocked(ctx context.Context, rb *Runbook, raw map[string]any, verb string,
	locked func(context.Context, *Runbook, *state.Record, *lease, map[string]any) (*Result, error)) (*Result, error) {
	key, err := x.recoveryKey(rb, raw, verb)
	if err != nil {
		return nil, err
	}
	rec, l, err := x.lock(ctx, key, newRunID())
	if err != nil {
		return nil, err
	}
	defer l.end()
	return locked(l.ctx, rb, rec, l, raw)
}

func (x *Executor) resumeLocked(ctx context.Context, rb *Runbook, rec *state.Record, l *lease, raw map[string]any) (*Result, error) {
	run := rec.Run
	if run == nil || !unfinished(run) {
		status := "none"
		if run != nil {
			status = run.Status
		}
		return nil, invalid(rb.File, "nothing to resume for %q under state key %q (latest run: %s)", rb.Name, l.key, status)
	}
	if run.Runbook != rb.Name {
		return nil, invalid(rb.File, "the unfinished run %s belongs to runbook %q, not %q", run.ID, run.Runbook, rb.Name)
	}
	inputs, err := rb.ResolveInputs(mergeInputs(run.Inputs, raw))
	if err != nil {
		return nil, err
	}
	if err := x.sameApp(rb, run, inputs); err != nil {
		return nil, err
	}
	rc := x.newRunCtx(ctx, rb, rec, run, inputs, run.Phase)
	rc.key, rc.lease = l.key, l
	if err := rc.restore(); err != nil {
		return nil, err
	}
	run.Status, run.Error = state.StatusRunning, ""
	if err := rc.save(); err != nil {
		return nil, beforeAnyChange(err)
	}
	return rc.execute(ctx, "resume")
}

// restore rebuilds a run's in-memory state from its record.
func (rc *runCtx) restore() error {
	if err := rc.evalColours(); err != nil {
		return invalid(rc.rb.File, "%s", rc.scrub(err.Error()))
	}
	for _, p := range rc.run.Done {
		rc.done[p] = true
	}
	for id, o := range rc.run.Outputs {
		rc.outputs[id] = map[string]any(o)
	}
	if rc.run.Outputs == nil {
		rc.run.Outputs = map[string]map[string]any{}
	}
	if rc.run.Inputs == nil {
		rc.run.Inputs = map[string]any{}
	}
	return nil
}

// newRunCtx builds a run's context and, before anything can log, hands
// the run's sensitive input values to the executor's secret sink.
func (x *Executor) newRunCtx(ctx context.Context, rb *Runbook, rec *state.Record, run *state.Run, inputs map[string]any, phase string) *runCtx {
	rc := &runCtx{x: x, rb: rb, rec: rec, run: run, inputs: inputs, outputs: map[string]any{}, done: map[string]bool{}, secrets: rb.secretSet(inputs, x.Secrets), phase: phase, ctx: ctx, probed: map[string]bool{}}
	return rc
}

// mergeInputs overlays the inputs given now on those a run journaled.
func mergeInputs(journaled, given map[string]any) map[string]any {
	out := make(map[string]any, len(journaled)+len(given))
	for k, v := range journaled {
		out[k] = v
	}
	for k, v := range given {
		out[k] = v
	}
	return out
}
