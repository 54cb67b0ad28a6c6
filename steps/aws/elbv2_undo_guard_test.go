package aws

import (
	"context"
	"strings"
	"testing"

	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/bluegreen-deploy/bluegreen/steps"
	"github.com/bluegreen-deploy/bluegreen/steps/steptest"
)

// An undo of set-weights never raises the weight of a target group with
// nothing healthy in it: it halts the rollback and leaves the listener.
func TestELBSetWeightsUndoRefusesAnEmptyTargetGroup(t *testing.T) {
	cases := []struct {
		name   string
		blue   []elbtypes.TargetHealthDescription
		halted bool
	}{
		{"no targets", nil, true},
		{"only unhealthy and draining", []elbtypes.TargetHealthDescription{
			target("i-1", elbtypes.TargetHealthStateEnumUnhealthy, elbtypes.TargetHealthReasonEnumFailedHealthChecks, ""),
			target("i-2", elbtypes.TargetHealthStateEnumDraining, elbtypes.TargetHealthReasonEnumDeregistrationInProgress, ""),
		}, true},
		{"one healthy", []elbtypes.TargetHealthDescription{
			target("i-1", elbtypes.TargetHealthStateEnumUnhealthy, elbtypes.TargetHealthReasonEnumFailedHealthChecks, ""),
			target("i-2", elbtypes.TargetHealthStateEnumHealthy, "", ""),
		}, false},
		{"health checks off", []elbtypes.TargetHealthDescription{
			target("fn", elbtypes.TargetHealthStateEnumUnavailable, elbtypes.TargetHealthReasonEnumHealthCheckDisabled, ""),
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			api := &fakeELB{
				listeners: map[string][]elbtypes.Action{lsn: {forward(tgBlue, 0, tgGreen, 100)}},
				health:    map[string][]elbtypes.TargetHealthDescription{tgBlue: c.blue},
			}
			raw := map[string]any{"listener": lsn, "weights": map[string]any{tgBlue: 100, tgGreen: 0}}
			err := steptest.Run(context.Background(), t, "aws.elbv2.set-weights", raw, steptest.Options{Step: &elbSetWeights{api: api}, Undoing: true}).Err
			if c.halted {
				if !steps.IsHalt(err) || !strings.Contains(err.Error(), "web-blue") || !strings.Contains(err.Error(), "no healthy target") {
					t.Fatalf("error %v, want a halt naming the empty target group", err)
				}
				if api.modified != 0 {
					t.Fatal("the listener was changed")
				}
				return
			}
			if err != nil || api.modified != 1 {
				t.Fatalf("error %v, %d modifications", err, api.modified)
			}
		})
	}
}
