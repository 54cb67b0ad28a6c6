package servicemsg

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// Output variable names that a runbook run sets with --octopus-output.
// A later Octopus step reads them as
// #{Octopus.Action[<step name>].Output.BlueGreen.Live} and so on.
const (
	VarLive  = "BlueGreen.Live"
	VarIdle  = "BlueGreen.Idle"
	VarRunID = "BlueGreen.RunId"
)

// StepOutputVar names a step output in a runbook run:
// BlueGreen.Steps.<step id>.<output>, e.g. BlueGreen.Steps.idle-healthy.healthy.
// A single step (bluegreen step run KIND --octopus-output) sets its outputs
// under their own names instead, since the Octopus step is the step.
func StepOutputVar(stepID, output string) string {
	return "BlueGreen.Steps." + stepID + "." + output
}

// EventKind says what happened in a run.
type EventKind string

// The events a Reporter turns into service messages. The engine's event
// stream maps onto these; everything else it emits can be ignored.
const (
	// RunStarted: Live, Idle and RunID are known (after detect).
	RunStarted EventKind = "run-started"
	// StepFinished: StepID's step succeeded with Outputs.
	StepFinished EventKind = "step-finished"
	// Warning: Message is worth a warning in the task log (a gate that
	// needed retries, an undo that was skipped, a lock taken over).
	Warning EventKind = "warning"
	// RunFinished: the run ended; Err is nil on success. Live and Idle are
	// the colours after the run; ReportPath, if set, is attached as an
	// artifact.
	RunFinished EventKind = "run-finished"
)

// Event is the part of an engine event that Octopus cares about.
type Event struct {
	Kind   EventKind
	RunID  string
	Live   string
	Idle   string
	StepID string
	// Outputs are the step's public outputs and Sensitive the ones its
	// spec marks sensitive, split once where the step ran (see
	// steps.Result); sensitive ones become sensitive variables.
	Outputs    steps.Outputs
	Sensitive  steps.Outputs
	Message    string
	Err        error
	ReportPath string
}

// Reporter turns run events into service messages on a step's stdout; it
// is what --octopus-output switches on. It is safe for use by one run at a
// time (the engine emits events in order).
type Reporter struct {
	w *Writer
	// SingleStep names step outputs by their own names (bluegreen step
	// run) instead of BlueGreen.Steps.<id>.<name> (bluegreen run).
	SingleStep bool
}

// NewReporter returns a Reporter writing to out (normally os.Stdout).
func NewReporter(out io.Writer) *Reporter { return &Reporter{w: NewWriter(out)} }

// Handle writes the service messages for one event. Values are formatted
// with steps.FormatValue, so lists and maps arrive as YAML flow text that
// the next bluegreen step can parse back. Sensitive outputs are set as
// sensitive variables, which Octopus masks in logs.
func (r *Reporter) Handle(e Event) error {
	switch e.Kind {
	case RunStarted:
		return r.colours(e)
	case StepFinished:
		if !r.SingleStep && e.StepID == "" {
			// Steps without an id cannot be referred to later.
			return nil
		}
		names := make([]string, 0, len(e.Outputs)+len(e.Sensitive))
		for k := range e.Outputs {
			names = append(names, k)
		}
		for k := range e.Sensitive {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			v, sensitive := e.Sensitive[k]
			if !sensitive {
				v = e.Outputs[k]
			}
			name := k
			if !r.SingleStep {
				name = StepOutputVar(e.StepID, k)
			}
			if err := r.w.SetVariable(name, steps.FormatValue(v), sensitive); err != nil {
				return err
			}
		}
		return nil
	case Warning:
		return r.w.Warning(e.Message)
	case RunFinished:
		if err := r.colours(e); err != nil {
			return err
		}
		if e.ReportPath != "" {
			if err := r.artifact(e.ReportPath); err != nil {
				return err
			}
		}
		if e.Err != nil {
			return r.w.ResultMessage(e.Err.Error())
		}
		return nil
	default:
		return nil
	}
}

func (r *Reporter) colours(e Event) error {
	for _, v := range [][2]string{{VarRunID, e.RunID}, {VarLive, e.Live}, {VarIdle, e.Idle}} {
		if v[1] == "" {
			continue
		}
		if err := r.w.SetVariable(v[0], v[1], false); err != nil {
			return err
		}
	}
	return nil
}

func (r *Reporter) artifact(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("attach run report: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return fmt.Errorf("attach run report: %w", err)
	}
	return r.w.CreateArtifact(abs, filepath.Base(abs), fi.Size())
}
