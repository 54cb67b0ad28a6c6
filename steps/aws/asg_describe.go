package aws

import (
	"context"
	"fmt"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "aws.asg.describe",
		Title:   "Describe Auto Scaling group",
		Summary: "Reads an Auto Scaling group's sizes, instances and their lifecycle and health states.",
		Doc: "Read-only, so it can be used as a gate, for example " +
			"`until: \"healthy == desired && in_service == desired\"` after scaling a group.",
		Preflight: awsGroup,
		Rules: []steps.Rule{
			steps.Length("group", 1, 255),
		},
		Params: []steps.Param{
			{Name: "group", Type: steps.String, Required: true, Doc: "Name of the Auto Scaling group.", Examples: []any{"web-green"}},
		},
		Outputs: []steps.Output{
			{Name: "desired", Type: steps.Int, Doc: "Desired capacity."},
			{Name: "min", Type: steps.Int, Doc: "Minimum size."},
			{Name: "max", Type: steps.Int, Doc: "Maximum size."},
			{Name: "instances", Type: steps.List, Doc: "Ids of the group's instances."},
			{Name: "total", Type: steps.Int, Doc: "Number of instances in the group, in any state."},
			{Name: "in_service", Type: steps.Int, Doc: "Instances in the InService lifecycle state."},
			{Name: "pending", Type: steps.Int, Doc: "Instances launching (Pending and Pending:Wait/Proceed)."},
			{Name: "terminating", Type: steps.Int, Doc: "Instances terminating (Terminating and Terminating:Wait/Proceed)."},
			{Name: "healthy", Type: steps.Int, Doc: "Instances that are InService and reported Healthy."},
			{Name: "unhealthy", Type: steps.Int, Doc: "Instances reported Unhealthy."},
			{Name: "states", Type: steps.Map, Doc: "Number of instances by lifecycle state, e.g. {InService: 3, Pending: 1}."},
			{Name: "launch_template", Type: steps.String, Doc: "Id of the group's launch template (empty for launch configurations)."},
			{Name: "launch_template_version", Type: steps.String, Doc: "The launch template version the group launches, as the group holds it (a number, $Latest or $Default)."},
		},
		Credentials: steps.AWSCredentials,
		New:         func() steps.Step { return &asgDescribe{} },
	})
}

type asgDescribe struct{ api asgAPI }

func (s *asgDescribe) Run(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	api, err := asgClient(s.api)
	if err != nil {
		return nil, err
	}
	g, err := describeGroup(ctx, api, call.Params.String("group"))
	if err != nil {
		return nil, err
	}
	return groupOutputs(g), nil
}

// describeGroup reads one group and fails when it does not exist.
func describeGroup(ctx context.Context, api asgAPI, name string) (*asgtypes.AutoScalingGroup, error) {
	out, err := api.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{
		AutoScalingGroupNames: []string{name},
	})
	if err != nil {
		return nil, failed("autoscaling:DescribeAutoScalingGroups", fmt.Sprintf("group %q", name), err)
	}
	for i := range out.AutoScalingGroups {
		if awssdk.ToString(out.AutoScalingGroups[i].AutoScalingGroupName) == name {
			return &out.AutoScalingGroups[i], nil
		}
	}
	return nil, fmt.Errorf("autoscaling:DescribeAutoScalingGroups on group %q: no such Auto Scaling group", name)
}

// groupCounts counts a group's instances by state.
type groupCounts struct {
	total, inService, pending, terminating, healthy, unhealthy int
	states                                                     map[string]any
}

func countInstances(g *asgtypes.AutoScalingGroup) groupCounts {
	c := groupCounts{states: map[string]any{}}
	for _, in := range g.Instances {
		c.total++
		st := string(in.LifecycleState)
		n, _ := c.states[st].(int)
		c.states[st] = n + 1
		switch in.LifecycleState {
		case asgtypes.LifecycleStateInService:
			c.inService++
		case asgtypes.LifecycleStatePending, asgtypes.LifecycleStatePendingWait, asgtypes.LifecycleStatePendingProceed:
			c.pending++
		case asgtypes.LifecycleStateTerminating, asgtypes.LifecycleStateTerminatingWait, asgtypes.LifecycleStateTerminatingProceed:
			c.terminating++
		}
		switch awssdk.ToString(in.HealthStatus) {
		case "Healthy":
			if in.LifecycleState == asgtypes.LifecycleStateInService {
				c.healthy++
			}
		case "Unhealthy":
			c.unhealthy++
		}
	}
	return c
}

func groupOutputs(g *asgtypes.AutoScalingGroup) steps.Outputs {
	c := countInstances(g)
	ids := make([]any, 0, len(g.Instances))
	for _, in := range g.Instances {
		ids = append(ids, awssdk.ToString(in.InstanceId))
	}
	var lt, ltv string
	if g.LaunchTemplate != nil {
		lt, ltv = awssdk.ToString(g.LaunchTemplate.LaunchTemplateId), awssdk.ToString(g.LaunchTemplate.Version)
	}
	return steps.Outputs{
		"desired":                 int(awssdk.ToInt32(g.DesiredCapacity)),
		"min":                     int(awssdk.ToInt32(g.MinSize)),
		"max":                     int(awssdk.ToInt32(g.MaxSize)),
		"instances":               ids,
		"total":                   c.total,
		"in_service":              c.inService,
		"pending":                 c.pending,
		"terminating":             c.terminating,
		"healthy":                 c.healthy,
		"unhealthy":               c.unhealthy,
		"states":                  c.states,
		"launch_template":         lt,
		"launch_template_version": ltv,
	}
}
