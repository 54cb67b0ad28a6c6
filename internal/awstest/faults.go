package awstest

import (
	"context"
	"fmt"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// StopGroupInstances stops every instance of a colour's group, so that its
// target group reports them "unused" (Target.InvalidState) while the group
// still counts them InService: on moto, the way to get instances that
// launch but never pass the load balancer's health check. It returns how
// many it stopped.
func (t *Topology) StopGroupInstances(ctx context.Context, colour string) (int, error) {
	g, err := t.Group(ctx, colour)
	if err != nil {
		return 0, err
	}
	if len(g.Instances) == 0 {
		return 0, nil
	}
	if _, err := t.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: g.Instances}); err != nil {
		return 0, fmt.Errorf("stop %v: %w", g.Instances, err)
	}
	return len(g.Instances), nil
}

// HealthyInTarget returns how many of a colour's group instances its
// target group reports healthy, and how many instances the group has.
func (t *Topology) HealthyInTarget(ctx context.Context, colour string) (healthy, instances int, err error) {
	g, err := t.Group(ctx, colour)
	if err != nil || len(g.Instances) == 0 {
		return 0, 0, err
	}
	var targets []elbtypes.TargetDescription
	for _, id := range g.Instances {
		targets = append(targets, elbtypes.TargetDescription{Id: awssdk.String(id)})
	}
	out, err := t.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: awssdk.String(t.Stacks[colour].TargetGroup), Targets: targets})
	if err != nil {
		return 0, 0, err
	}
	for _, d := range out.TargetHealthDescriptions {
		if d.TargetHealth != nil && d.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
			healthy++
		}
	}
	return healthy, len(g.Instances), nil
}
