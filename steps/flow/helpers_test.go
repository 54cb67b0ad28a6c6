package flow

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/steps"
	"github.com/bluegreen-deploy/bluegreen/steps/steptest"
	"github.com/rs/zerolog"
)

// run binds raw params against the registered spec of kind, as the engine
// does, and runs a fresh step with a logger that writes JSON into logs.
func run(ctx context.Context, t *testing.T, kind string, raw map[string]any, logs *bytes.Buffer) (steps.Outputs, error) {
	t.Helper()
	log := zerolog.Nop()
	if logs != nil {
		log = zerolog.New(logs).Level(zerolog.TraceLevel)
	}
	r := steptest.Run(ctx, t, kind, raw, steptest.Options{Log: log})
	return r.Out, r.Err
}

// logLines decodes the JSON log lines written by run.
func logLines(t *testing.T, logs *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(logs)
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("decode log line: %v", err)
		}
		out = append(out, m)
	}
	return out
}

// TestContract pins the param names the runbook language promises: runbooks
// and Octopus templates depend on them, so renaming one is a breaking change.
func TestContract(t *testing.T) {
	for kind, params := range map[string][]string{
		"flow.pause":    {"duration"},
		"flow.log":      {"message"},
		"flow.fail":     {"message"},
		"flow.assert":   {"condition", "message"},
		"flow.approval": {"file", "timeout"},
	} {
		spec, ok := steps.Lookup(kind)
		if !ok {
			t.Errorf("%s is not registered", kind)
			continue
		}
		if spec.Mutates {
			t.Errorf("%s mutates: flow steps change nothing a rollback restores", kind)
		}
		for _, name := range params {
			if spec.Param(name) == nil {
				t.Errorf("%s has no param %q", kind, name)
			}
		}
	}
}
