package engine

import (
	"context"
	"time"
)

// Detect is read-only, and a detect that answers has just used the very
// systems its preflight probes would check (the region and credentials,
// the record or listener it reads): probing them first cost calls and
// proved nothing that detect's answer does not. So detect runs first and
// its probes run only when it does not answer promptly:
//
//   - detect succeeds: its probes count as passed for the run (the later
//     steps that share them are not probed for them again);
//   - detect fails: its probes run, and a probe that fails stops the run
//     as invalid (exit 2) with the probe's reason, exactly as when the
//     probes ran first; when they all pass, detect's own failure is the
//     run's;
//   - detect has not answered within DetectGrace (a region or endpoint
//     that does not answer makes the SDK retry with backoff for far
//     longer): it is stopped, its probes run, and a failed probe stops the
//     run as invalid within about DetectGrace plus one probe; when they
//     pass, detect runs again without that bound.

// DetectGrace is how long detect may take before its preflight probes run
// (see above). A detect answers in well under a second when its systems
// are configured right.
var DetectGrace = time.Second

// detectChecked is detect with its preflight probes run only when detect
// does not answer within DetectGrace; probe false never probes (a plan
// made offline). It returns the live colour, the preflight's problems
// (an *InvalidError) or detect's own failure.
func (rc *runCtx) detectChecked(ctx context.Context, stored string, probe bool) (live string, invalid, failed error) {
	d := rc.rb.Detect
	if !probe || d == nil || d.Step.Spec.Preflight == nil {
		live, failed = rc.detect(ctx, stored)
		return live, nil, failed
	}
	dctx, cancel := context.WithTimeout(ctx, DetectGrace)
	live, failed = rc.detect(dctx, stored)
	cut := dctx.Err() != nil && ctx.Err() == nil
	cancel()
	if failed == nil {
		rc.detectProven()
		return live, nil, nil
	}
	if ctx.Err() != nil {
		return "", nil, failed
	}
	if err := rc.preflightDetect(ctx); err != nil {
		return "", err, nil
	}
	if cut {
		live, failed = rc.detect(ctx, stored)
	}
	return live, nil, failed
}

// detectProven marks the probes of the detect step that just answered as
// passed for this run.
func (rc *runCtx) detectProven() {
	pf := &preflighter{rc: rc, probes: map[string]*probeUse{}}
	pf.leaf(rc.rb.Detect.Step, "detect", rc.vals(nil), false)
	for _, k := range pf.order {
		rc.probed[k] = true
	}
}
