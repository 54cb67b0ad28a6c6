package engine

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// gate polls a read-only step until its condition holds.
func (rc *runCtx) gate(ctx context.Context, st *Step, path string, inv *steps.Invocation, call steps.Call, vals map[string]any) (*steps.Result, error) {
	g := *st.Gate
	var err error
	if g.Every, err = evalDuration(g.everyT, g.Every, vals, "gate: every"); err != nil {
		return nil, err
	}
	if g.Timeout, err = evalDuration(g.timeoutT, g.Timeout, vals, "gate: timeout"); err != nil {
		return nil, err
	}
	// A zero timeout is a user who wants no wait (e.g. bake=0s): the step
	// is read once, `fail` is still checked and `until` must hold at once.
	if err := checkGateDurations(g.Every, g.Timeout); err != nil {
		return nil, err
	}
	start := time.Now()
	passes, errs := 0, 0
	var lastVals map[string]any
	var lastErr error
	for attempt := 1; ; attempt++ {
		res, err := rc.poll(ctx, inv, call, g.Timeout-time.Since(start))
		elapsed := time.Since(start)
		ev := &GateEvaluated{Path: path, Label: st.Label(), Attempt: attempt, Elapsed: elapsed, Needed: g.Passes}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			errs++
			passes = 0
			lastErr = err
			ev.Verdict, ev.Error = VerdictError, rc.scrub(err.Error())
			rc.x.emit(rc, ev)
			if g.MaxErrors > 0 && errs >= g.MaxErrors {
				return nil, fmt.Errorf("gate gave up after %d consecutive errors: %w", errs, err)
			}
		} else {
			errs, lastErr = 0, nil
			// The step's outputs, normalized, as later expressions see them
			// (res.All, without building that map only to copy it).
			gv := make(map[string]any, len(vals)+len(res.Outputs)+2)
			maps.Copy(gv, vals)
			maps.Copy(gv, res.Public)
			maps.Copy(gv, res.Sensitive)
			gv["elapsed"], gv["attempt"] = elapsed, attempt
			lastVals = map[string]any{}
			if g.Fail != nil {
				for k, v := range g.Fail.Values(gv) {
					lastVals[k] = v
				}
			}
			if g.Until != nil {
				for k, v := range g.Until.Values(gv) {
					lastVals[k] = v
				}
			}
			ev.Values = rc.scrubMap(lastVals)
			if g.Fail != nil {
				bad, err := g.Fail.EvalBool(gv)
				if err != nil {
					return nil, fmt.Errorf("gate fail: %w", err)
				}
				ev.Expression = g.Fail.Source
				if bad {
					ev.Verdict = VerdictFail
					rc.x.emit(rc, ev)
					return nil, fmt.Errorf("gate failed: %s (%s)", g.Fail.Source, formatVals(lastVals))
				}
			}
			if g.Until != nil {
				ok, err := g.Until.EvalBool(gv)
				if err != nil {
					return nil, fmt.Errorf("gate until: %w", err)
				}
				ev.Expression = g.Until.Source
				if ok {
					passes++
				} else {
					passes = 0
				}
				ev.Passes = passes
				if passes >= g.Passes {
					ev.Verdict = VerdictPass
					rc.x.emit(rc, ev)
					return res, nil
				}
			} else if elapsed >= g.Timeout {
				// A gate with only `fail` watches for the whole timeout
				// and passes when it never fired.
				ev.Verdict = VerdictPass
				rc.x.emit(rc, ev)
				return res, nil
			}
			ev.Verdict = VerdictWait
			rc.x.emit(rc, ev)
		}
		remaining := g.Timeout - time.Since(start)
		if remaining <= 0 {
			if g.Until == nil && lastErr == nil {
				continue // one last poll decides a fail-only gate
			}
			if lastErr != nil {
				return nil, fmt.Errorf("gate timed out after %s (%d polls); last poll failed: %w", g.Timeout, attempt, lastErr)
			}
			return nil, fmt.Errorf("gate timed out after %s (%d polls): %s never held (%s)", g.Timeout, attempt, g.Until.Source, formatVals(lastVals))
		}
		wait := min(g.Every, remaining)
		if g.Until == nil && remaining < g.Every {
			wait = remaining
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

func formatVals(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + steps.FormatValue(m[k])
	}
	return strings.Join(parts, ", ")
}
