package main

import (
	"encoding/json"
	"errors"
	"runtime"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/internal/state"
)

// resultObject is what `--output json` prints for run, resume, rollback
// and (with more fields) status: one object a pipeline can read without
// parsing logs, which stay on stderr.
type resultObject struct {
	Command string `json:"command"`
	Runbook string `json:"runbook"`
	// Status is the run's status (succeeded, rolled-back, failed,
	// interrupted, phase-done, ...) or, when nothing ran, why: invalid or
	// locked.
	Status string `json:"status"`
	// Live is the live colour after the command ("" when unknown).
	Live  string `json:"live"`
	Idle  string `json:"idle,omitempty"`
	RunID string `json:"run_id,omitempty"`
	// Duration is how long the command took (or the run, for status).
	Duration        string  `json:"duration"`
	DurationSeconds float64 `json:"duration_seconds"`
	// Report is the HTML run report the command wrote.
	Report   string         `json:"report,omitempty"`
	Failure  *failureObject `json:"failure,omitempty"`
	ExitCode int            `json:"exit_code"`
}

// failureObject says why a command did not succeed.
type failureObject struct {
	Step       string `json:"step,omitempty"`
	Error      string `json:"error"`
	RolledBack bool   `json:"rolled_back"`
	// Problems are the diagnostics of invalid input.
	Problems []*engine.Diagnostic `json:"problems,omitempty"`
}

func durationFields(o *resultObject, d time.Duration) {
	o.Duration = d.Round(time.Millisecond).String()
	o.DurationSeconds = d.Round(time.Millisecond).Seconds()
}

// printResult prints a run-like command's result object on stdout. The
// error is returned as shown (Main prints no second message) but keeps its
// exit code.
func (a *app) printResult(command, runbook string, res *engine.Result, err error, took time.Duration) error {
	o := resultObject{Command: command, Runbook: runbook, Report: a.reportPath, ExitCode: exitCode(err, int(a.signal.Load()))}
	durationFields(&o, took)
	if res != nil {
		o.Status, o.Live, o.RunID = res.Status, res.Live, res.RunID
		// Before the first swap no colour is known to be live, so none
		// is idle either.
		if res.Live != "" {
			o.Idle = res.Idle
		}
	}
	if err != nil {
		f := &failureObject{Error: err.Error()}
		var (
			inv  *engine.InvalidError
			lock *state.LockedError
			fail *engine.RunFailedError
			intr *engine.InterruptedError
		)
		switch {
		case errors.As(err, &fail):
			f.Step, f.RolledBack = fail.Step, fail.RolledBack
			o.RunID = fail.RunID
			if o.Status == "" {
				o.Status = "failed"
			}
		case errors.As(err, &intr):
			o.RunID, o.Status = intr.RunID, state.StatusInterrupted
		case errors.As(err, &inv):
			o.Status, f.Problems = "invalid", inv.Diags
		case errors.As(err, &lock):
			o.Status = "locked"
		default:
			if o.Status == "" {
				o.Status = "error"
			}
		}
		o.Failure = f
	}
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	if werr := enc.Encode(o); werr != nil {
		return werr
	}
	if err != nil {
		return &shownError{err}
	}
	return nil
}

// statusObject is status's JSON: the result object's fields for the
// latest run, plus the lock holder, the whole latest run and the history.
func statusObject(rb *engine.Runbook, rec *state.Record, holder *state.Holder) map[string]any {
	o := map[string]any{"command": "status", "runbook": rb.Name, "live": rec.Live, "status": "none", "run": rec.Run, "lock": holder, "history": rec.History}
	if r := rec.Run; r != nil {
		o["status"], o["run_id"] = r.Status, r.ID
		if !r.Finished.IsZero() {
			d := r.Finished.Sub(r.Started)
			o["duration"], o["duration_seconds"] = d.Round(time.Millisecond).String(), d.Round(time.Millisecond).Seconds()
		}
		if r.Error != "" {
			o["failure"] = &failureObject{Error: r.Error, RolledBack: r.Status == state.StatusRolledBack}
		}
	}
	return o
}

// versionObject is version's JSON.
func versionObject() map[string]string {
	return map[string]string{"version": version, "go": runtime.Version(), "os": runtime.GOOS, "arch": runtime.GOARCH}
}

// checkOutput validates an --output value.
func checkOutput(v string, octopusOutput bool) error {
	switch v {
	case "text", "":
		return nil
	case "json":
		if octopusOutput {
			return usagef("--output json: not with --octopus-output (Octopus reads stdout for its service messages)")
		}
		return nil
	}
	return usagef("--output: expected text or json, found %q", v)
}
