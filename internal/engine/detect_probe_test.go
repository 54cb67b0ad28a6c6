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

// look is detect's step in these tests: it reads a service (the probes'
// one, so its probe is detect's preflight) and says blue is live.
type look struct {
	mu    sync.Mutex
	calls int
	fail  bool // the read fails although the service answers its probe
	slow  int  // the first slow reads get no answer (for 5s, or until their context ends)
}

func lookRegistry(h *harness, p *probes, l *look) {
	r := probeRegistry(h.w, p)
	notify, _ := r.Lookup("test.notify")
	r.Register(steps.Spec{
		Kind: "test.look", Title: "Look", Summary: "Reads a service.",
		Params:    []steps.Param{{Name: "service", Type: steps.String, Doc: "Service.", Required: true}},
		Outputs:   []steps.Output{{Name: "colour", Type: steps.String, Doc: "Live colour."}},
		Preflight: notify.Preflight,
		New: func() steps.Step {
			return steps.StepFunc(func(ctx context.Context, c *steps.Call) (steps.Outputs, error) {
				l.mu.Lock()
				l.calls++
				slow, fail := l.slow > 0, l.fail
				l.slow--
				l.mu.Unlock()
				p.mu.Lock()
				down := p.down[c.Params.String("service")]
				p.mu.Unlock()
				switch {
				case slow:
					select {
					case <-ctx.Done():
						return nil, ctx.Err()
					case <-time.After(5 * time.Second):
						return nil, errors.New("read service: no answer")
					}
				case down:
					return nil, errors.New("read service: connection refused")
				case fail:
					return nil, errors.New("read service: no such record")
				}
				return steps.Outputs{"colour": "blue"}, nil
			})
		},
	})
	h.reg = r
}

const detectBook = `version: 1
name: web
inputs:
  service: {type: string, default: chat}
colours:
  blue: {group: web-blue}
  green: {group: web-green}
detect:
  uses: test.look
  with: {service: "${{ inputs.service }}"}
  live: colour
steps:
  - id: tell
    uses: test.notify
    with: {service: "${{ inputs.service }}"}
`

func detectHarness(t *testing.T) (*harness, *probes, *look) {
	h := newHarness(t)
	p := &probes{down: map[string]bool{}, runs: map[string]int{}}
	l := &look{}
	lookRegistry(h, p, l)
	return h, p, l
}

// TestDetectThatAnswersIsNotProbed: detect read the service, which is all
// its probe would check: neither detect nor the later step that uses the
// same service is probed for it (the probe used to run before detect,
// one call more per run on every service detect reads).
func TestDetectThatAnswersIsNotProbed(t *testing.T) {
	h, p, l := detectHarness(t)
	if _, err := h.exec("").Run(context.Background(), h.load(detectBook), nil); err != nil {
		t.Fatal(err)
	}
	if n := p.count("chat"); n != 0 {
		t.Errorf("the service detect had just read was probed %d time(s)", n)
	}
	// Detect reads once at the start and once at the end (the live colour
	// the run reports, read from the world).
	if l.calls != 2 || len(h.w.calls) != 1 || h.w.calls[0] != "notify chat" {
		t.Fatalf("detect read %d time(s), steps %v; want 2 and one step", l.calls, h.w.calls)
	}
	// Plan does the same.
	plan, err := h.exec("").Plan(context.Background(), h.load(detectBook), nil, PlanOptions{})
	if err != nil || plan.Live != "blue" || len(plan.Preflight.Checks) != 0 || p.count("chat") != 0 {
		t.Fatalf("plan %+v, %v; probes %v", plan, err, p.runs)
	}
}

// TestDetectFailingOnItsConfigurationIsInvalid: when detect fails and its
// probe finds the configuration wrong, the run stops as invalid (exit 2)
// with the probe's reason at detect's position, as when the probe ran
// before detect; nothing ran and nothing was recorded.
func TestDetectFailingOnItsConfigurationIsInvalid(t *testing.T) {
	h, p, _ := detectHarness(t)
	p.down["chat"] = true
	_, err := h.exec("").Run(context.Background(), h.load(detectBook), nil)
	var inv *InvalidError
	if !errors.As(err, &inv) || len(inv.Diags) != 1 || inv.Diags[0].Error() != "test.yaml:9:3: detect: preflight: service chat answers: connection refused" {
		t.Fatalf("run error %v (%T), want detect's probe failure as invalid", err, err)
	}
	if len(h.w.calls) != 0 || p.count("chat") != 1 {
		t.Fatalf("steps %v, probes %v", h.w.calls, p.runs)
	}
	if _, err := h.exec("").Plan(context.Background(), h.load(detectBook), nil, PlanOptions{}); !errors.As(err, &inv) {
		t.Fatalf("plan error %v, want invalid", err)
	}
}

// TestDetectFailingWithItsProbesPassing: the probe finds nothing wrong,
// so detect's own failure is the run's (exit 1, nothing changed).
func TestDetectFailingWithItsProbesPassing(t *testing.T) {
	h, p, l := detectHarness(t)
	l.fail = true
	_, err := h.exec("").Run(context.Background(), h.load(detectBook), nil)
	var rf *RunFailedError
	if !errors.As(err, &rf) || rf.Step != "detect" || !strings.Contains(err.Error(), "no such record") {
		t.Fatalf("run error %v (%T), want detect's failure", err, err)
	}
	if p.count("chat") != 1 || len(h.w.calls) != 0 {
		t.Fatalf("probes %v, steps %v", p.runs, h.w.calls)
	}
}

// TestDetectWithoutAnswerIsProbed: a detect that does not answer within
// DetectGrace (the SDK retrying an endpoint that is not there) is stopped
// and probed; a failed probe stops the run as invalid soon after, and
// when the probe passes detect runs again, unbounded.
func TestDetectWithoutAnswerIsProbed(t *testing.T) {
	old := DetectGrace
	DetectGrace = 100 * time.Millisecond
	defer func() { DetectGrace = old }()

	h, p, l := detectHarness(t)
	p.down["chat"] = true
	l.slow = 1
	start := time.Now()
	_, err := h.exec("").Run(context.Background(), h.load(detectBook), nil)
	if !isInvalid(err) || !strings.Contains(err.Error(), "detect: preflight: service chat answers: connection refused") {
		t.Fatalf("run error %v, want detect's probe failure as invalid", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %s", d)
	}

	h, p, l = detectHarness(t)
	l.slow = 1
	if _, err := h.exec("").Run(context.Background(), h.load(detectBook), nil); err != nil {
		t.Fatal(err)
	}
	// Detect's first read was stopped, the second answered; the third is
	// the run's final read of the live colour.
	if l.calls != 3 || p.count("chat") != 1 || len(h.w.calls) != 1 {
		t.Fatalf("detect read %d time(s), probes %v, steps %v; want 3, chat once, one step", l.calls, p.runs, h.w.calls)
	}
}
