package e2e_aws

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
	"github.com/bluegreen-deploy/bluegreen/internal/engine"
)

func TestWeightedDNSSwapAndSwapBack(t *testing.T) {
	w := newWorld(t, "weighted-dns.yaml", awstest.Options{})
	w.expect(map[string]int{"blue": 100, "green": 0}, map[string]int{"blue": 2, "green": 0})

	w.mustSucceed(nil, "green")
	w.expect(map[string]int{"blue": 0, "green": 100}, map[string]int{"blue": 0, "green": 2})
	// The weights moved through every step of the default list.
	var shares []any
	for _, e := range events[*engine.StepFinished](w) {
		if e.Kind == "aws.route53.set-weights" {
			shares = append(shares, e.Outputs["weights"].(map[string]any)["green"])
		}
	}
	if !reflect.DeepEqual(shares, []any{10, 50, 100}) {
		t.Fatalf("green's weight went %v, want [10 50 100]", shares)
	}

	// AWS deregisters terminated instances; moto does not (see awstest).
	if err := w.topo.DeregisterGone(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.mustSucceed(map[string]string{"weights": "[25, 100]"}, "blue")
	w.expect(map[string]int{"blue": 100, "green": 0}, map[string]int{"blue": 2, "green": 0})
}

func TestWeightedDNSCapacityAndAlias(t *testing.T) {
	w := newWorld(t, "weighted-dns.yaml", awstest.Options{Alias: true, Capacity: 3})
	w.mustSucceed(map[string]string{"capacity": "1", "weights": "[100]"}, "green")
	w.expect(map[string]int{"blue": 0, "green": 100}, map[string]int{"blue": 0, "green": 1})
}

func TestWeightedDNSUnhealthyIdleRollsBack(t *testing.T) {
	w := newWorld(t, "weighted-dns.yaml", awstest.Options{})
	if _, err := w.topo.AddStoppedTarget(context.Background(), "green"); err != nil {
		t.Fatal(err)
	}
	w.mustRollBack(map[string]string{"health_timeout": "1s"}, "idle_healthy")
	// Traffic never moved and green is back at its previous size.
	w.expect(map[string]int{"blue": 100, "green": 0}, map[string]int{"blue": 2, "green": 0})
	for _, k := range appliedKinds(w) {
		if strings.Contains(k, "set-weights") {
			t.Fatalf("weights changed before the idle stack was healthy: %v", appliedKinds(w))
		}
	}
	// The gate saw green's two new instances healthy and the stopped one not.
	gates := events[*engine.GateEvaluated](w)
	if len(gates) == 0 {
		t.Fatal("no gate evaluation")
	}
	last := gates[len(gates)-1].Values
	if last["healthy"] != 2 || last["total"] != 3 {
		t.Errorf("last health gate values %v, want healthy 2 of total 3", last)
	}
}

func TestWeightedDNSErrorsDuringBakeRollBackMidShift(t *testing.T) {
	w := newWorld(t, "weighted-dns.yaml", awstest.Options{})
	// When green gets half the traffic, it starts failing.
	var once sync.Once
	w.onEvent = func(e engine.Event) {
		if f, ok := e.(*engine.StepFinished); ok && f.Kind == "aws.route53.set-weights" && f.Outputs["weights"].(map[string]any)["green"] == 50 {
			once.Do(func() {
				if err := w.topo.PutErrors(context.Background(), "green", 40); err != nil {
					t.Error(err)
				}
			})
		}
	}
	rf := w.mustRollBack(map[string]string{"bake": "2s", "error_threshold": "5"}, "sum > inputs.error_threshold")
	if !strings.Contains(rf.Step, "shift[1]") {
		t.Errorf("failed step %q, want the bake of the second weight", rf.Step)
	}
	w.expect(map[string]int{"blue": 100, "green": 0}, map[string]int{"blue": 2, "green": 0})
	// Undos ran newest first: weights 50 → 10 → 100/0, then the scale.
	var undone []string
	for _, u := range events[*engine.UndoApplied](w) {
		undone = append(undone, u.Undo.Kind)
	}
	want := []string{"aws.route53.set-weights", "aws.route53.set-weights", "aws.asg.scale"}
	if !reflect.DeepEqual(undone, want) {
		t.Errorf("undos %v, want %v", undone, want)
	}
}

func TestWeightedDNSNewAMI(t *testing.T) {
	w := newWorld(t, "weighted-dns.yaml", awstest.Options{})
	const ami = "ami-0fedcba9876543210"
	w.mustSucceed(map[string]string{"ami": ami, "weights": "[100]"}, "green")
	ctx := context.Background()
	g, err := w.topo.Group(ctx, "green")
	if err != nil {
		t.Fatal(err)
	}
	if g.Version != "2" {
		t.Errorf("green launches launch template version %q, want the new version 2", g.Version)
	}
	images, err := w.topo.Images(ctx, "green")
	if err != nil || !reflect.DeepEqual(images, []string{ami, ami}) {
		t.Errorf("green instances run %v (%v), want the new AMI", images, err)
	}
	// Blue, untouched until it was scaled in, never got the new image.
	bg, _ := w.topo.Group(ctx, "blue")
	if bg.Version != "$Latest" {
		t.Errorf("blue's launch template version changed to %q", bg.Version)
	}
}

func TestWeightedDNSNewAMIRolledBack(t *testing.T) {
	w := newWorld(t, "weighted-dns.yaml", awstest.Options{})
	if _, err := w.topo.AddStoppedTarget(context.Background(), "green"); err != nil {
		t.Fatal(err)
	}
	w.mustRollBack(map[string]string{"ami": "ami-0fedcba9876543210", "health_timeout": "500ms"}, "idle_healthy")
	g, _ := w.topo.Group(context.Background(), "green")
	if g.Version != "1" {
		t.Errorf("after rollback green launches version %q, want 1 (what $Latest was before)", g.Version)
	}
}

// Inputs that name the stacks the wrong way round are caught before any
// change: the records do not point at the load balancers the colours name.
func TestWeightedDNSSwappedInputsChangeNothing(t *testing.T) {
	w := newWorld(t, "weighted-dns.yaml", awstest.Options{})
	in := w.topo.WeightedDNSInputs()
	rf := w.mustRollBack(map[string]string{"blue_dns": in["green_dns"], "green_dns": in["blue_dns"]}, "do not point at the colours' load balancers")
	if rf.Step != "records_match" {
		t.Errorf("failed step %q, want records_match", rf.Step)
	}
	if n := len(events[*engine.ChangeRecorded](w)); n != 0 {
		t.Errorf("%d changes journaled before the check failed", n)
	}
	w.expect(map[string]int{"blue": 100, "green": 0}, map[string]int{"blue": 2, "green": 0})
}
