package engine

import (
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// Event is one thing that happened in a run. The executor reports
// everything through events and nothing else reaches into it: logging, the
// progress view, Octopus service messages and the run report all consume
// the same stream. Values in events are already redacted: sensitive params,
// outputs and inputs never appear.
type Event interface {
	// Common returns the fields every event has.
	Common() *Base
}

// Base holds the fields every event has.
type Base struct {
	Time  time.Time `json:"time"`
	RunID string    `json:"run_id"`
}

// Common implements Event.
func (b *Base) Common() *Base { return b }

// Sink receives events, synchronously and in order. A sink must not block
// for long: the run waits for it.
type Sink func(Event)

// RunStarted opens a run (or a resumed run, or a rollback).
type RunStarted struct {
	Base
	Runbook string         `json:"runbook"`
	Mode    string         `json:"mode"` // run, resume, rollback
	Phase   string         `json:"phase,omitempty"`
	Live    string         `json:"live"`
	Idle    string         `json:"idle"`
	Inputs  map[string]any `json:"inputs"`
}

// StepStarted is sent before a step runs (once, even for gates).
type StepStarted struct {
	Base
	Path   string         `json:"path"`
	ID     string         `json:"id,omitempty"`
	Label  string         `json:"label"`
	Kind   string         `json:"kind"`
	Phase  string         `json:"phase"`
	Params map[string]any `json:"params"`
}

// StepSkipped is sent when `if` is false, or on resume for a step that
// already completed.
type StepSkipped struct {
	Base
	Path   string `json:"path"`
	Label  string `json:"label"`
	Reason string `json:"reason"`
}

// StepFinished is sent when a step succeeds.
type StepFinished struct {
	Base
	Path     string         `json:"path"`
	ID       string         `json:"id,omitempty"`
	Label    string         `json:"label"`
	Kind     string         `json:"kind"`
	Outputs  map[string]any `json:"outputs"`
	Duration time.Duration  `json:"duration"`
	// Sensitive names the outputs that were withheld from Outputs.
	Sensitive []string `json:"sensitive,omitempty"`
	// SensitiveOutputs holds the withheld values. It is never serialized
	// or logged; only a sink that can mask values (Octopus sensitive output
	// variables) may use it.
	SensitiveOutputs map[string]any `json:"-"`
}

// StepFailed is sent when a step fails.
type StepFailed struct {
	Base
	Path  string `json:"path"`
	Label string `json:"label"`
	Kind  string `json:"kind"`
	Error string `json:"error"`
}

// Gate verdicts.
const (
	VerdictPass  = "pass"  // until held (enough times in a row)
	VerdictWait  = "wait"  // not yet
	VerdictFail  = "fail"  // fail held
	VerdictError = "error" // the poll itself failed
)

// GateEvaluated is sent after every poll of a gate.
type GateEvaluated struct {
	Base
	Path    string         `json:"path"`
	Label   string         `json:"label"`
	Attempt int            `json:"attempt"`
	Elapsed time.Duration  `json:"elapsed"`
	Verdict string         `json:"verdict"`
	Passes  int            `json:"passes"` // consecutive passes so far
	Needed  int            `json:"needed"`
	Values  map[string]any `json:"values,omitempty"`
	Error   string         `json:"error,omitempty"`
	// Expression is the gate expression the verdict comes from: fail when
	// it held, until otherwise (fail for a gate that has only fail).
	Expression string `json:"expression,omitempty"`
}

// ChangeRecorded is sent when a step's undo has been journaled, before the
// step changes anything.
type ChangeRecorded struct {
	Base
	Path string     `json:"path"`
	Seq  int        `json:"seq"`
	Undo steps.Undo `json:"undo"`
}

// ChangeApplied is sent when a mutating step has completed its change.
type ChangeApplied struct {
	Base
	Path string `json:"path"`
	Kind string `json:"kind"`
}

// UndoApplied is sent for each undo run during a rollback.
type UndoApplied struct {
	Base
	Seq   int        `json:"seq"`
	Path  string     `json:"path"`
	Undo  steps.Undo `json:"undo"`
	Error string     `json:"error,omitempty"`
}

// Message is free text from a step (flow.log) or the engine (warnings).
type Message struct {
	Base
	Path  string `json:"path,omitempty"`
	Level string `json:"level"` // info, warn
	Text  string `json:"text"`
}

// RunFinished closes a run.
type RunFinished struct {
	Base
	Status   string        `json:"status"`
	Live     string        `json:"live"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration"`
}
