// Package report keeps the timeline of a run and renders it as one
// self-contained HTML page: an SVG timeline of each colour's traffic share
// with the step spans, gate polls and rollback, then the resolved plan,
// inputs, outputs, journal and failure. The page has no script and fetches
// nothing, so it works offline and as an Octopus artifact.
package report

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/internal/state"
)

// Version is the timeline format; Decode refuses a newer one.
const Version = 1

// Timeline is what a report is drawn from: a run's events (already
// redacted by the engine) across every process that worked on it (run,
// phases, resume, rollback) and the run's record as it last finished.
type Timeline struct {
	Version int      `json:"version"`
	RunID   string   `json:"run_id"`
	Runbook string   `json:"runbook"`
	Colours []string `json:"colours"`
	// Sensitive names the runbook's sensitive inputs: the report lists
	// them masked (their values are never recorded).
	Sensitive []string `json:"sensitive,omitempty"`
	// Run is the run's record (journal, inputs, outputs) when it last
	// finished. Sensitive inputs are not in it.
	Run    *state.Run `json:"run,omitempty"`
	Events []Entry    `json:"events"`
	// Dropped counts the gate polls left out to keep the timeline small.
	Dropped int `json:"dropped,omitempty"`
}

// Entry is one event with its type name.
type Entry struct {
	Type  string          `json:"type"`
	Event json.RawMessage `json:"event"`
}

// eventTypes are the events a timeline keeps, by type name.
var eventTypes = map[string]func() engine.Event{
	"RunStarted":     func() engine.Event { return &engine.RunStarted{} },
	"StepStarted":    func() engine.Event { return &engine.StepStarted{} },
	"StepSkipped":    func() engine.Event { return &engine.StepSkipped{} },
	"StepFinished":   func() engine.Event { return &engine.StepFinished{} },
	"StepFailed":     func() engine.Event { return &engine.StepFailed{} },
	"GateEvaluated":  func() engine.Event { return &engine.GateEvaluated{} },
	"ChangeRecorded": func() engine.Event { return &engine.ChangeRecorded{} },
	"ChangeApplied":  func() engine.Event { return &engine.ChangeApplied{} },
	"UndoApplied":    func() engine.Event { return &engine.UndoApplied{} },
	"Message":        func() engine.Event { return &engine.Message{} },
	"RunFinished":    func() engine.Event { return &engine.RunFinished{} },
	"TrafficChanged": func() engine.Event { return &engine.TrafficChanged{} },
}

// Add appends an event. Types a timeline does not keep are ignored.
func (t *Timeline) Add(e engine.Event) error {
	name := reflect.TypeOf(e).Elem().Name()
	if _, ok := eventTypes[name]; !ok {
		return nil
	}
	b, err := json.Marshal(readable(e))
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	t.Events = append(t.Events, Entry{Type: name, Event: b})
	return nil
}

// Decoded returns the events as their engine types.
func (t *Timeline) Decoded() ([]engine.Event, error) {
	out := make([]engine.Event, 0, len(t.Events))
	for i, en := range t.Events {
		mk, ok := eventTypes[en.Type]
		if !ok {
			continue
		}
		ev := mk()
		if err := json.Unmarshal(en.Event, ev); err != nil {
			return nil, fmt.Errorf("event %d (%s): %w", i, en.Type, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

// Encode returns the timeline as gzipped JSON.
func (t *Timeline) Encode() ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(t); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// MaxStored bounds a stored timeline (gzipped), well below the 400 KB a
// DynamoDB item may hold, whatever the run did.
const MaxStored = 300 << 10

// Fit encodes the timeline within max bytes. A run whose gates polled for
// hours can exceed it: then every other "wait" poll is dropped, as often as
// needed (the passes, failures and errors that decided something are all
// kept), and the timeline says how many were dropped.
func (t *Timeline) Fit(max int) ([]byte, error) {
	for {
		b, err := t.Encode()
		if err != nil || len(b) <= max {
			return b, err
		}
		kept, dropped, odd := t.Events[:0:0], 0, false
		for _, e := range t.Events {
			if e.Type == "GateEvaluated" && bytes.Contains(e.Event, []byte(`"verdict":"wait"`)) {
				odd = !odd
				if odd {
					dropped++
					continue
				}
			}
			kept = append(kept, e)
		}
		if dropped == 0 {
			return nil, fmt.Errorf("timeline of run %s is %d bytes, above the %d a store keeps", t.RunID, len(b), max)
		}
		t.Events, t.Dropped = kept, t.Dropped+dropped
	}
}

// Decode reads what Encode wrote.
func Decode(b []byte) (*Timeline, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	var t Timeline
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	if t.Version > Version {
		return nil, fmt.Errorf("timeline of run %s has format %d; this bluegreen reads up to %d (upgrade it)", t.RunID, t.Version, Version)
	}
	return &t, nil
}

// Load reads run runID's timeline from a store, or (nil, nil) when the
// store keeps none for it.
func Load(ctx context.Context, st state.Store, key, runID string) (*Timeline, error) {
	tl, ok := st.(state.Timelines)
	if !ok {
		return nil, nil
	}
	b, err := tl.GetTimeline(ctx, key, runID)
	if err != nil || b == nil {
		return nil, err
	}
	return Decode(b)
}

// readable returns a copy of e whose durations are text ("2m0s"), since
// JSON would keep them as nanoseconds. The event itself is shared with the
// other sinks and is not changed.
func readable(e engine.Event) engine.Event {
	switch ev := e.(type) {
	case *engine.RunStarted:
		c := *ev
		c.Inputs = durationsAsText(ev.Inputs)
		return &c
	case *engine.StepStarted:
		c := *ev
		c.Params = durationsAsText(ev.Params)
		return &c
	case *engine.StepFinished:
		c := *ev
		c.Outputs = durationsAsText(ev.Outputs)
		return &c
	case *engine.GateEvaluated:
		c := *ev
		c.Values = durationsAsText(ev.Values)
		return &c
	}
	return e
}

func durationsAsText(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = durationAsText(v)
	}
	return out
}

func durationAsText(v any) any {
	switch x := v.(type) {
	case time.Duration:
		return x.String()
	case map[string]any:
		return durationsAsText(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = durationAsText(e)
		}
		return out
	}
	return v
}
