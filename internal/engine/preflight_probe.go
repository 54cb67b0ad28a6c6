package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// This file runs a preflight's readiness probes: all at once before the
// first change, each bounded by ProbeTimeout, the detect step's when
// detect fails or is slow (detect_probe.go), and a deferred step's just
// before it runs.

// ProbeTimeout bounds each readiness probe of a preflight. Probes run in
// parallel, so a preflight whose systems do not answer ends after about
// this long, well before anything changes.
var ProbeTimeout = 3 * time.Second

// runProbes runs every collected probe in parallel, each bounded by
// ProbeTimeout.
func (pf *preflighter) runProbes(ctx context.Context) {
	var wg sync.WaitGroup
	for _, k := range pf.order {
		u := pf.probes[k]
		wg.Add(1)
		go func() {
			defer wg.Done()
			u.err = runProbe(ctx, u.probe)
		}()
	}
	wg.Wait()
}

// runProbe runs one probe and gives up on it after ProbeTimeout even when
// the probe does not honour its context (a client without one).
func runProbe(ctx context.Context, p steps.Probe) error {
	pctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("probe panicked: %v", r)
			}
		}()
		done <- p.Run(pctx)
	}()
	select {
	case err := <-done:
		if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return steps.Transient(fmt.Errorf("no answer within %s: %w", ProbeTimeout, err))
		}
		return err
	case <-pctx.Done():
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return steps.Transient(fmt.Errorf("no answer within %s", ProbeTimeout))
	}
}

// probeBeforeRun runs, just before a step changes anything, the probes
// that preflight could not run because the step's values were not known
// yet. Probes that already passed in this run are not repeated.
func (rc *runCtx) probeBeforeRun(ctx context.Context, st *Step, params steps.Params) error {
	if st.Spec.Preflight == nil {
		return nil
	}
	var errs []string
	for _, p := range st.Spec.Preflight(params, func(string) bool { return true }) {
		if rc.probed[p.Key] {
			continue
		}
		if err := runProbe(ctx, p); err != nil && !isTransient(err) {
			errs = append(errs, fmt.Sprintf("preflight: %s: %v", p.What, err))
			continue
		}
		rc.probed[p.Key] = true
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

func isTransient(err error) bool {
	var te *steps.TransientError
	return errors.As(err, &te)
}

// preflightDetect probes the systems the detect step reads, when detect
// failed or did not answer in time (detect_probe.go): a wrong region or an
// unreachable endpoint then stops the run as invalid (exit 2) with the
// probe's reason, not as a failed detect.
func (rc *runCtx) preflightDetect(ctx context.Context) error {
	d := rc.rb.Detect
	if d == nil || d.Step.Spec.Preflight == nil {
		return nil
	}
	pf := &preflighter{rc: rc, probes: map[string]*probeUse{}}
	pf.leaf(d.Step, "detect", rc.vals(nil), false)
	pf.runProbes(ctx)
	for _, k := range pf.order {
		u := pf.probes[k]
		switch {
		case u.err != nil && isTransient(u.err):
			rc.probed[k] = true
			rc.x.emit(rc, &Message{Level: "warn", Text: fmt.Sprintf("preflight: %s: %s (transient: going on, the steps retry)", u.probe.What, rc.scrub(u.err.Error()))})
		case u.err != nil:
			pf.add(d.Step.Pos, "detect: preflight: %s: %s", u.probe.What, rc.scrub(u.err.Error()))
		default:
			rc.probed[k] = true
		}
	}
	if len(pf.problems) > 0 {
		return &InvalidError{Diags: pf.problems}
	}
	return nil
}
