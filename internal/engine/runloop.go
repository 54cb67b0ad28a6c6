package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

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
	inv, err := d.Step.Spec.Invoke(asMap(raw))
	if err != nil {
		return "", err
	}
	res, err := inv.Run(ctx, steps.Call{Log: rc.x.Log})
	if err != nil {
		return "", err
	}
	rc.detected = res.Outputs
	for k, v := range res.Outputs {
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

func (rc *runCtx) leaf(ctx context.Context, st *Step, path string, vals map[string]any) error {
	x := rc.x
	raw, err := st.With.Eval(vals)
	if err != nil {
		return rc.fail(st, path, fmt.Errorf("with: %w", err))
	}
	rc.noteSecrets(st.With, vals)
	inv, err := st.Spec.Invoke(asMap(raw))
	if err != nil {
		return rc.fail(st, path, err)
	}
	params := inv.Params
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
	call := steps.Call{
		Log: x.Log.With().Str("step", path).Logger(),
		BeforeChange: func(u steps.Undo) error {
			if err := rc.journal(st, path, u); err != nil {
				return err
			}
			changed++
			return nil
		},
	}
	var res *steps.Result
	if st.Gate != nil {
		res, err = rc.gate(sctx, st, path, inv, call, vals)
	} else {
		res, err = inv.Run(sctx, call)
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
	if st.ID != "" {
		rc.outputs[st.ID] = res.All()
		rc.run.Outputs[st.ID] = rc.scrubMap(res.Public)
	}
	rc.done[path] = true
	rc.run.Done = append(rc.run.Done, path)
	if err := rc.save(); err != nil {
		return err
	}
	x.emit(rc, &StepFinished{Path: path, ID: st.ID, Label: st.Label(), Kind: st.Uses, Outputs: rc.scrubMap(res.Public), Duration: time.Since(began), Sensitive: res.Withheld(), SensitiveOutputs: res.Sensitive})
	rc.emitTraffic(path, st.Spec, res.Outputs, TrafficStep)
	return nil
}

func (rc *runCtx) fail(st *Step, path string, err error) error {
	rc.x.emit(rc, &StepFailed{Path: path, Label: st.Label(), Kind: st.Uses, Error: rc.scrub(err.Error())})
	return &stepError{path, err}
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
