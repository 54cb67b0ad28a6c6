package e2e_aws

import (
	"context"
	"sync"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
	"github.com/bluegreen-deploy/bluegreen/internal/engine"
)

func TestALBWeightedSwapAndSwapBack(t *testing.T) {
	w := newWorld(t, "alb-weighted.yaml", awstest.Options{SharedALB: true})
	w.mustSucceed(nil, "green")
	w.expect(map[string]int{"blue": 0, "green": 100}, map[string]int{"blue": 0, "green": 2})
	if err := w.topo.DeregisterGone(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.mustSucceed(nil, "blue")
	w.expect(map[string]int{"blue": 100, "green": 0}, map[string]int{"blue": 2, "green": 0})
}

func TestALBWeightedRule(t *testing.T) {
	w := newWorld(t, "alb-weighted.yaml", awstest.Options{SharedALB: true})
	ctx := context.Background()
	rule, err := w.topo.AddRule(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.mustSucceed(map[string]string{"rule_arn": rule, "weights": "[50, 100]"}, "green")
	if got, _ := w.topo.RuleWeights(ctx, rule); got["green"] != 100 || got["blue"] != 0 {
		t.Fatalf("rule weights %v", got)
	}
	// The default action was not touched.
	w.expect(map[string]int{"blue": 100, "green": 0}, map[string]int{"blue": 0, "green": 2})
}

func TestALBWeightedErrorsDuringBakeRollBack(t *testing.T) {
	w := newWorld(t, "alb-weighted.yaml", awstest.Options{SharedALB: true})
	var once sync.Once
	w.onEvent = func(e engine.Event) {
		if f, ok := e.(*engine.StepFinished); ok && f.Kind == "aws.elbv2.set-weights" {
			once.Do(func() {
				if err := w.topo.PutErrors(context.Background(), "green", 6); err != nil {
					t.Error(err)
				}
			})
		}
	}
	w.mustRollBack(map[string]string{"bake": "2s", "error_threshold": "5"}, "sum > inputs.error_threshold")
	w.expect(map[string]int{"blue": 100, "green": 0}, map[string]int{"blue": 2, "green": 0})
}
