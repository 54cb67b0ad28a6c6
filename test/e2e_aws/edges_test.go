package e2e_aws

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
	"github.com/bluegreen-deploy/bluegreen/internal/engine"
)

// Inputs at their edges, on moto with only the standard AWS variables
// (awstest.Env): bake=0s is no bake (the 5xx condition is read once),
// scale_down_delay=0s is no wait, one weight is a straight cut-over and
// capacity 0 is "as many as live".

var edgeBooks = []struct {
	book string
	opts awstest.Options
}{
	{"weighted-dns.yaml", awstest.Options{Capacity: 3}},
	{"alb-weighted.yaml", awstest.Options{SharedALB: true, Capacity: 3}},
}

func TestZeroBakeReleasesAndSwapsBack(t *testing.T) {
	for _, b := range edgeBooks {
		t.Run(b.book, func(t *testing.T) {
			w := newWorld(t, b.book, b.opts)
			edges := map[string]string{"bake": "0s", "scale_down_delay": "0s", "capacity": "0", "poll": "10s"}
			w.cnt.Reset()
			start := time.Now()
			w.mustSucceed(edges, "green")
			t.Logf("%s bake=0s release: %s, %d AWS API calls", b.book, time.Since(start).Round(time.Millisecond), w.cnt.Total())
			// capacity 0: green got as many instances as blue had.
			w.expect(map[string]int{"blue": 0, "green": 100}, map[string]int{"blue": 0, "green": 3})
			// Each weight's bake read the metric exactly once and passed.
			bakes := 0
			for _, g := range events[*engine.GateEvaluated](w) {
				if strings.HasSuffix(g.Path, "bake") {
					bakes++
					if g.Verdict != engine.VerdictPass || g.Attempt != 1 {
						t.Fatalf("bake gate %s: attempt %d verdict %s", g.Path, g.Attempt, g.Verdict)
					}
				}
			}
			if bakes != 3 {
				t.Fatalf("%d bake evaluations, want one per weight (3)", bakes)
			}
			// scale_down_delay=0s did not wait (the default is 10m).
			for _, f := range events[*engine.StepFinished](w) {
				if f.Path == "scale_down_delay" && f.Duration > 30*time.Second {
					t.Fatalf("scale_down_delay=0s waited %s", f.Duration)
				}
			}

			if err := w.topo.DeregisterGone(context.Background()); err != nil {
				t.Fatal(err)
			}
			w.mu.Lock()
			w.log = nil
			w.mu.Unlock()
			// One weight is a straight cut-over.
			edges["weights"] = "[100]"
			w.mustSucceed(edges, "blue")
			w.expect(map[string]int{"blue": 100, "green": 0}, map[string]int{"blue": 3, "green": 0})
			var shares []any
			for _, f := range events[*engine.StepFinished](w) {
				if strings.HasSuffix(f.Kind, "set-weights") {
					shares = append(shares, f.Outputs["weights"])
				}
			}
			if len(shares) != 1 {
				t.Fatalf("weights=[100] made %d weight changes, want 1: %v", len(shares), shares)
			}
		})
	}
}

func TestZeroBakeErrorBurstRollsBackWithTheGateReason(t *testing.T) {
	for _, b := range edgeBooks {
		t.Run(b.book, func(t *testing.T) {
			w := newWorld(t, b.book, b.opts)
			// A burst of 5xx on the idle (green) target group.
			if err := w.topo.PutErrors(context.Background(), "green", 12); err != nil {
				t.Fatal(err)
			}
			rf := w.mustRollBack(map[string]string{"bake": "0s", "error_threshold": "5"}, "gate failed: sum > inputs.error_threshold (inputs.error_threshold=5, sum=12)")
			for _, bad := range []string{"monitoring:", "StatusCode", "decode"} {
				if strings.Contains(rf.Error(), bad) {
					t.Fatalf("the failure is a CloudWatch error, not the gate's reason: %v", rf)
				}
			}
			w.expect(map[string]int{"blue": 100, "green": 0}, map[string]int{"blue": 3, "green": 0})
			var shares []any
			for _, f := range events[*engine.StepFinished](w) {
				if strings.HasSuffix(f.Kind, "set-weights") {
					shares = append(shares, f.Outputs["weights"])
				}
			}
			if len(shares) != 1 || rf.Step != "shift[0]/bake" {
				t.Fatalf("the first bake must stop the release: %d weight changes, failed step %q", len(shares), rf.Step)
			}
		})
	}
}
