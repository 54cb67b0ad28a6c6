package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// A gate whose timeout is zero is a user asking for no wait (bake=0s): the
// step is read once, `fail` is still checked and `until` must hold at
// once. It used to fail with "every and timeout must be above zero" after
// the run had already changed things.
const zeroBakeRunbook = `
version: 1
name: zero-bake
inputs:
  bake: {type: duration, default: 2m}
  every: {type: duration, default: 10s}
colours: {blue: {asg: web-blue}, green: {asg: web-green}}
steps:
  - id: scale
    uses: test.scale
    with: {group: web-green, desired: 2}
  - uses: test.set-weights
    with: {weights: {green: 100, blue: 0}}
  - id: bake
    uses: test.metric
    with: {name: 5xx}
    gate: {fail: "value > 5", every: "${{ inputs.every }}", timeout: "${{ inputs.bake }}"}
`

func TestZeroBakeChecksFailOnceAndPasses(t *testing.T) {
	h := newHarness(t)
	res, err := h.exec("").Run(context.Background(), h.load(zeroBakeRunbook), map[string]any{"bake": "0s"})
	if err != nil {
		t.Fatalf("bake=0s: %v", err)
	}
	g := h.rec.gates("bake")
	if len(g) != 1 || g[0].Verdict != VerdictPass {
		t.Fatalf("bake=0s: %d polls (want exactly 1, passed): %+v", len(g), g)
	}
	if res.Status != "succeeded" || h.w.weightsMap()["green"] != 100 {
		t.Fatalf("weights = %v", h.w.weightsMap())
	}
}

func TestZeroBakeStillFailsOnTheCondition(t *testing.T) {
	h := newHarness(t)
	h.w.metrics = []float64{9}
	_, err := h.exec("").Run(context.Background(), h.load(zeroBakeRunbook), map[string]any{"bake": "0s"})
	var fe *RunFailedError
	if !errors.As(err, &fe) || !fe.RolledBack {
		t.Fatalf("err = %v, want a rolled-back failure", err)
	}
	if !strings.Contains(err.Error(), "gate failed: value > 5 (value=9)") {
		t.Fatalf("the failure must be the gate's own reason: %v", err)
	}
	if n := len(h.rec.gates("bake")); n != 1 {
		t.Fatalf("polls = %d, want 1", n)
	}
	if h.w.size("web-green") != 0 || h.w.weightsMap()["blue"] != 100 {
		t.Fatalf("not rolled back: sizes %v weights %v", h.w.sizes, h.w.weightsMap())
	}
}

func TestZeroTimeoutUntilGateChecksOnce(t *testing.T) {
	src := `
version: 1
name: zero-until
colours: {blue: {asg: web-blue}, green: {asg: web-green}}
steps:
  - id: scale
    uses: test.scale
    with: {group: web-green, desired: 2}
  - id: wait
    uses: test.health
    with: {group: web-green}
    gate: {until: "healthy == total", timeout: 0s}
`
	h := newHarness(t)
	if _, err := h.exec("").Run(context.Background(), h.load(src), nil); err != nil {
		t.Fatalf("a condition that holds at once passes a zero timeout: %v", err)
	}
	if g := h.rec.gates("wait"); len(g) != 1 || g[0].Verdict != VerdictPass {
		t.Fatalf("polls = %+v", g)
	}
	h = newHarness(t)
	h.w.healthAfter["web-green"] = 1
	_, err := h.exec("").Run(context.Background(), h.load(src), nil)
	if err == nil || !strings.Contains(err.Error(), "timed out after 0s (1 polls)") {
		t.Fatalf("err = %v, want a timeout after one poll", err)
	}
	if h.w.size("web-green") != 0 {
		t.Fatalf("not rolled back: %v", h.w.sizes)
	}
}
