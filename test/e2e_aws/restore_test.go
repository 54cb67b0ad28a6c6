package e2e_aws

import (
	"context"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// Rolling back a finished release: the old colour's group was scaled to 0
// in cleanup. The rollback must bring it back and wait until its instances
// are healthy in its target group before any weight moves back, then move
// the weights back in the steps the release took; and when the old colour
// never gets healthy, stop with traffic where it is.

// rollback rolls the world's latest run back through the engine.
func (w *world) rollback(over map[string]string) (*engine.Result, error) {
	w.t.Helper()
	rb, err := engine.Load(runbookPath(w.book), steps.Default)
	if err != nil {
		w.t.Fatalf("load %s: %v", w.book, err)
	}
	x := &engine.Executor{Registry: steps.Default, Store: w.store, Sinks: []engine.Sink{w.sink}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return x.Rollback(ctx, rb, w.inputs(over))
}

// trafficCall says whether a counted call changes the weights.
func trafficCall(op string) bool {
	return op == "ModifyListener" || op == "ModifyRule" || op == "ChangeResourceRecordSets"
}

func TestRollbackOfFinishedReleaseRestoresCapacityFirst(t *testing.T) {
	for _, b := range []struct {
		book string
		opts awstest.Options
	}{{"weighted-dns.yaml", awstest.Options{}}, {"alb-weighted.yaml", awstest.Options{SharedALB: true}}} {
		t.Run(b.book, func(t *testing.T) {
			w := newWorld(t, b.book, b.opts)
			over := map[string]string{"rollback_settle": "300ms"}
			w.mustSucceed(over, "green")
			w.expect(map[string]int{"blue": 0, "green": 100}, map[string]int{"blue": 0, "green": 2})
			ctx := context.Background()
			if err := w.topo.DeregisterGone(ctx); err != nil {
				t.Fatal(err)
			}
			w.mu.Lock()
			w.log = nil
			w.mu.Unlock()

			// At the first weight change of the rollback, read blue's
			// target group as the load balancer would see it.
			var (
				mu              sync.Mutex
				raised, shifted time.Time
				healthy, total  = -1, -1
			)
			defer w.cnt.After(func(op string, form url.Values) {
				if op == "UpdateAutoScalingGroup" && form.Get("AutoScalingGroupName") == w.topo.Stacks["blue"].ASG {
					mu.Lock()
					raised = time.Now()
					mu.Unlock()
				}
			})()
			defer w.cnt.Before(func(op string, _ url.Values) {
				mu.Lock()
				defer mu.Unlock()
				if trafficCall(op) && shifted.IsZero() {
					shifted = time.Now()
					var err error
					if healthy, total, err = w.topo.HealthyInTarget(ctx, "blue"); err != nil {
						t.Error(err)
					}
				}
			})()
			w.cnt.Reset()
			start := time.Now()
			res, err := w.rollback(over)
			if err != nil {
				w.dump()
				t.Fatalf("rollback: %v", err)
			}
			t.Logf("%s: rollback of a finished release %s, %d AWS API calls; blue raised to healthy-and-first-weight-change %s",
				b.book, time.Since(start).Round(time.Millisecond), w.cnt.Total(), shifted.Sub(raised).Round(time.Millisecond))
			if res.Live != "blue" {
				t.Fatalf("live after rollback %q", res.Live)
			}
			w.expect(map[string]int{"blue": 100, "green": 0}, map[string]int{"blue": 2, "green": 0})
			if healthy != 2 || total != 2 {
				t.Fatalf("at the first weight change blue had %d of %d instances healthy in its target group, want 2 of 2", healthy, total)
			}

			// Order: blue's capacity restore, then the weights back in
			// three steps (green 50, 10, 0), each but the last held.
			var order []string
			var greenShares []int
			for _, u := range events[*engine.UndoApplied](w) {
				if u.Error != "" {
					t.Fatalf("undo %d failed: %s", u.Seq, u.Error)
				}
				switch {
				case u.Undo.Kind == "aws.asg.scale" && u.Undo.Params["group"] == w.topo.Stacks["blue"].ASG:
					order = append(order, "restore-blue")
				case strings.HasSuffix(u.Undo.Kind, "set-weights"):
					order = append(order, "weights")
					greenShares = append(greenShares, greenShare(w, u.Undo.Params["weights"]))
				}
			}
			if strings.Join(order, ",") != "restore-blue,weights,weights,weights" {
				t.Fatalf("undo order %v, want blue's capacity restored before the three weight steps", order)
			}
			if len(greenShares) != 3 || greenShares[0] != 50 || greenShares[1] != 10 || greenShares[2] != 0 {
				t.Fatalf("green's share went back %v, want [50 10 0]", greenShares)
			}
			held := 0
			for _, m := range events[*engine.Message](w) {
				if strings.Contains(m.Text, "holding the restored weights") {
					held++
				}
			}
			if held != 2 {
				t.Fatalf("%d settles between the three weight steps, want 2", held)
			}
		})
	}
}

// greenShare reads green's weight out of a journaled weights param, keyed
// by colour (Route53) or by target group ARN (ALB).
func greenShare(w *world, v any) int {
	m, _ := v.(map[string]any)
	for k, x := range m {
		if k == "green" || k == w.topo.Stacks["green"].TargetGroup {
			switch n := x.(type) {
			case int:
				return n
			case float64:
				return int(n)
			}
		}
	}
	return -1
}

func TestRollbackStopsWhenOldColourNeverGetsHealthy(t *testing.T) {
	w := newWorld(t, "weighted-dns.yaml", awstest.Options{})
	bin := binary(t)
	env := os.Environ()
	for k, v := range awstest.Env(w.cnt.URL) {
		env = append(env, k+"="+v)
	}
	stateDir := t.TempDir()
	cli := func(verb string, over map[string]string) (string, int) {
		args := []string{verb, runbookPath("weighted-dns.yaml"), "--state", stateDir, "--log-format", "console"}
		for k, v := range w.inputs(over) {
			args = append(args, "--set", k+"="+v.(string))
		}
		return runBinary(t, bin, env, args...)
	}
	over := map[string]string{"health_timeout": "2s", "poll": "200ms", "rollback_settle": "0s"}
	if out, code := cli("run", over); code != 0 {
		t.Fatalf("release: exit %d\n%s", code, out)
	}
	w.expect(map[string]int{"blue": 0, "green": 100}, map[string]int{"blue": 0, "green": 2})
	ctx := context.Background()
	if err := w.topo.DeregisterGone(ctx); err != nil {
		t.Fatal(err)
	}
	// Blue's new instances launch, then fail the load balancer's health
	// check: stopped as soon as the group is raised.
	defer w.cnt.After(func(op string, form url.Values) {
		if op == "UpdateAutoScalingGroup" && form.Get("AutoScalingGroupName") == w.topo.Stacks["blue"].ASG {
			if _, err := w.topo.StopGroupInstances(ctx, "blue"); err != nil {
				t.Error(err)
			}
		}
	})()
	w.cnt.Reset()
	out, code := cli("rollback", over)
	if code != 1 {
		t.Fatalf("rollback exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{"rollback stopped", "capacity not restored", "traffic was left where it is", "bluegreen rollback"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output does not say %q:\n%s", want, out)
		}
	}
	if n := w.cnt.Counts()["route53:ChangeResourceRecordSets"]; n != 0 {
		t.Fatalf("the rollback changed the weights %d times after blue failed to get healthy", n)
	}
	w.expect(map[string]int{"blue": 0, "green": 100}, nil)
	g, err := w.topo.Group(ctx, "green")
	if err != nil || g.Desired != 2 {
		t.Fatalf("green, still serving, must keep its capacity: %+v %v", g, err)
	}
}
