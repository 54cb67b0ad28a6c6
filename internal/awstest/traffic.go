package awstest

import (
	"context"
	"fmt"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
)

// How traffic is split between the colours: the runbooks' inputs for this
// topology, and the weights of the Route53 records and the load balancer
// listener and its rules.

// WeightedDNSInputs are the --set inputs of runbooks/weighted-dns.yaml for
// this topology.
func (t *Topology) WeightedDNSInputs() map[string]string {
	b, g := t.Stacks["blue"], t.Stacks["green"]
	return map[string]string{
		"zone_id": t.ZoneID, "record": t.Record,
		"blue_asg": b.ASG, "green_asg": g.ASG,
		"blue_target_group": b.TargetGroup, "green_target_group": g.TargetGroup,
		"blue_load_balancer": b.LoadBalancer, "green_load_balancer": g.LoadBalancer,
		"blue_dns": b.DNS, "green_dns": g.DNS,
	}
}

// ALBInputs are the --set inputs of runbooks/alb-weighted.yaml for this
// topology (built with SharedALB).
func (t *Topology) ALBInputs() map[string]string {
	b, g := t.Stacks["blue"], t.Stacks["green"]
	return map[string]string{
		"listener_arn": t.Listener, "load_balancer": t.LoadBalancer,
		"blue_asg": b.ASG, "green_asg": g.ASG,
		"blue_target_group": b.TargetGroup, "green_target_group": g.TargetGroup,
	}
}

// DNSWeights returns the weighted records' weights by colour.
func (t *Topology) DNSWeights(ctx context.Context) (map[string]int, error) {
	out, err := t.r53.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: awssdk.String(t.ZoneID)})
	if err != nil {
		return nil, err
	}
	w := map[string]int{}
	for _, rs := range out.ResourceRecordSets {
		if strings.TrimSuffix(awssdk.ToString(rs.Name), ".") == t.Record && rs.SetIdentifier != nil {
			w[*rs.SetIdentifier] = int(awssdk.ToInt64(rs.Weight))
		}
	}
	return w, nil
}

// ListenerWeights returns the shared listener's default-action weights by
// colour.
func (t *Topology) ListenerWeights(ctx context.Context) (map[string]int, error) {
	out, err := t.elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{t.Listener}})
	if err != nil {
		return nil, err
	}
	return t.colourWeights(out.Listeners[0].DefaultActions), nil
}

// RuleWeights returns a listener rule's weights by colour.
func (t *Topology) RuleWeights(ctx context.Context, rule string) (map[string]int, error) {
	out, err := t.elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{rule}})
	if err != nil {
		return nil, err
	}
	return t.colourWeights(out.Rules[0].Actions), nil
}

func (t *Topology) colourWeights(actions []elbtypes.Action) map[string]int {
	w := map[string]int{}
	for _, a := range actions {
		if a.ForwardConfig == nil {
			continue
		}
		for _, tg := range a.ForwardConfig.TargetGroups {
			for c, s := range t.Stacks {
				if s.TargetGroup == awssdk.ToString(tg.TargetGroupArn) {
					w[c] = int(awssdk.ToInt32(tg.Weight))
				}
			}
		}
	}
	return w
}

// AddRule adds a rule for path /api/* to the shared listener, forwarding
// to blue (100) and green (0), and returns its ARN.
func (t *Topology) AddRule(ctx context.Context) (string, error) {
	out, err := t.elb.CreateRule(ctx, &elbv2.CreateRuleInput{
		ListenerArn: awssdk.String(t.Listener), Priority: awssdk.Int32(10),
		Conditions: []elbtypes.RuleCondition{{Field: awssdk.String("path-pattern"), Values: []string{"/api/*"}}},
		Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{
			{TargetGroupArn: awssdk.String(t.Stacks["blue"].TargetGroup), Weight: awssdk.Int32(100)},
			{TargetGroupArn: awssdk.String(t.Stacks["green"].TargetGroup), Weight: awssdk.Int32(0)},
		}}}},
	})
	if err != nil {
		return "", fmt.Errorf("create rule: %w", err)
	}
	return awssdk.ToString(out.Rules[0].RuleArn), nil
}

// State is a one-screen summary of the topology: weights and groups.
func (t *Topology) State(ctx context.Context) (string, error) {
	var b strings.Builder
	var w map[string]int
	var err error
	if t.Listener != "" {
		w, err = t.ListenerWeights(ctx)
	} else {
		w, err = t.DNSWeights(ctx)
	}
	if err != nil {
		return "", err
	}
	for _, c := range Colours {
		g, err := t.Group(ctx, c)
		if err != nil {
			return "", err
		}
		images, err := t.Images(ctx, c)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%-6s weight %3d  group %s desired %d, %d instances, launch template version %s, images %v\n",
			c, w[c], t.Stacks[c].ASG, g.Desired, len(g.Instances), g.Version, images)
	}
	return b.String(), nil
}
