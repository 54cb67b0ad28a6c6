package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// Rollback applies the latest run's recorded undos in reverse order. It
// works for an interrupted or crashed run and also for a finished one,
// which it reverts (the live colour goes back to what it was).
func (x *Executor) Rollback(ctx context.Context, rb *Runbook, raw map[string]any) (*Result, error) {
	return x.recoverLocked(ctx, rb, raw, "rollback", x.rollbackLocked)
}

func (x *Executor) rollbackLocked(ctx context.Context, rb *Runbook, rec *state.Record, l *lease, raw map[string]any) (*Result, error) {
	run := rec.Run
	if run == nil {
		return nil, invalid(rb.File, "nothing to roll back for %q under state key %q: no run recorded", rb.Name, l.key)
	}
	inputs, complete, err := rb.rollbackInputs(run.Inputs, raw)
	if err != nil {
		return nil, err
	}
	if complete {
		if err := x.sameApp(rb, run, inputs); err != nil {
			return nil, err
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
	inv, err := spec.Invoke(raw)
	if err != nil {
		return err
	}
	for i := 0; i < attempts; i++ {
		if i > 0 {
			select {
			case <-time.After(backoff << (i - 1)):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		// Each attempt gets a fresh step, as a new process would.
		inv.Step = spec.New()
		var res *steps.Result
		res, err = inv.Run(ctx, steps.Call{Log: rc.x.Log.With().Str("undo", e.Step).Logger(), Undoing: true})
		if err == nil {
			rc.emitTraffic(e.Step, spec, res.Outputs, TrafficUndo)
			return nil
		}
		// The rollback's report names the undo's kind beside its error.
		var re *steps.RunError
		if errors.As(err, &re) {
			err = re.Err
		}
		if steps.IsHalt(err) {
			return err
		}
	}
	return err
}
