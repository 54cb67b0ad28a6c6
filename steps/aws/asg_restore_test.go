package aws

import (
	"context"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/bluegreen-deploy/bluegreen/steps"
	"github.com/bluegreen-deploy/bluegreen/steps/steptest"
)

// restoreWorld is a group scaled in to 0 whose undo raises it back to 2;
// every instance it launches is InService and Healthy in the group, and
// healthy in its target group only when tgHealthy is set.
func restoreWorld(tgHealthy bool) (*fakeASG, *fakeELB, steps.Undo) {
	g := newGroup("web", 2, 0, 4, 2)
	g.TargetGroupARNs = []string{"arn:tg/web"}
	api := &fakeASG{groups: map[string]*asgtypes.AutoScalingGroup{"web": g}}
	elb := &fakeELB{health: map[string][]elbtypes.TargetHealthDescription{}}
	api.onDescribe = func(g *asgtypes.AutoScalingGroup) {
		want := int(awssdk.ToInt32(g.DesiredCapacity))
		fresh := newGroup("web", want, 0, 4, want)
		g.Instances = fresh.Instances
		state := elbtypes.TargetHealthStateEnumUnhealthy
		if tgHealthy {
			state = elbtypes.TargetHealthStateEnumHealthy
		}
		var h []elbtypes.TargetHealthDescription
		for _, in := range g.Instances {
			h = append(h, elbtypes.TargetHealthDescription{Target: &elbtypes.TargetDescription{Id: in.InstanceId}, TargetHealth: &elbtypes.TargetHealth{State: state}})
		}
		// A terminated instance of the old group still shows as healthy,
		// as moto leaves it: it must not count.
		h = append(h, elbtypes.TargetHealthDescription{Target: &elbtypes.TargetDescription{Id: awssdk.String("i-gone")}, TargetHealth: &elbtypes.TargetHealth{State: elbtypes.TargetHealthStateEnumHealthy}})
		elb.health["arn:tg/web"] = h
	}
	return api, elb, steps.Undo{}
}

func runUndo(t *testing.T, s *asgScale, params map[string]any) error {
	t.Helper()
	return steptest.Run(context.Background(), t, "aws.asg.scale", params, steptest.Options{Step: s, Undoing: true}).Err
}

func TestASGScaleUndoWaitsForTargetGroupHealth(t *testing.T) {
	api, elb, _ := restoreWorld(true)
	_, undos, err := runStep(t, "aws.asg.scale", &asgScale{api: api, elb: elb}, map[string]any{"group": "web", "desired": 0, "wait_timeout": "2s", "poll": "1ms"})
	if err != nil || len(undos) != 1 {
		t.Fatalf("scale in: %v, %d undos", err, len(undos))
	}
	u := undos[0]
	if !u.RestoresCapacity || u.Params["wait"] != true || u.Params["wait_timeout"] != "2s" {
		t.Fatalf("undo of a scale-in = %+v, want a waiting capacity restore bounded by the step's wait_timeout", u)
	}
	if err := runUndo(t, &asgScale{api: api, elb: elb}, u.Params); err != nil {
		t.Fatalf("undo with healthy targets: %v", err)
	}
	if d := awssdk.ToInt32(api.groups["web"].DesiredCapacity); d != 2 {
		t.Fatalf("desired after undo = %d", d)
	}
}

func TestASGScaleUndoThatCannotGetHealthyHalts(t *testing.T) {
	api, elb, _ := restoreWorld(false)
	_, undos, err := runStep(t, "aws.asg.scale", &asgScale{api: api, elb: elb}, map[string]any{"group": "web", "desired": 0, "wait_timeout": "30ms", "poll": "1ms"})
	if err != nil {
		t.Fatal(err)
	}
	err = runUndo(t, &asgScale{api: api, elb: elb}, undos[0].Params)
	if err == nil || !steps.IsHalt(err) {
		t.Fatalf("undo error %v, want one that halts the rollback", err)
	}
	for _, want := range []string{"capacity not restored", `group "web"`, "0 healthy in target group arn:tg/web"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	// The same wait in a forward run is an ordinary failure.
	fwd := map[string]any{"group": "web", "desired": 2, "wait": true, "wait_timeout": "20ms", "poll": "1ms"}
	if err := steptest.Run(context.Background(), t, "aws.asg.scale", fwd, steptest.Options{Step: &asgScale{api: api, elb: elb}}).Err; err == nil || steps.IsHalt(err) {
		t.Fatalf("forward wait error %v, want a plain failure", err)
	}
}
