package aws

import (
	"context"
	"reflect"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
)

// previewRules returns the listener's non-default rules as
// "priority: conditions -> target groups" lines, sorted by priority.
func previewRules(t *testing.T, topo *awstest.Topology) map[string]string {
	t.Helper()
	rules, err := topo.ListenerRules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rules {
		if awssdk.ToBool(r.IsDefault) {
			continue
		}
		var tgs []string
		for _, a := range r.Actions {
			if a.ForwardConfig != nil {
				for _, tg := range a.ForwardConfig.TargetGroups {
					tgs = append(tgs, targetGroupName(awssdk.ToString(tg.TargetGroupArn)))
				}
			} else if a.TargetGroupArn != nil {
				tgs = append(tgs, targetGroupName(awssdk.ToString(a.TargetGroupArn)))
			}
		}
		out[awssdk.ToString(r.Priority)] = strings.Join(conditionKeys(r.Conditions), "; ") + " -> " + strings.Join(tgs, ",")
	}
	return out
}

func TestMotoPreviewRule(t *testing.T) {
	topo := moto(t, awstest.Options{SharedALB: true})
	ctx := context.Background()
	if _, err := topo.AddRule(ctx); err != nil { // /api/* at priority 10
		t.Fatal(err)
	}
	defaults, err := topo.ListenerDefaultActions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	green := topo.Stacks["green"].TargetGroup
	greenName, blueName := targetGroupName(green), targetGroupName(topo.Stacks["blue"].TargetGroup)
	apiRule := "path-pattern /api/* -> " + blueName + "," + greenName
	open := map[string]any{
		"listener": topo.Listener, "target_group": green,
		"headers": map[string]any{"X-Preview": "green"}, "cookies": map[string]any{"preview": "1"},
		"source_ips": []any{"10.0.0.0/8", "192.168.0.0/16"},
	}
	out, undos := mustReal(t, "aws.elbv2.preview", open)
	if out["priority"] != 1 || !strings.HasPrefix(out["rule"].(string), "arn:") || len(undos) != 1 {
		t.Fatalf("outputs %v, undos %v", out, undos)
	}
	want := map[string]string{
		"1":  "header cookie=*preview=1*; header x-preview=green; source 10.0.0.0/8|192.168.0.0/16 -> " + greenName,
		"10": apiRule,
	}
	if got := previewRules(t, topo); !reflect.DeepEqual(got, want) {
		t.Fatalf("rules after opening the preview:\n%v\nwant\n%v", got, want)
	}

	// A second preview takes the next free priority; a priority in use is
	// refused and changes nothing.
	second := map[string]any{"listener": topo.Listener, "target_group": green, "headers": map[string]any{"X-Canary": "*"}}
	out2, undos2 := mustReal(t, "aws.elbv2.preview", second)
	if out2["priority"] != 2 {
		t.Fatalf("second preview: %v", out2)
	}
	taken := map[string]any{"listener": topo.Listener, "target_group": green, "headers": map[string]any{"X-Other": "1"}, "priority": 10}
	if _, u, err := real(t, "aws.elbv2.preview", taken); err == nil || !strings.Contains(err.Error(), "already has a rule at priority 10") || len(u) != 0 {
		t.Fatalf("taken priority: err %v, undos %v", err, u)
	}
	if _, _, err := real(t, "aws.elbv2.preview", map[string]any{"listener": topo.Listener, "target_group": green}); err == nil ||
		!strings.Contains(err.Error(), "at least one of") {
		t.Fatalf("no condition: %v", err)
	}

	// A removal that names another target group leaves the rule alone.
	wrong := map[string]any{}
	for k, v := range undos[0].Params {
		wrong[k] = v
	}
	wrong["target_group"] = topo.Stacks["blue"].TargetGroup
	if out, _ := mustReal(t, "aws.elbv2.preview", wrong); out["removed"] != false {
		t.Fatalf("removed a rule that is not the preview: %v", out)
	}
	// The undos remove exactly the preview rules; running one again is fine.
	for _, u := range []map[string]any{undos[0].Params, undos2[0].Params} {
		if out, _ := mustReal(t, undos[0].Kind, u); out["removed"] != true {
			t.Fatalf("undo: %v", out)
		}
	}
	if out, _ := mustReal(t, undos[0].Kind, undos[0].Params); out["removed"] != false {
		t.Fatalf("second undo: %v", out)
	}
	if got := previewRules(t, topo); !reflect.DeepEqual(got, map[string]string{"10": apiRule}) {
		t.Fatalf("rules after the undos: %v", got)
	}
	after, _ := topo.ListenerDefaultActions(ctx)
	if !reflect.DeepEqual(forwardWeights(after), forwardWeights(defaults)) {
		t.Fatalf("the default action changed: %v -> %v", forwardWeights(defaults), forwardWeights(after))
	}
}

func forwardWeights(actions []elbtypes.Action) map[string]int32 {
	out := map[string]int32{}
	for _, a := range actions {
		if a.ForwardConfig != nil {
			for _, tg := range a.ForwardConfig.TargetGroups {
				out[awssdk.ToString(tg.TargetGroupArn)] = awssdk.ToInt32(tg.Weight)
			}
		}
	}
	return out
}
