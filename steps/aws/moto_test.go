package aws

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// The tests in this file run the steps through the real SDK against
// moto_server (internal/awstest), with the clients the steps build from
// the environment, as in production.

func TestMain(m *testing.M) {
	code := m.Run()
	awstest.StopShared()
	os.Exit(code)
}

// moto starts the shared server (or skips, see awstest.Start) and builds a
// topology of its own for the test.
func moto(t *testing.T, o awstest.Options) *awstest.Topology {
	t.Helper()
	if testing.Short() {
		t.Skip("moto integration test skipped in -short mode")
	}
	m, _ := awstest.Shared(t)
	return awstest.New(t, m.URL, o)
}

// real runs a kind with a fresh step from the registry (no fakes).
func real(t *testing.T, kind string, params map[string]any) (steps.Outputs, []steps.Undo, error) {
	t.Helper()
	return runStep(t, kind, nil, params)
}

func mustReal(t *testing.T, kind string, params map[string]any) (steps.Outputs, []steps.Undo) {
	t.Helper()
	out, undos, err := real(t, kind, params)
	if err != nil {
		t.Fatalf("%s: %v", kind, err)
	}
	return out, undos
}

func TestMotoASG(t *testing.T) {
	topo := moto(t, awstest.Options{})
	ctx := context.Background()
	green := topo.Stacks["green"]

	out, undos := mustReal(t, "aws.asg.scale", map[string]any{"group": green.ASG, "desired": 2, "wait": true, "poll": "100ms", "wait_timeout": "30s"})
	if out["healthy"] != 2 || len(undos) != 1 {
		t.Fatalf("scale: %v, %d undos", out, len(undos))
	}
	d, _ := mustReal(t, "aws.asg.describe", map[string]any{"group": green.ASG})
	if d["desired"] != 2 || d["in_service"] != 2 || d["healthy"] != 2 || len(d["instances"].([]any)) != 2 {
		t.Fatalf("describe: %v", d)
	}
	th, _ := mustReal(t, "aws.elbv2.target-health", map[string]any{"target_group": green.TargetGroup})
	if th["healthy"] != 2 || th["total"] != 2 {
		t.Fatalf("the group's instances should be registered and healthy: %v", th)
	}
	if _, err := topo.AddStoppedTarget(ctx, "green"); err != nil {
		t.Fatal(err)
	}
	th, _ = mustReal(t, "aws.elbv2.target-health", map[string]any{"target_group": green.TargetGroup})
	if th["unused"] != 1 || th["total"] != 3 || !strings.Contains(strings.Join(stringsOf(th["reasons"]), " "), "Target.InvalidState") {
		t.Fatalf("stopped target: %v", th)
	}

	// Undo of the scale restores desired 0.
	mustReal(t, undos[0].Kind, undos[0].Params)
	g, err := topo.Group(ctx, "green")
	if err != nil || g.Desired != 0 || len(g.Instances) != 0 {
		t.Fatalf("after undo: %+v %v", g, err)
	}
}

func TestMotoSetImage(t *testing.T) {
	topo := moto(t, awstest.Options{})
	ctx := context.Background()
	green := topo.Stacks["green"]
	out, undos := mustReal(t, "aws.asg.set-image", map[string]any{"group": green.ASG, "ami": "ami-0123456789abcdef0"})
	if out["version"] != "2" || out["previous_version"] != "$Latest" || len(undos) != 1 || undos[0].Params["version"] != "1" {
		t.Fatalf("set-image: %v, undos %+v", out, undos)
	}
	mustReal(t, "aws.asg.scale", map[string]any{"group": green.ASG, "desired": 1})
	images, err := topo.Images(ctx, "green")
	if err != nil || !reflect.DeepEqual(images, []string{"ami-0123456789abcdef0"}) {
		t.Fatalf("green instances run %v (%v), want the new AMI", images, err)
	}
	// Same AMI again: nothing to do.
	if out, undos := mustReal(t, "aws.asg.set-image", map[string]any{"group": green.ASG, "ami": "ami-0123456789abcdef0"}); out["changed"] != false || len(undos) != 0 {
		t.Fatalf("second set-image changed something: %v", out)
	}
	mustReal(t, undos[0].Kind, undos[0].Params)
	g, _ := topo.Group(ctx, "green")
	if g.Version != "1" {
		t.Fatalf("after undo the group launches version %s, want 1", g.Version)
	}
}

func TestMotoListenerWeights(t *testing.T) {
	topo := moto(t, awstest.Options{SharedALB: true})
	ctx := context.Background()
	blue, green := topo.Stacks["blue"], topo.Stacks["green"]
	out, undos := mustReal(t, "aws.elbv2.set-weights", map[string]any{"listener": topo.Listener, "weights": map[string]any{green.TargetGroup: 10, blue.TargetGroup: 90}})
	if out["changed"] != true || len(undos) != 1 {
		t.Fatalf("set-weights: %v", out)
	}
	if w, _ := topo.ListenerWeights(ctx); w["blue"] != 90 || w["green"] != 10 {
		t.Fatalf("listener holds %v", w)
	}
	get, _ := mustReal(t, "aws.elbv2.get-weights", map[string]any{"listener": topo.Listener})
	if get["weights"].(map[string]any)[green.TargetGroup] != 10 || get["total"] != 100 {
		t.Fatalf("get-weights: %v", get)
	}
	mustReal(t, undos[0].Kind, undos[0].Params)
	if w, _ := topo.ListenerWeights(ctx); w["blue"] != 100 || w["green"] != 0 {
		t.Fatalf("after undo the listener holds %v", w)
	}
}

func TestMotoRoute53Weights(t *testing.T) {
	for _, alias := range []bool{false, true} {
		name := map[bool]string{false: "cname", true: "alias"}[alias]
		t.Run(name, func(t *testing.T) {
			topo := moto(t, awstest.Options{Alias: alias})
			ctx := context.Background()
			p := map[string]any{"zone": topo.ZoneID, "name": topo.Record}
			get, _ := mustReal(t, "aws.route53.get-weights", p)
			if !reflect.DeepEqual(get["weights"], map[string]any{"blue": 100, "green": 0}) {
				t.Fatalf("get-weights: %v", get)
			}
			if get["targets"].(map[string]any)["green"] != topo.Stacks["green"].DNS {
				t.Fatalf("targets %v", get["targets"])
			}
			set := map[string]any{"zone": topo.ZoneID, "name": topo.Record, "weights": map[string]any{"blue": 50, "green": 50}, "poll": "100ms"}
			out, undos := mustReal(t, "aws.route53.set-weights", set)
			if out["change_id"] == "" || len(undos) != 1 {
				t.Fatalf("set-weights: %v", out)
			}
			if w, _ := topo.DNSWeights(ctx); w["blue"] != 50 || w["green"] != 50 {
				t.Fatalf("zone holds %v", w)
			}
			mustReal(t, undos[0].Kind, undos[0].Params)
			if w, _ := topo.DNSWeights(ctx); w["blue"] != 100 || w["green"] != 0 {
				t.Fatalf("after undo the zone holds %v", w)
			}
		})
	}
}

func TestMotoRoute53Records(t *testing.T) {
	topo := moto(t, awstest.Options{})
	blue, green := topo.Stacks["blue"], topo.Stacks["green"]
	prod, pre := "www."+topo.ZoneName, "pre."+topo.ZoneName
	// Creating both names is one batch; its undo deletes them.
	_, create := mustReal(t, "aws.route53.set-records", map[string]any{"zone": topo.ZoneID, "records": map[string]any{prod: blue.DNS, pre: green.DNS}})
	swap := map[string]any{"zone": topo.ZoneID, "records": map[string]any{prod: green.DNS, pre: blue.DNS}}
	out, undos := mustReal(t, "aws.route53.set-records", swap)
	if !reflect.DeepEqual(out["previous"], map[string]any{prod: blue.DNS, pre: green.DNS}) {
		t.Fatalf("previous %v", out["previous"])
	}
	got, _ := mustReal(t, "aws.route53.get-record", map[string]any{"zone": topo.ZoneID, "name": prod})
	if got["target"] != green.DNS || got["type"] != "CNAME" || got["ttl"] != 60 {
		t.Fatalf("get-record after swap: %v", got)
	}
	mustReal(t, undos[0].Kind, undos[0].Params)
	got, _ = mustReal(t, "aws.route53.get-record", map[string]any{"zone": topo.ZoneID, "name": prod})
	if got["target"] != blue.DNS {
		t.Fatalf("after undo %s points at %v", prod, got["target"])
	}
	mustReal(t, create[0].Kind, create[0].Params)
	if _, _, err := real(t, "aws.route53.get-record", map[string]any{"zone": topo.ZoneID, "name": pre}); err == nil {
		t.Fatal("undo of the creation left the record")
	}
}

func TestMotoHealthCheckMetricAlarm(t *testing.T) {
	topo := moto(t, awstest.Options{})
	ctx := context.Background()
	hc, err := topo.HealthCheck(ctx, "green")
	if err != nil {
		t.Fatal(err)
	}
	out, _ := mustReal(t, "aws.route53.health-check", map[string]any{"health_check": hc})
	if out["healthy"] != true || out["total"].(int) < 1 {
		t.Fatalf("health-check: %v", out)
	}

	metric := map[string]any{"namespace": "AWS/ApplicationELB", "metric": "HTTPCode_Target_5XX_Count", "stat": "Sum", "dimensions": toAny(topo.Dimensions("green"))}
	out, _ = mustReal(t, "aws.cloudwatch.metric", metric)
	if out["sum"] != 0.0 || out["datapoints"] != 0 {
		t.Fatalf("no errors yet: %v", out)
	}
	if err := topo.PutErrors(ctx, "green", 9); err != nil {
		t.Fatal(err)
	}
	out, _ = mustReal(t, "aws.cloudwatch.metric", metric)
	if out["sum"] != 9.0 || out["value"] != 9.0 {
		t.Fatalf("after 9 errors: %v", out)
	}
	// Blue's metric has the same name but other dimensions.
	metric["dimensions"] = toAny(topo.Dimensions("blue"))
	if out, _ = mustReal(t, "aws.cloudwatch.metric", metric); out["sum"] != 0.0 {
		t.Fatalf("blue: %v", out)
	}

	if err := topo.Alarm(ctx, topo.Name+"-green-5xx", "green", "ALARM"); err != nil {
		t.Fatal(err)
	}
	if err := topo.Alarm(ctx, topo.Name+"-blue-5xx", "blue", "OK"); err != nil {
		t.Fatal(err)
	}
	out, _ = mustReal(t, "aws.cloudwatch.alarm", map[string]any{"prefix": topo.Name + "-"})
	if out["alarm"] != 1 || out["ok"] != 1 || !reflect.DeepEqual(out["firing"], []any{topo.Name + "-green-5xx"}) {
		t.Fatalf("alarm: %v", out)
	}
	if _, _, err := real(t, "aws.cloudwatch.alarm", map[string]any{"alarms": []any{topo.Name + "-nope"}}); err == nil {
		t.Fatal("a missing alarm must be an error")
	}
}

func TestMotoErrorsNameCallAndResource(t *testing.T) {
	moto(t, awstest.Options{})
	_, _, err := real(t, "aws.elbv2.target-health", map[string]any{"target_group": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/nope/0"})
	if err == nil || !strings.Contains(err.Error(), "elasticloadbalancing:DescribeTargetHealth on target group arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/nope/0 failed: TargetGroupNotFound") {
		t.Fatalf("error %v", err)
	}
}

func stringsOf(m any) []string {
	var out []string
	for _, v := range m.(map[string]any) {
		out = append(out, v.(string))
	}
	return out
}
