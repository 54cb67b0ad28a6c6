package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
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

func unfinished(r *state.Run) bool {
	if r == nil {
		return false
	}
	switch r.Status {
	case state.StatusRunning, state.StatusInterrupted, state.StatusFailed, state.StatusRollbackErr:
		return true
	}
	return false
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
	continuing := x.Phase != "" && prev != nil && prev.Status == state.StatusPhaseDone && prev.Runbook == rb.Name
	// The first phase asked for again, while a release that already ran it
	// waits between phases, means that release was abandoned: the Octopus
	// deployment failed or was cancelled before its later phases (a failed
	// package deploy, a rejected manual intervention). --recover rollback
	// undoes it and starts a new release, as for a crashed run.
	if continuing && x.Recover == RecoverRollback && x.Phase == rb.Phases[0] && contains(prev.Phases, x.Phase) {
		continuing = false
	}
	// A release stopped between phases holds applied changes in its
	// journal: a run that does not continue it must not drop them.
	if prev != nil && prev.Status == state.StatusPhaseDone && !continuing && x.Recover != RecoverRollback {
		return nil, invalid(rb.File, "run %s of %q stopped between phases (done: %s): continue it with --phase %s, or undo it with `bluegreen rollback` (or run with --recover rollback)", prev.ID, rb.Name, strings.Join(prev.Phases, ", "), nextPhase(rb.Phases, prev.Phases))
	}
	if (unfinished(prev) || prev != nil && prev.Status == state.StatusPhaseDone) && prev.App != "" && prev.App != app {
		return nil, invalid(rb.File, "run %s stored under %q released another application (these inputs name a different one): nothing was changed; "+
			"give each application its own state key (the runbook's key:, or --key)", prev.ID, key)
	}
	if unfinished(prev) || (prev != nil && prev.Status == state.StatusPhaseDone && !continuing) {
		switch x.Recover {
		case RecoverResume:
			return x.resumeLocked(ctx, rb, rec, l, raw)
		case RecoverRollback:
			x.emit(nil, &Message{Level: "warn", Text: fmt.Sprintf("run %s did not finish (status %s): rolling it back before the new run", prev.ID, prev.Status)})
			if _, err := x.rollbackLocked(ctx, rb, rec, l, raw); err != nil {
				return nil, err
			}
			prev = rec.Run
			continuing = false
		case "", RecoverFail:
			return nil, invalid(rb.File, "run %s of %q did not finish (status %s): run `bluegreen resume` or `bluegreen rollback` first (or run with --recover rollback|resume)", prev.ID, rb.Name, prev.Status)
		default:
			return nil, invalid(rb.File, "recover: expected fail, rollback or resume, found %q", x.Recover)
		}
	}
	if x.Phase != "" {
		idx := indexOf(rb.Phases, x.Phase)
		var have []string
		if continuing {
			have = prev.Phases
		}
		if contains(have, x.Phase) {
			return nil, invalid(rb.File, "phase %q of run %s already ran; the next phase is %s (or undo the run with `bluegreen rollback`)", x.Phase, prev.ID, nextPhase(rb.Phases, have))
		}
		for _, p := range rb.Phases[:idx] {
			if !contains(have, p) {
				return nil, invalid(rb.File, "phase %q needs phase %q to run first (bluegreen run --phase %s)", x.Phase, p, p)
			}
		}
	}
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
		if err := rc.preflightDetect(ctx); err != nil {
			return nil, err
		}
		live, err := rc.detect(ctx, rec.Live)
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

func indexOf(l []string, s string) int {
	for i, x := range l {
		if x == s {
			return i
		}
	}
	return -1
}

func nextPhase(all, have []string) string {
	for _, p := range all {
		if !contains(have, p) {
			return p
		}
	}
	return "none (all phases ran)"
}

// Resume continues the latest unfinished run from its journal: completed
// steps are skipped, the step that was in progress runs again (every
// change is journaled as an absolute undo, so running it again is safe).
func (x *Executor) Resume(ctx context.Context, rb *Runbook, raw map[string]any) (*Result, error) {
	key, err := x.recoveryKey(rb, raw, "resume")
	if err != nil {
		return nil, err
	}
	lockID := newRunID()
	rec, l, err := x.lock(ctx, key, lockID)
	if err != nil {
		return nil, err
	}
	defer l.end()
	return x.resumeLocked(l.ctx, rb, rec, l, raw)
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

// Rollback applies the latest run's recorded undos in reverse order. It
// works for an interrupted or crashed run and also for a finished one,
// which it reverts (the live colour goes back to what it was).
func (x *Executor) Rollback(ctx context.Context, rb *Runbook, raw map[string]any) (*Result, error) {
	key, err := x.recoveryKey(rb, raw, "rollback")
	if err != nil {
		return nil, err
	}
	lockID := newRunID()
	rec, l, err := x.lock(ctx, key, lockID)
	if err != nil {
		return nil, err
	}
	defer l.end()
	return x.rollbackLocked(l.ctx, rb, rec, l, raw)
}

func (x *Executor) rollbackLocked(ctx context.Context, rb *Runbook, rec *state.Record, l *lease, raw map[string]any) (*Result, error) {
	run := rec.Run
	if run == nil {
		return nil, invalid(rb.File, "nothing to roll back for %q under state key %q: no run recorded", rb.Name, l.key)
	}
	if all, err := rb.ResolveInputs(mergeInputs(run.Inputs, raw)); err == nil {
		if err := x.sameApp(rb, run, all); err != nil {
			return nil, err
		}
	}
	// Inputs are only needed to resolve sensitive undo params; a missing
	// one is reported by the undo that needs it.
	inputs := map[string]any{}
	for k, v := range mergeInputs(run.Inputs, raw) {
		if in := rb.Input(k); in != nil {
			if cv, err := steps.Coerce(in.Type, "", v); err == nil {
				inputs[k] = cv
			}
		}
	}
	rc := x.newRunCtx(ctx, rb, rec, run, inputs, "")
	rc.key, rc.lease = l.key, l
	start := time.Now()
	x.emit(rc, &RunStarted{Runbook: rb.Name, Mode: "rollback", Live: run.Live, Idle: run.Idle, Inputs: rb.RedactInputs(inputs)})
	pending := 0
	for _, e := range run.Journal {
		if e.State != state.EntryUndone {
			pending++
		}
	}
	if pending == 0 {
		x.emit(rc, &Message{Level: "info", Text: fmt.Sprintf("nothing to roll back: run %s has no change left to undo", run.ID)})
		x.emit(rc, &RunFinished{Status: run.Status, Live: rec.Live, Duration: time.Since(start)})
		return &Result{RunID: run.ID, Status: run.Status, Live: rec.Live, Idle: rb.Other(rec.Live)}, nil
	}
	rbErr := rc.rollback(context.WithoutCancel(ctx))
	run.Finished = time.Now().UTC()
	if rbErr != nil {
		run.Status = state.StatusRollbackErr
		run.Error = rc.scrub(rbErr.Error())
	} else {
		run.Status = state.StatusRolledBack
		if run.Live != "" {
			rec.Live = run.Live
		}
	}
	rc.addHistory()
	if err := rc.save(); err != nil {
		return nil, err
	}
	// A rollback that undid everything finished well: the run's own
	// failure (an interrupt, a failed gate) stays in its record but is not
	// this rollback's error.
	finErr := ""
	if rbErr != nil {
		finErr = run.Error
	}
	x.emit(rc, &RunFinished{Status: run.Status, Live: rec.Live, Error: finErr, Duration: time.Since(start)})
	res := &Result{RunID: run.ID, Status: run.Status, Live: rec.Live, Idle: rb.Other(rec.Live)}
	if rbErr != nil {
		return res, &RunFailedError{RunID: run.ID, Step: "rollback", Cause: rbErr, RollbackErr: rbErr, msg: "rollback incomplete: " + run.Error}
	}
	return res, nil
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

// save writes the record, fenced by the run's lease: a run that lost its
// lock cannot write.
func (rc *runCtx) save() error {
	if err := rc.x.Store.SaveHeld(context.WithoutCancel(rc.ctx), rc.key, rc.lease.runID, rc.rec); err != nil {
		if errors.Is(err, state.ErrLeaseLost) {
			return err
		}
		return fmt.Errorf("save state of %q: %w", rc.key, err)
	}
	return nil
}

// addHistory appends the run to the history; the store bounds it
// (state.BoundHistory), keeping every run that changed something.
func (rc *runCtx) addHistory() {
	r := rc.run
	rc.rec.History = append(rc.rec.History, state.Summary{ID: r.ID, Status: r.Status, Started: r.Started, Finished: r.Finished, Live: rc.rec.Live, Error: r.Error, Changes: len(r.Journal)})
}

// execute runs the steps and settles the run's outcome.
func (rc *runCtx) execute(ctx context.Context, mode string) (*Result, error) {
	x, rb, run := rc.x, rc.rb, rc.run
	start := time.Now()
	x.emit(rc, &RunStarted{Runbook: rb.Name, Mode: mode, Phase: rc.phase, Live: run.Live, Idle: run.Idle, Inputs: rc.scrubMap(rb.RedactInputs(rc.inputs))})
	if rc.detected != nil && rb.Detect != nil {
		rc.emitTraffic("detect", rb.Detect.Step.Spec, rc.detected, TrafficDetect)
	}
	err := rc.list(ctx, rb.Steps, "", map[string]any{}, true)
	if lerr := rc.lease.check(); lerr != nil {
		// Another worker holds the application now: report and write
		// nothing (the fenced save would refuse anyway).
		x.emit(rc, &Message{Level: "error", Text: lerr.Error()})
		return nil, lerr
	}
	res := func() *Result {
		out := map[string]map[string]any{}
		for k, v := range rc.outputs {
			if m, ok := v.(map[string]any); ok {
				out[k] = m
			}
		}
		return &Result{RunID: run.ID, Status: run.Status, Live: rc.rec.Live, Idle: rb.Other(rc.rec.Live), Outputs: out}
	}
	if err != nil {
		if ctx.Err() != nil {
			run.Status = state.StatusInterrupted
			run.Error = "interrupted: " + rc.scrub(err.Error())
			if serr := rc.save(); serr != nil {
				return nil, serr
			}
			x.emit(rc, &RunFinished{Status: run.Status, Live: rc.rec.Live, Error: run.Error, Duration: time.Since(start)})
			return res(), &InterruptedError{RunID: run.ID, Cause: context.Cause(ctx)}
		}
		var se *stepError
		stepPath := ""
		if errors.As(err, &se) {
			stepPath = se.path
		}
		run.Error = rc.scrub(err.Error())
		// The cause is the scrubbed text: whoever unwraps the error must
		// not find a secret the message itself hides.
		fe := &RunFailedError{RunID: run.ID, Step: stepPath, Cause: errors.New(run.Error)}
		if rb.OnFailure == "stop" {
			run.Status = state.StatusFailed
			fe.msg = fmt.Sprintf("%s (on_failure: stop: state and journal kept; run `bluegreen rollback` or `bluegreen resume`)", run.Error)
		} else {
			x.emit(rc, &Message{Level: "warn", Text: "rolling back: " + run.Error})
			if rbErr := rc.rollback(context.WithoutCancel(ctx)); rbErr != nil {
				run.Status = state.StatusRollbackErr
				fe.RollbackErr = rbErr
				fe.msg = fmt.Sprintf("%s; rollback incomplete: %s", run.Error, rc.scrub(rbErr.Error()))
			} else {
				run.Status = state.StatusRolledBack
				fe.RolledBack = true
				fe.msg = run.Error + " (rolled back)"
			}
		}
		run.Finished = time.Now().UTC()
		rc.addHistory()
		if serr := rc.save(); serr != nil {
			return nil, serr
		}
		x.emit(rc, &RunFinished{Status: run.Status, Live: rc.rec.Live, Error: fe.msg, Duration: time.Since(start)})
		return res(), fe
	}
	if rc.phase != "" {
		run.Phases = append(run.Phases, rc.phase)
	}
	allDone := rc.phase == "" || len(run.Phases) == len(rb.Phases)
	if !allDone {
		run.Status = state.StatusPhaseDone
	} else {
		run.Status = state.StatusSucceeded
		run.Finished = time.Now().UTC()
		live := run.Idle
		if rb.Detect != nil {
			// Ask the world rather than assume: a runbook need not swap.
			if l, err := rc.detect(ctx, rc.rec.Live); err == nil {
				live = l
			} else {
				x.emit(rc, &Message{Level: "warn", Text: "could not detect the live colour after the run, assuming " + live + ": " + rc.scrub(err.Error())})
			}
		}
		rc.rec.Live = live
		rc.addHistory()
	}
	if err := rc.save(); err != nil {
		return nil, err
	}
	live := rc.rec.Live
	if run.Status == state.StatusPhaseDone {
		// Between phases nothing has swapped yet: the run's live colour
		// still serves (the record has none before a first release ends),
		// and Octopus's BlueGreen.Live/Idle after prepare must say so.
		live = run.Live
	}
	x.emit(rc, &RunFinished{Status: run.Status, Live: live, Duration: time.Since(start)})
	return res(), nil
}

func (rc *runCtx) evalColours() error {
	rc.colours = map[string]any{}
	v := rc.vals(nil)
	for _, c := range rc.rb.Colours {
		m := map[string]any{"name": c.Name}
		for _, a := range c.Attrs {
			val, err := a.Value.Eval(v)
			if err != nil {
				return fmt.Errorf("colour %s: %s: %w", c.Name, a.Name, err)
			}
			rc.noteSecrets(a.Value, v)
			m[a.Name] = val
		}
		rc.colours[c.Name] = m
	}
	return nil
}

// detect runs the detect step and returns the live colour. Without a
// detect block the store's live colour (or the first colour) is used.
func (rc *runCtx) detect(ctx context.Context, stored string) (string, error) {
	d := rc.rb.Detect
	if d == nil {
		if stored != "" {
			return stored, nil
		}
		return rc.rb.Colours[0].Name, nil
	}
	vals := rc.vals(nil)
	raw, err := d.Step.With.Eval(vals)
	if err != nil {
		return "", err
	}
	rc.noteSecrets(d.Step.With, vals)
	params, perrs := d.Step.Spec.Bind(asMap(raw))
	if len(perrs) > 0 {
		return "", bindError(d.Step.Uses, perrs)
	}
	out, err := safeRun(ctx, d.Step.Spec.New(), &steps.Call{Params: params, Log: rc.x.Log, BeforeChange: steps.NoChange})
	if err != nil {
		return "", fmt.Errorf("%s: %w", d.Step.Uses, err)
	}
	rc.detected = out
	for k, v := range out {
		vals[k] = v
	}
	live, err := d.Live.Eval(vals)
	if err != nil {
		return "", err
	}
	s, _ := live.(string)
	if rc.rb.Colour(s) == nil {
		return "", fmt.Errorf("detect: live evaluated to %q, expected one of the colours (%s, %s)", s, rc.rb.Colours[0].Name, rc.rb.Colours[1].Name)
	}
	return s, nil
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

func bindError(kind string, errs []*steps.ParamError) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("%s: %s", kind, strings.Join(msgs, "; "))
}

// vals is the runtime environment for expressions.
func (rc *runCtx) vals(locals map[string]any) map[string]any {
	m := map[string]any{
		"inputs":  rc.inputs,
		"colours": rc.colours,
		"steps":   rc.outputs,
	}
	if rc.run != nil {
		m["live"] = rc.colours[rc.run.Live]
		m["idle"] = rc.colours[rc.run.Idle]
		m["run"] = map[string]any{"id": rc.run.ID, "started": rc.run.Started, "phase": rc.phase}
	}
	for k, v := range locals {
		m[k] = v
	}
	return m
}

// stepError marks the step a failure came from.
type stepError struct {
	path string
	err  error
}

func (e *stepError) Error() string { return fmt.Sprintf("step %s: %v", e.path, e.err) }
func (e *stepError) Unwrap() error { return e.err }

func (rc *runCtx) list(ctx context.Context, list []*Step, prefix string, locals map[string]any, top bool) error {
	for _, st := range list {
		if top && rc.phase != "" && st.Phase != rc.phase {
			continue
		}
		path := prefix + st.seg
		if rc.done[path] {
			rc.x.emit(rc, &StepSkipped{Path: path, Label: st.Label(), Reason: "completed earlier in this run"})
			continue
		}
		// A safe point: between steps nothing is half done.
		if err := ctx.Err(); err != nil {
			return err
		}
		vals := rc.vals(locals)
		if st.If != nil {
			ok, err := st.If.EvalBool(vals)
			if err != nil {
				return &stepError{path, fmt.Errorf("if: %w", err)}
			}
			if !ok {
				rc.x.emit(rc, &StepSkipped{Path: path, Label: st.Label(), Reason: "if: " + st.If.Source + " is false"})
				if err := rc.markDone(path); err != nil {
					return err
				}
				continue
			}
		}
		if st.Foreach != nil {
			v, err := st.Foreach.Eval(vals)
			if err != nil {
				return &stepError{path, fmt.Errorf("foreach: %w", err)}
			}
			rc.noteSecrets(st.Foreach, vals)
			items, ok := v.([]any)
			if !ok && v != nil {
				return &stepError{path, fmt.Errorf("foreach: expected a list, found %s", steps.TypeOf(v))}
			}
			for i, item := range items {
				inner := map[string]any{}
				for k, v := range locals {
					inner[k] = v
				}
				inner[st.As] = item
				inner[st.As+"_index"] = i
				if err := rc.list(ctx, st.Steps, fmt.Sprintf("%s[%d]/", path, i), inner, false); err != nil {
					return err
				}
			}
			if err := rc.markDone(path); err != nil {
				return err
			}
			continue
		}
		if err := rc.leaf(ctx, st, path, vals); err != nil {
			return err
		}
	}
	return nil
}

func (rc *runCtx) markDone(path string) error {
	rc.done[path] = true
	rc.run.Done = append(rc.run.Done, path)
	return rc.save()
}

func (rc *runCtx) leaf(ctx context.Context, st *Step, path string, vals map[string]any) error {
	x := rc.x
	raw, err := st.With.Eval(vals)
	if err != nil {
		return rc.fail(st, path, fmt.Errorf("with: %w", err))
	}
	rc.noteSecrets(st.With, vals)
	params, perrs := st.Spec.Bind(asMap(raw))
	if len(perrs) > 0 {
		return rc.fail(st, path, bindError(st.Uses, perrs))
	}
	if err := rc.probeBeforeRun(ctx, st, params); err != nil {
		return rc.fail(st, path, err)
	}
	x.emit(rc, &StepStarted{Path: path, ID: st.ID, Label: st.Label(), Kind: st.Uses, Phase: st.Phase, Params: rc.scrubMap(st.Spec.Redacted(params))})
	began := time.Now()
	timeout, err := evalDuration(st.timeoutT, st.Timeout, vals, "timeout")
	if err != nil {
		return rc.fail(st, path, err)
	}
	sctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	changed := 0
	call := &steps.Call{
		Params: params,
		Log:    x.Log.With().Str("step", path).Logger(),
		BeforeChange: func(u steps.Undo) error {
			if err := rc.journal(st, path, u); err != nil {
				return err
			}
			changed++
			return nil
		},
	}
	inst := st.Spec.New()
	var out steps.Outputs
	if st.Gate != nil {
		out, err = rc.gate(sctx, st, path, inst, call, vals)
	} else {
		out, err = safeRun(sctx, inst, call)
		if err == nil && timeout > 0 && sctx.Err() != nil && ctx.Err() == nil {
			err = fmt.Errorf("timed out after %s", timeout)
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return rc.fail(st, path, err)
	}
	if changed > 0 {
		for i := range rc.run.Journal {
			if e := &rc.run.Journal[i]; e.Step == path && e.State == state.EntryPending {
				e.State = state.EntryApplied
			}
		}
		x.emit(rc, &ChangeApplied{Path: path, Kind: st.Uses})
	}
	outputs := map[string]any{}
	for k, v := range out {
		outputs[k] = steps.Normalize(v)
	}
	public, withheld, secretOut := map[string]any{}, []string(nil), map[string]any{}
	for k, v := range outputs {
		if o := st.Spec.Output(k); o != nil && o.Sensitive {
			withheld = append(withheld, k)
			secretOut[k] = v
			continue
		}
		public[k] = v
	}
	sort.Strings(withheld)
	if st.ID != "" {
		rc.outputs[st.ID] = outputs
		rc.run.Outputs[st.ID] = rc.scrubMap(public)
	}
	rc.done[path] = true
	rc.run.Done = append(rc.run.Done, path)
	if err := rc.save(); err != nil {
		return err
	}
	x.emit(rc, &StepFinished{Path: path, ID: st.ID, Label: st.Label(), Kind: st.Uses, Outputs: rc.scrubMap(public), Duration: time.Since(began), Sensitive: withheld, SensitiveOutputs: secretOut})
	rc.emitTraffic(path, st.Spec, out, TrafficStep)
	return nil
}

func (rc *runCtx) fail(st *Step, path string, err error) error {
	rc.x.emit(rc, &StepFailed{Path: path, Label: st.Label(), Kind: st.Uses, Error: rc.scrub(err.Error())})
	return &stepError{path, err}
}

// journal records an undo durably before the step changes anything. Values
// of sensitive inputs are stored as references (${{ inputs.NAME }}) and
// resolved again at rollback time, so no secret is written to the journal.
func (rc *runCtx) journal(st *Step, path string, u steps.Undo) error {
	spec, ok := rc.x.Registry.Lookup(u.Kind)
	if !ok {
		return fmt.Errorf("undo names unknown step kind %q", u.Kind)
	}
	params := map[string]any{}
	secrets := rc.secrets.all()
	for k, v := range u.Params {
		jv, found := journalValue(v, secrets)
		if p := spec.Param(k); p != nil && p.Sensitive && !found {
			// A secret that did not come from an input cannot be stored;
			// rollback will ask for it.
			jv = steps.Redaction
		}
		params[k] = jv
	}
	if err := rc.lease.check(); err != nil {
		return err
	}
	e := state.Entry{Seq: len(rc.run.Journal) + 1, Step: path, Kind: st.Uses, Undo: steps.Undo{Kind: u.Kind, Params: params, Note: rc.scrub(u.Note), RestoresCapacity: u.RestoresCapacity, Settle: u.Settle}, State: state.EntryPending, At: time.Now().UTC()}
	rc.run.Journal = append(rc.run.Journal, e)
	if err := rc.save(); err != nil {
		rc.run.Journal = rc.run.Journal[:len(rc.run.Journal)-1]
		return fmt.Errorf("journal undo: %w", err)
	}
	rc.x.emit(rc, &ChangeRecorded{Path: path, Seq: e.Seq, Undo: e.Undo})
	// Saving took time: make sure the lease is still ours before the
	// step goes on to make its change.
	return rc.lease.check()
}

// rollback runs every undo not yet applied, newest first. It goes on past a
// failed undo (each restores something independent) and reports all
// failures at the end, except after an undo whose step marked its failure
// with steps.Halt: then it stops at once (see rollbackHalted).
func (rc *runCtx) rollback(ctx context.Context) error {
	var failed []string
	attempts := rc.x.UndoAttempts
	if attempts <= 0 {
		attempts = 3
	}
	backoff := rc.x.UndoBackoff
	if backoff <= 0 {
		backoff = time.Second
	}
	var pace rollbackPace
	for i := len(rc.run.Journal) - 1; i >= 0; i-- {
		e := &rc.run.Journal[i]
		if e.State == state.EntryUndone {
			continue
		}
		if err := pace.before(ctx, rc, e); err != nil {
			return err
		}
		// Pacing may have waited: the lease must still be ours to undo.
		if err := rc.lease.check(); err != nil {
			return err
		}
		err := rc.applyUndo(ctx, e, attempts, backoff)
		ev := &UndoApplied{Seq: e.Seq, Path: e.Step, Undo: e.Undo}
		if err != nil {
			e.State, e.Error = state.EntryFailed, rc.scrub(err.Error())
			ev.Error = e.Error
			failed = append(failed, fmt.Sprintf("undo %d (%s): %s", e.Seq, e.Undo.Kind, e.Error))
		} else {
			e.State, e.Error = state.EntryUndone, ""
			pace.applied(e)
		}
		if serr := rc.save(); serr != nil {
			return serr
		}
		rc.x.emit(rc, ev)
		if err != nil && steps.IsHalt(err) {
			return rc.rollbackHalted(e, i, err)
		}
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "; "))
	}
	return nil
}

func (rc *runCtx) applyUndo(ctx context.Context, e *state.Entry, attempts int, backoff time.Duration) error {
	spec, ok := rc.x.Registry.Lookup(e.Undo.Kind)
	if !ok {
		return fmt.Errorf("unknown step kind %q", e.Undo.Kind)
	}
	raw := map[string]any{}
	for k, v := range e.Undo.Params {
		if s, ok := v.(string); ok && s == steps.Redaction {
			if p := spec.Param(k); p != nil && p.Sensitive {
				return fmt.Errorf("param %q is sensitive and was not journaled; undo it by hand", k)
			}
		}
		rv, err := rc.resolveJournaled(v)
		if err != nil {
			return fmt.Errorf("param %q %w", k, err)
		}
		raw[k] = rv
	}
	params, perrs := spec.Bind(raw)
	if len(perrs) > 0 {
		return bindError(spec.Kind, perrs)
	}
	var err error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			select {
			case <-time.After(backoff << (i - 1)):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		var out steps.Outputs
		out, err = safeRun(ctx, spec.New(), &steps.Call{Params: params, Log: rc.x.Log.With().Str("undo", e.Step).Logger(), BeforeChange: steps.NoChange, Undoing: true})
		if err == nil {
			rc.emitTraffic(e.Step, spec, out, TrafficUndo)
			return nil
		}
		if steps.IsHalt(err) {
			return err
		}
	}
	return err
}

// gate polls a read-only step until its condition holds.
func (rc *runCtx) gate(ctx context.Context, st *Step, path string, inst steps.Step, call *steps.Call, vals map[string]any) (steps.Outputs, error) {
	g := *st.Gate
	var err error
	if g.Every, err = evalDuration(g.everyT, g.Every, vals, "gate: every"); err != nil {
		return nil, err
	}
	if g.Timeout, err = evalDuration(g.timeoutT, g.Timeout, vals, "gate: timeout"); err != nil {
		return nil, err
	}
	// A zero timeout is a user who wants no wait (e.g. bake=0s): the step
	// is read once, `fail` is still checked and `until` must hold at once.
	if err := checkGateDurations(g.Every, g.Timeout); err != nil {
		return nil, err
	}
	start := time.Now()
	passes, errs := 0, 0
	var lastVals map[string]any
	var lastErr error
	for attempt := 1; ; attempt++ {
		out, err := rc.poll(ctx, inst, call, g.Timeout-time.Since(start))
		elapsed := time.Since(start)
		ev := &GateEvaluated{Path: path, Label: st.Label(), Attempt: attempt, Elapsed: elapsed, Needed: g.Passes}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			errs++
			passes = 0
			lastErr = err
			ev.Verdict, ev.Error = VerdictError, rc.scrub(err.Error())
			rc.x.emit(rc, ev)
			if g.MaxErrors > 0 && errs >= g.MaxErrors {
				return nil, fmt.Errorf("gate gave up after %d consecutive errors: %w", errs, err)
			}
		} else {
			errs, lastErr = 0, nil
			gv := make(map[string]any, len(vals)+len(out)+2)
			for k, v := range vals {
				gv[k] = v
			}
			for k, v := range out {
				gv[k] = steps.Normalize(v)
			}
			gv["elapsed"], gv["attempt"] = elapsed, attempt
			lastVals = map[string]any{}
			if g.Fail != nil {
				for k, v := range g.Fail.Values(gv) {
					lastVals[k] = v
				}
			}
			if g.Until != nil {
				for k, v := range g.Until.Values(gv) {
					lastVals[k] = v
				}
			}
			ev.Values = rc.scrubMap(lastVals)
			if g.Fail != nil {
				bad, err := g.Fail.EvalBool(gv)
				if err != nil {
					return nil, fmt.Errorf("gate fail: %w", err)
				}
				ev.Expression = g.Fail.Source
				if bad {
					ev.Verdict = VerdictFail
					rc.x.emit(rc, ev)
					return nil, fmt.Errorf("gate failed: %s (%s)", g.Fail.Source, formatVals(lastVals))
				}
			}
			if g.Until != nil {
				ok, err := g.Until.EvalBool(gv)
				if err != nil {
					return nil, fmt.Errorf("gate until: %w", err)
				}
				ev.Expression = g.Until.Source
				if ok {
					passes++
				} else {
					passes = 0
				}
				ev.Passes = passes
				if passes >= g.Passes {
					ev.Verdict = VerdictPass
					rc.x.emit(rc, ev)
					return out, nil
				}
			} else if elapsed >= g.Timeout {
				// A gate with only `fail` watches for the whole timeout
				// and passes when it never fired.
				ev.Verdict = VerdictPass
				rc.x.emit(rc, ev)
				return out, nil
			}
			ev.Verdict = VerdictWait
			rc.x.emit(rc, ev)
		}
		remaining := g.Timeout - time.Since(start)
		if remaining <= 0 {
			if g.Until == nil && lastErr == nil {
				continue // one last poll decides a fail-only gate
			}
			if lastErr != nil {
				return nil, fmt.Errorf("gate timed out after %s (%d polls); last poll failed: %w", g.Timeout, attempt, lastErr)
			}
			return nil, fmt.Errorf("gate timed out after %s (%d polls): %s never held (%s)", g.Timeout, attempt, g.Until.Source, formatVals(lastVals))
		}
		wait := min(g.Every, remaining)
		if g.Until == nil && remaining < g.Every {
			wait = remaining
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// safeRun runs a step and turns a panic in it into an error, so a bug in
// one provider fails that step (and the run rolls back) instead of killing
// the process between a change and its undo.
func safeRun(ctx context.Context, st steps.Step, call *steps.Call) (out steps.Outputs, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("step panicked: %v", r)
		}
	}()
	return st.Run(ctx, call)
}

// evalDuration resolves a duration that may be an expression.
func evalDuration(t *Tmpl, lit time.Duration, vals map[string]any, what string) (time.Duration, error) {
	if t == nil {
		return lit, nil
	}
	v, err := t.Eval(vals)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	d, err := steps.Coerce(steps.Duration, "", v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return d.(time.Duration), nil
}

func formatVals(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + steps.FormatValue(m[k])
	}
	return strings.Join(parts, ", ")
}

// scrub removes sensitive input values from text.
// (secrets.go: every secret, whatever its length; credentials too).
func (rc *runCtx) scrub(s string) string { return maskText(s, rc.secrets.all()) }

func (rc *runCtx) scrubValue(v any) any { return maskValue(v, rc.secrets.all()) }

func (rc *runCtx) scrubMap(m map[string]any) map[string]any {
	secrets := rc.secrets.all()
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = maskValue(v, secrets)
	}
	return out
}
