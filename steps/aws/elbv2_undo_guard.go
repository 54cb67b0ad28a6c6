package aws

import (
	"context"
	"fmt"
	"sort"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// guardUndo checks, for an undo of set-weights, that every target group
// whose weight the undo raises has a target that can serve. The capacity
// undo before it normally makes sure of that (aws.asg.scale waits for
// restored instances); this is the last line for what it cannot see: a
// group scaled in by hand, targets deregistered since the release, a
// journal from an older version. Sending a share of the traffic to a
// target group with nothing healthy in it fails every request of that
// share, so the undo halts the rollback instead and traffic stays where
// it is.
func guardUndo(ctx context.Context, api elbv2API, prev, want map[string]int) error {
	arns := make([]string, 0, len(want))
	for arn, w := range want {
		if w > prev[arn] {
			arns = append(arns, arn)
		}
	}
	sort.Strings(arns)
	for _, arn := range arns {
		out, err := api.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: awssdk.String(arn)})
		if err != nil {
			return failed("elasticloadbalancing:DescribeTargetHealth", fmt.Sprintf("target group %q", arn), err)
		}
		serving := 0
		for _, d := range out.TargetHealthDescriptions {
			if th := d.TargetHealth; th != nil && (th.State == elbtypes.TargetHealthStateEnumHealthy ||
				// Without health checks (Lambda targets, or turned off) a
				// target is "unavailable" but serves.
				th.State == elbtypes.TargetHealthStateEnumUnavailable && th.Reason == elbtypes.TargetHealthReasonEnumHealthCheckDisabled) {
				serving++
			}
		}
		if serving == 0 {
			return steps.Halt(fmt.Errorf("target group %s has no healthy target (%d registered): its weight would go from %d to %d, failing every request sent to it",
				arn, len(out.TargetHealthDescriptions), prev[arn], want[arn]))
		}
	}
	return nil
}
