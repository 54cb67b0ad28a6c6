package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/servicemsg"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// octopusStdout splits stdout into the side service messages are written
// to and the side for everything else, on which the service-message marker
// is neutralised.
func octopusStdout(w io.Writer) (service, text io.Writer) {
	st := servicemsg.NewStdout(w)
	servicemsg.SetShared(st)
	return st, st.Text()
}

// octopusRelease undoes what octopusStdout set up for the process when the
// command ends.
func octopusRelease() { servicemsg.SetShared(nil) }

// reportStepOutputs sets the outputs of `step run` as output variables,
// the sensitive ones as sensitive variables.
func reportStepOutputs(a *app, res *steps.Result) error {
	r := servicemsg.NewReporter(a.service)
	r.SingleStep = true
	return r.Handle(servicemsg.Event{Kind: servicemsg.StepFinished, Outputs: res.Public, Sensitive: res.Sensitive})
}

// reportStepFailure sets the failure of `step run` as the step's result
// message, which Octopus shows as the reason the step failed.
func reportStepFailure(a *app, err error) {
	_ = servicemsg.NewWriter(a.service).ResultMessage(err.Error())
}

// reportEntry is one line of the run report attached to the deployment.
type reportEntry struct {
	Type  string       `json:"type"`
	Event engine.Event `json:"event"`
}

// newOctopusSink turns the engine's event stream into service messages:
// BlueGreen.Live/Idle/RunId and each step's outputs as output variables,
// warnings at warning level, the failure as the step's result message, and
// the whole event stream as a JSON run report attached as an artifact.
func newOctopusSink(a *app, rb *engine.Runbook) engine.Sink {
	rep := servicemsg.NewReporter(a.service)
	var report []reportEntry
	fail := func(err error) {
		if err != nil {
			a.log.Warn().Err(err).Msg("could not write an Octopus service message")
		}
	}
	return func(e engine.Event) {
		report = append(report, reportEntry{Type: reflect.TypeOf(e).Elem().Name(), Event: e})
		switch ev := e.(type) {
		case *engine.RunStarted:
			fail(rep.Handle(servicemsg.Event{Kind: servicemsg.RunStarted, RunID: ev.RunID, Live: ev.Live, Idle: ev.Idle}))
		case *engine.StepFinished:
			fail(rep.Handle(servicemsg.Event{Kind: servicemsg.StepFinished, RunID: ev.RunID, StepID: ev.ID, Outputs: ev.Outputs, Sensitive: ev.SensitiveOutputs}))
		case *engine.Message:
			if ev.Level == "warn" {
				fail(rep.Handle(servicemsg.Event{Kind: servicemsg.Warning, Message: ev.Text}))
			}
		case *engine.GateEvaluated:
			if ev.Verdict == engine.VerdictError {
				fail(rep.Handle(servicemsg.Event{Kind: servicemsg.Warning, Message: fmt.Sprintf("gate %s: poll %d failed: %s", ev.Label, ev.Attempt, ev.Error)}))
			}
		case *engine.UndoApplied:
			msg := fmt.Sprintf("rolled back %s (%s)", ev.Path, ev.Undo.Kind)
			if ev.Error != "" {
				msg = fmt.Sprintf("undo of %s failed: %s", ev.Path, ev.Error)
			}
			fail(rep.Handle(servicemsg.Event{Kind: servicemsg.Warning, Message: msg}))
		case *engine.RunFinished:
			path, err := writeReport(ev.RunID, report)
			fail(err)
			fail(attachHTMLReport(a))
			var runErr error
			if ev.Error != "" {
				runErr = errors.New(ev.Error)
			}
			fail(rep.Handle(servicemsg.Event{Kind: servicemsg.RunFinished, RunID: ev.RunID, Live: ev.Live, Idle: rb.Other(ev.Live), Err: runErr, ReportPath: path}))
		}
	}
}

// writeReport saves the run's (already redacted) events as JSON, to be
// attached as an artifact. It goes to $BLUEGREEN_REPORT_DIR when set, else
// to the working folder: inside Octopus that is the step's own work
// folder, which Tentacle deletes once the step's artifacts are collected,
// so the file does not outlive the deployment (a folder such as /tmp
// would keep every run's report on the worker forever).
func writeReport(runID string, entries []reportEntry) (string, error) {
	dir := os.Getenv("BLUEGREEN_REPORT_DIR")
	if dir == "" {
		dir = "."
	}
	path := filepath.Join(dir, "bluegreen-report-"+runID+".json")
	b, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, b, 0o600)
}
