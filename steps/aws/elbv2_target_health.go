package aws

import (
	"context"
	"sort"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "aws.elbv2.target-health",
		Title:   "Target group health",
		Summary: "Counts a target group's targets by health state and reports why the others are not healthy.",
		Doc: "Read-only and meant as a gate: `until: \"healthy == total && total > 0\"` waits until every " +
			"registered target passes the load balancer's health checks. Targets that are not healthy are " +
			"listed in `reasons` with the load balancer's reason code and description.",
		Preflight: awsTargetGroup,
		Rules: []steps.Rule{
			steps.Matches("target_group", `^arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:targetgroup/`, "a target group ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/...)"),
		},
		Params: []steps.Param{
			{Name: "target_group", Type: steps.String, Required: true, Doc: "ARN of the target group.",
				Examples: []any{"arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-green/0123456789abcdef"}},
		},
		Outputs: []steps.Output{
			{Name: "healthy", Type: steps.Int, Doc: "Targets in state healthy."},
			{Name: "unhealthy", Type: steps.Int, Doc: "Targets in state unhealthy."},
			{Name: "initial", Type: steps.Int, Doc: "Targets still in their first health checks."},
			{Name: "draining", Type: steps.Int, Doc: "Targets being deregistered."},
			{Name: "unused", Type: steps.Int, Doc: "Targets not in use (stopped instance, target group not used by a listener, ...)."},
			{Name: "unavailable", Type: steps.Int, Doc: "Targets whose health checks are disabled."},
			{Name: "total", Type: steps.Int, Doc: "All registered targets."},
			{Name: "reasons", Type: steps.Map, Doc: "For each target that is not healthy: its id mapped to \"state: Reason (description)\"."},
			{Name: "unhealthy_targets", Type: steps.List, Doc: "Ids of the targets that are not healthy, sorted."},
		},
		Credentials: steps.AWSCredentials,
		New:         func() steps.Step { return &targetHealth{} },
	})
}

type targetHealth struct{ api elbv2API }

func (s *targetHealth) Run(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	api, err := elbv2Client(s.api)
	if err != nil {
		return nil, err
	}
	tg := call.Params.String("target_group")
	out, err := api.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: awssdk.String(tg)})
	if err != nil {
		return nil, failed("elasticloadbalancing:DescribeTargetHealth", "target group "+tg, err)
	}
	counts := map[elbtypes.TargetHealthStateEnum]int{}
	reasons := map[string]any{}
	var bad []string
	for _, d := range out.TargetHealthDescriptions {
		if d.Target == nil || d.TargetHealth == nil {
			continue
		}
		st := d.TargetHealth.State
		counts[st]++
		if st == elbtypes.TargetHealthStateEnumHealthy {
			continue
		}
		id := awssdk.ToString(d.Target.Id)
		bad = append(bad, id)
		reason := string(st)
		if d.TargetHealth.Reason != "" {
			reason += ": " + string(d.TargetHealth.Reason)
		}
		if desc := awssdk.ToString(d.TargetHealth.Description); desc != "" {
			reason += " (" + desc + ")"
		}
		reasons[id] = reason
	}
	sort.Strings(bad)
	ids := make([]any, len(bad))
	for i, b := range bad {
		ids[i] = b
	}
	return steps.Outputs{
		"healthy":           counts[elbtypes.TargetHealthStateEnumHealthy],
		"unhealthy":         counts[elbtypes.TargetHealthStateEnumUnhealthy],
		"initial":           counts[elbtypes.TargetHealthStateEnumInitial],
		"draining":          counts[elbtypes.TargetHealthStateEnumDraining],
		"unused":            counts[elbtypes.TargetHealthStateEnumUnused],
		"unavailable":       counts[elbtypes.TargetHealthStateEnumUnavailable],
		"total":             len(out.TargetHealthDescriptions),
		"reasons":           reasons,
		"unhealthy_targets": ids,
	}, nil
}
