package aws

import (
	"context"
	"reflect"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

const (
	tgBlue   = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/aaa"
	tgGreen  = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/bbb"
	tgCanary = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-canary/ccc"
	lsn      = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/111/222"
	rl       = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web/111/222/333"
)

func target(id string, st elbtypes.TargetHealthStateEnum, reason elbtypes.TargetHealthReasonEnum, desc string) elbtypes.TargetHealthDescription {
	d := elbtypes.TargetHealthDescription{Target: &elbtypes.TargetDescription{Id: awssdk.String(id), Port: awssdk.Int32(80)}, TargetHealth: &elbtypes.TargetHealth{State: st, Reason: reason}}
	if desc != "" {
		d.TargetHealth.Description = awssdk.String(desc)
	}
	return d
}

func TestTargetHealthCounts(t *testing.T) {
	api := &fakeELB{health: map[string][]elbtypes.TargetHealthDescription{tgGreen: {
		target("i-1", "healthy", "", ""),
		target("i-2", "healthy", "", ""),
		target("i-3", "unhealthy", "Target.FailedHealthChecks", "Health checks failed"),
		target("i-4", "initial", "Elb.RegistrationInProgress", ""),
		target("i-5", "unused", "Target.InvalidState", "Target is in the stopped state"),
		target("i-6", "draining", "Target.DeregistrationInProgress", ""),
	}}}
	out, _, err := runStep(t, "aws.elbv2.target-health", &targetHealth{api: api}, map[string]any{"target_group": tgGreen})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"healthy": 2, "unhealthy": 1, "initial": 1, "unused": 1, "draining": 1, "unavailable": 0, "total": 6,
		"unhealthy_targets": []any{"i-3", "i-4", "i-5", "i-6"}}
	for k, v := range want {
		if !reflect.DeepEqual(out[k], v) {
			t.Errorf("%s = %#v, want %#v", k, out[k], v)
		}
	}
	if r := out["reasons"].(map[string]any)["i-5"]; r != "unused: Target.InvalidState (Target is in the stopped state)" {
		t.Errorf("reason of i-5 = %q", r)
	}
	if _, ok := out["reasons"].(map[string]any)["i-1"]; ok {
		t.Error("healthy targets have no reason")
	}
}

func TestTargetHealthMissingGroup(t *testing.T) {
	_, _, err := runStep(t, "aws.elbv2.target-health", &targetHealth{api: &fakeELB{}}, map[string]any{"target_group": tgGreen})
	if err == nil || !strings.Contains(err.Error(), "elasticloadbalancing:DescribeTargetHealth on target group "+tgGreen) || !strings.Contains(err.Error(), "TargetGroupNotFound") {
		t.Fatalf("error %v", err)
	}
}

func TestELBGetWeights(t *testing.T) {
	api := &fakeELB{
		listeners: map[string][]elbtypes.Action{lsn: {forward(tgBlue, 90, tgGreen, 10)}},
		rules:     map[string][]elbtypes.Action{rl: {{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: awssdk.String(tgBlue)}}},
	}
	cases := []struct {
		params map[string]any
		want   map[string]any
		total  int
	}{
		{map[string]any{"listener": lsn}, map[string]any{tgBlue: 90, tgGreen: 10}, 100},
		{map[string]any{"rule": rl}, map[string]any{tgBlue: 1}, 1},
	}
	for _, c := range cases {
		out, _, err := runStep(t, "aws.elbv2.get-weights", &elbGetWeights{api: api}, c.params)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(out["weights"], c.want) || out["total"] != c.total {
			t.Errorf("%v: weights %v total %v, want %v %d", c.params, out["weights"], out["total"], c.want, c.total)
		}
	}
	out, _, _ := runStep(t, "aws.elbv2.get-weights", &elbGetWeights{api: api}, map[string]any{"listener": lsn})
	if !reflect.DeepEqual(out["by_name"], map[string]any{"web-blue": 90, "web-green": 10}) {
		t.Errorf("by_name = %v", out["by_name"])
	}
}

func TestELBSetWeights(t *testing.T) {
	auth := elbtypes.Action{Type: elbtypes.ActionTypeEnumAuthenticateOidc, Order: awssdk.Int32(1)}
	cases := []struct {
		name     string
		start    []elbtypes.Action
		params   map[string]any
		want     map[string]int
		wantUndo map[string]any
		wantErr  string
	}{
		{"listener by arn", []elbtypes.Action{forward(tgBlue, 100, tgGreen, 0)}, map[string]any{"listener": lsn, "weights": map[string]any{tgBlue: 50, tgGreen: 50}},
			map[string]int{tgBlue: 50, tgGreen: 50}, map[string]any{"listener": lsn, "weights": map[string]any{tgBlue: 100, tgGreen: 0}}, ""},
		{"by name, weights as text", []elbtypes.Action{forward(tgBlue, 100, tgGreen, 0)}, map[string]any{"listener": lsn, "weights": "{web-green: '10', web-blue: 90}"},
			map[string]int{tgBlue: 90, tgGreen: 10}, map[string]any{"listener": lsn, "weights": map[string]any{tgBlue: 100, tgGreen: 0}}, ""},
		{"other actions kept", []elbtypes.Action{auth, forward(tgBlue, 100, tgGreen, 0)}, map[string]any{"listener": lsn, "weights": map[string]any{"web-green": 100, "web-blue": 0}},
			map[string]int{tgBlue: 0, tgGreen: 100}, map[string]any{"listener": lsn, "weights": map[string]any{tgBlue: 100, tgGreen: 0}}, ""},
		{"adds a target group", []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: awssdk.String(tgBlue)}}, map[string]any{"rule": rl, "weights": map[string]any{tgCanary: 5}},
			map[string]int{tgBlue: 1, tgCanary: 5}, map[string]any{"rule": rl, "weights": map[string]any{tgBlue: 1, tgCanary: 0}}, ""},
		{"unknown name", []elbtypes.Action{forward(tgBlue, 100, tgGreen, 0)}, map[string]any{"listener": lsn, "weights": map[string]any{"web-red": 5}},
			nil, nil, `forwards to no target group named "web-red"`},
		{"weight out of range", []elbtypes.Action{forward(tgBlue, 100, tgGreen, 0)}, map[string]any{"listener": lsn, "weights": map[string]any{"web-blue": 1000}},
			nil, nil, "from 0 to 999"},
		{"no forward action", []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse}}, map[string]any{"listener": lsn, "weights": map[string]any{"web-blue": 1}},
			nil, nil, "has no forward action"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			api := &fakeELB{listeners: map[string][]elbtypes.Action{lsn: cloneActions(c.start)}, rules: map[string][]elbtypes.Action{rl: cloneActions(c.start)}}
			out, undos, err := runStep(t, "aws.elbv2.set-weights", &elbSetWeights{api: api}, c.params)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				if api.modified != 0 {
					t.Fatal("modified despite the error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			fw, _ := readForward(context.Background(), api, strOf(c.params["listener"]), strOf(c.params["rule"]))
			if got := fw.weights(); !reflect.DeepEqual(got, c.want) {
				t.Errorf("AWS holds %v, want %v", got, c.want)
			}
			if len(fw.actions) != len(c.start) || fw.actions[fw.idx].TargetGroupArn != nil {
				t.Errorf("actions %+v: other actions must be kept and TargetGroupArn cleared", fw.actions)
			}
			if len(undos) != 1 || !reflect.DeepEqual(undos[0].Params, c.wantUndo) {
				t.Fatalf("undos %+v, want %v", undos, c.wantUndo)
			}
			if out["changed"] != true {
				t.Error("changed = false")
			}
			if _, _, err := runStep(t, undos[0].Kind, &elbSetWeights{api: api}, undos[0].Params); err != nil {
				t.Fatal(err)
			}
			fw, _ = readForward(context.Background(), api, strOf(c.params["listener"]), strOf(c.params["rule"]))
			for arn, w := range c.wantUndo["weights"].(map[string]any) {
				if fw.weights()[arn] != w {
					t.Errorf("after undo %s has weight %d, want %v", arn, fw.weights()[arn], w)
				}
			}
		})
	}
}

func TestELBSetWeightsVerifiesWhatAWSHolds(t *testing.T) {
	api := &fakeELB{listeners: map[string][]elbtypes.Action{lsn: {forward(tgBlue, 100, tgGreen, 0)}}, ignoreModify: true}
	_, undos, err := runStep(t, "aws.elbv2.set-weights", &elbSetWeights{api: api}, map[string]any{"listener": lsn, "weights": map[string]any{"web-green": 100, "web-blue": 0}})
	if err == nil || !strings.Contains(err.Error(), "weights did not take effect") || !strings.Contains(err.Error(), "AWS holds web-blue=100, web-green=0") {
		t.Fatalf("error %v", err)
	}
	if len(undos) != 1 {
		t.Fatal("the undo must be journaled before the modify call")
	}
}

func TestELBSetWeightsUnchanged(t *testing.T) {
	api := &fakeELB{listeners: map[string][]elbtypes.Action{lsn: {forward(tgBlue, 100, tgGreen, 0)}}}
	out, undos, err := runStep(t, "aws.elbv2.set-weights", &elbSetWeights{api: api}, map[string]any{"listener": lsn, "weights": map[string]any{"web-blue": 100}})
	if err != nil || out["changed"] != false || len(undos) != 0 || api.modified != 0 {
		t.Fatalf("err %v changed %v undos %d modified %d", err, out["changed"], len(undos), api.modified)
	}
}

func strOf(v any) string { s, _ := v.(string); return s }
