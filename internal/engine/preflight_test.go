package engine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// probeReg adds to the test registry a kind whose preflight probes a
// "service" by name: services in down fail their probe, and every probe
// run is counted.
type probes struct {
	mu   sync.Mutex
	down map[string]bool
	runs map[string]int
	hang bool
}

func (p *probes) count(name string) int { p.mu.Lock(); defer p.mu.Unlock(); return p.runs[name] }

func probeRegistry(w *world, p *probes) *steps.Registry {
	r := testRegistry(w)
	r.Register(steps.Spec{
		Kind: "test.notify", Title: "Notify", Summary: "Tells a service.", Mutates: true,
		Params:  []steps.Param{{Name: "service", Type: steps.String, Doc: "Service.", Required: true}, {Name: "note", Type: steps.String, Doc: "Note."}},
		Outputs: []steps.Output{{Name: "sent", Type: steps.Bool, Doc: "Sent."}},
		Preflight: func(prm steps.Params, known func(string) bool) []steps.Probe {
			if !known("service") {
				return nil
			}
			name := prm.String("service")
			return []steps.Probe{{Key: "svc|" + name, What: "service " + name + " answers", Run: func(ctx context.Context) error {
				p.mu.Lock()
				p.runs[name]++
				down, hang := p.down[name], p.hang
				p.mu.Unlock()
				if hang {
					<-ctx.Done()
					return ctx.Err()
				}
				if down {
					return errors.New("connection refused")
				}
				return nil
			}}}
		},
		New: func() steps.Step {
			return steps.StepFunc(func(ctx context.Context, c *steps.Call) (steps.Outputs, error) {
				w.mu.Lock()
				w.calls = append(w.calls, "notify "+c.Params.String("service"))
				w.mu.Unlock()
				return steps.Outputs{"sent": true}, nil
			})
		},
	})
	return r
}

const preflightBook = `version: 1
name: web
inputs:
  service: {type: string, default: chat}
  audit: {type: string, default: ""}
  bake: {type: duration, default: 1s}
colours:
  blue: {group: web-blue}
  green: {group: web-green}
steps:
  - id: scale
    uses: test.scale
    with: {group: "${{ idle.group }}", desired: 3}
  - id: shift
    uses: test.set-weights
    with: {weights: {"${{ idle.name }}": 100, "${{ live.name }}": 0}}
  - uses: test.health
    with: {group: "${{ idle.group }}"}
    gate: {until: "healthy == total", every: 10ms, timeout: "${{ inputs.bake }}"}
  - id: tell
    uses: test.notify
    with: {service: "${{ inputs.service }}"}
  - if: "inputs.audit != ''"
    uses: test.notify
    with: {service: "${{ inputs.audit }}"}
  - uses: test.notify
    with: {service: "${{ steps.tell.sent ? 'late' : 'never' }}"}
`

func preflightHarness(t *testing.T) (*harness, *probes) {
	h := newHarness(t)
	p := &probes{down: map[string]bool{}, runs: map[string]int{}}
	h.reg = probeRegistry(h.w, p)
	return h, p
}

// TestPreflightStopsBeforeTheFirstChange: a probe that fails for a step
// late in the runbook stops the run before its first step, as invalid
// (exit 2), naming every problem with its step and position; the world
// and the state are untouched.
func TestPreflightStopsBeforeTheFirstChange(t *testing.T) {
	h, p := preflightHarness(t)
	p.down["chat"], p.down["pager"] = true, true
	rb := h.load(preflightBook)
	start := time.Now()
	_, err := h.exec("").Run(context.Background(), rb, map[string]any{"audit": "pager"})
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("run error %v (%T), want *InvalidError", err, err)
	}
	if len(inv.Diags) != 2 {
		t.Fatalf("%d problems, want 2 (both services): %v", len(inv.Diags), err)
	}
	for i, want := range []string{"test.yaml:20:5: step tell: preflight: service chat answers: connection refused", "test.yaml:23:5: step #4: preflight: service pager answers: connection refused"} {
		if got := inv.Diags[i].Error(); got != want {
			t.Errorf("problem %d = %q, want %q", i, got, want)
		}
	}
	if len(h.w.calls) != 0 {
		t.Fatalf("steps ran despite the failed preflight: %v", h.w.calls)
	}
	if h.w.size("web-green") != 0 || h.w.weightsMap()["green"] != 0 {
		t.Fatalf("world changed: sizes %v weights %v", h.w.sizes, h.w.weightsMap())
	}
	rec, err := h.store.Load(context.Background(), "web")
	if err != nil {
		t.Fatal(err)
	}
	if rec != nil && rec.Run != nil {
		t.Fatalf("a run was recorded: %+v", rec.Run)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("preflight took %s", d)
	}
}

// TestPreflightResolvedValues: values known from inputs are held to the
// spec and the gate rules before anything changes; an if: that is false
// leaves its step out.
func TestPreflightResolvedValues(t *testing.T) {
	h, p := preflightHarness(t)
	p.down["pager"] = true // only used by a step whose if: is false
	book := strings.Replace(preflightBook, "desired: 3", `desired: "${{ inputs.size }}"`, 1)
	book = strings.Replace(book, "  bake: {type: duration, default: 1s}", "  bake: {type: duration, default: 1s}\n  size: {type: string, default: \"3\"}", 1)
	rb := h.load(book)
	var inv *InvalidError
	_, err := h.exec("").Run(context.Background(), rb, map[string]any{"size": "three"})
	if !errors.As(err, &inv) || len(inv.Diags) != 1 || !strings.Contains(inv.Diags[0].Error(), `test.yaml:14:49: step scale: with: desired: expected an integer, found "three"`) {
		t.Fatalf("run error %v, want the bad size at its position", err)
	}
	if len(h.w.calls) != 0 || p.count("pager") != 0 {
		t.Fatalf("calls %v, pager probed %d times", h.w.calls, p.count("pager"))
	}
}

// TestPreflightLateProbeBeforeItsStep: a step whose params depend on an
// earlier step's outputs is probed just before it runs, and probes that
// passed are not repeated.
func TestPreflightLateProbeBeforeItsStep(t *testing.T) {
	h, p := preflightHarness(t)
	p.down["late"] = true
	rb := h.load(preflightBook)
	_, err := h.exec("").Run(context.Background(), rb, nil)
	var rf *RunFailedError
	if !errors.As(err, &rf) || !strings.Contains(err.Error(), "preflight: service late answers: connection refused") {
		t.Fatalf("run error %v, want the late step's probe failure", err)
	}
	if p.count("chat") != 1 || p.count("late") != 1 {
		t.Fatalf("probe runs %v, want chat once (preflight) and late once (before its step)", p.runs)
	}
	for _, c := range h.w.calls {
		if c == "notify late" {
			t.Fatal("the late step ran despite its failed probe")
		}
	}
	if !rf.RolledBack || h.w.size("web-green") != 0 {
		t.Fatalf("not rolled back: %+v sizes %v", rf, h.w.sizes)
	}
}

// TestPreflightProbeTimeoutIsBounded: a service that never answers costs
// its probe ProbeTimeout, not the run's own timeouts; no answer says
// nothing about the configuration, so it is a warning and the run goes on
// (its steps retry such trouble themselves).
func TestPreflightProbeTimeoutIsBounded(t *testing.T) {
	old := ProbeTimeout
	ProbeTimeout = 200 * time.Millisecond
	defer func() { ProbeTimeout = old }()
	h, p := preflightHarness(t)
	p.hang = true
	rb := h.load(preflightBook)
	start := time.Now()
	if _, err := h.exec("").Run(context.Background(), rb, nil); err != nil {
		t.Fatalf("run error %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %s", d)
	}
	warned := false
	for _, e := range h.rec.events {
		if m, ok := e.(*Message); ok && m.Level == "warn" && strings.Contains(m.Text, "service chat answers: no answer within 200ms (transient") {
			warned = true
		}
	}
	if !warned {
		t.Fatal("no warning about the probe that got no answer")
	}
}

// TestPlanShowsPreflight: plan runs the same preflight and reports it.
func TestPlanShowsPreflight(t *testing.T) {
	h, p := preflightHarness(t)
	p.down["chat"] = true
	rb := h.load(preflightBook)
	plan, err := h.exec("").Plan(context.Background(), rb, nil, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pf := plan.Preflight
	if pf == nil || len(pf.Checks) != 1 || pf.Checks[0].OK || pf.Checks[0].What != "service chat answers" || pf.Checks[0].Steps[0] != "tell" {
		t.Fatalf("preflight = %+v", pf)
	}
	if len(pf.Deferred) != 1 || pf.Deferred[0] != "#5" {
		t.Fatalf("deferred = %v, want the step reading steps.tell", pf.Deferred)
	}
	if !isInvalid(pf.Err()) {
		t.Fatalf("plan's preflight error = %v", pf.Err())
	}
	if len(h.w.calls) != 0 {
		t.Fatalf("plan ran steps: %v", h.w.calls)
	}
}
