package engine

import (
	"context"
	"fmt"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
)

// WorldStatus is what `bluegreen status` shows: the live colour read from
// the world now (the runbook's read-only detect) beside the one the state
// remembers.
type WorldStatus struct {
	// Live is the colour detected now; "" when the runbook has no detect
	// or detect failed (DetectError says why).
	Live string `json:"live"`
	// Remembered is the live colour the state holds ("" when none).
	Remembered string `json:"remembered"`
	// Drift is true when both are known and differ: the world was changed
	// outside bluegreen (a switch made by hand) or a run did not finish.
	Drift bool `json:"drift"`
	// Traffic is each colour's share in percent, when the detect step's
	// kind reports traffic.
	Traffic     map[string]float64 `json:"traffic,omitempty"`
	DetectError string             `json:"detect_error,omitempty"`
}

// Status runs the runbook's detect step, which only reads, and compares
// what it finds with the remembered live colour. Inputs are resolved as
// for a run; a runbook without detect reports only the remembered colour.
func (x *Executor) Status(ctx context.Context, rb *Runbook, raw map[string]any, rec *state.Record) (*WorldStatus, error) {
	ws := &WorldStatus{}
	if rec != nil {
		ws.Remembered = rec.Live
	}
	if rb.Detect == nil {
		return ws, nil
	}
	inputs, err := rb.ResolveInputs(raw)
	if err != nil {
		// The remembered colour is still worth showing; detect needs the
		// inputs a run would get.
		ws.DetectError = fmt.Sprintf("detect needs the runbook's inputs (--set, --inputs): %v", err)
		return ws, nil
	}
	rc := x.newRunCtx(ctx, rb, rec, nil, inputs, "")
	if err := rc.evalColours(); err != nil {
		ws.DetectError = rc.scrub(err.Error())
		return ws, nil
	}
	stub := stateRunStub
	rc.run = &stub
	live, err := rc.detect(ctx, "")
	if err != nil {
		ws.DetectError = rc.scrub(fmt.Sprintf("detect: %v", err))
		return ws, nil
	}
	ws.Live = live
	ws.Drift = ws.Remembered != "" && ws.Remembered != live
	if spec := rb.Detect.Step.Spec; spec.Traffic != "" && rc.detected != nil {
		if w := rc.trafficWeights(rc.detected[spec.Traffic]); len(w) > 0 {
			ws.Traffic = Shares(w)
		}
	}
	return ws, nil
}
