package aws

import (
	"context"
	"fmt"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// The preflight probes of the AWS steps: before a run changes anything,
// the region and credentials must resolve and answer a read-only call, and
// the group, listener, target group or zone a step names must exist in
// that account and region (a wrong region shows as a missing resource).
// Each probe is one attempt: the engine bounds it with a short deadline,
// and the SDK's usual retries would outlast it.

// credentialsProbe checks the default chain: region, credentials and an
// sts:GetCallerIdentity call, which every identity may make.
func credentialsProbe() steps.Probe {
	return steps.Probe{Key: "aws", What: "AWS region and credentials (sts:GetCallerIdentity)", Run: func(ctx context.Context) error {
		cfg, err := shared.config()
		if err != nil {
			return err
		}
		_, err = sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, func(o *sts.Options) { o.RetryMaxAttempts = 1 })
		if err != nil {
			return failed("sts:GetCallerIdentity", "region "+cfg.Region, err)
		}
		return nil
	}}
}

// awsReady is the preflight of steps that need only working credentials.
func awsReady(steps.Params, func(string) bool) []steps.Probe {
	return []steps.Probe{credentialsProbe()}
}

// awsGroup also checks that the Auto Scaling group exists.
func awsGroup(p steps.Params, known func(string) bool) []steps.Probe {
	out := []steps.Probe{credentialsProbe()}
	name := p.String("group")
	if !known("group") || name == "" {
		return out
	}
	return append(out, steps.Probe{Key: "aws|asg|" + name, What: fmt.Sprintf("Auto Scaling group %q exists", name), Run: func(ctx context.Context) error {
		api, err := shared.autoscaling()
		if err != nil {
			return err
		}
		res, err := api.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}},
			func(o *autoscaling.Options) { o.RetryMaxAttempts = 1 })
		if err != nil {
			return failed("autoscaling:DescribeAutoScalingGroups", fmt.Sprintf("group %q in region %s", name, region()), err)
		}
		if len(res.AutoScalingGroups) == 0 {
			return fmt.Errorf("no Auto Scaling group named %q in region %s", name, region())
		}
		return nil
	}})
}

// awsForward also checks that the listener or rule exists.
func awsForward(p steps.Params, known func(string) bool) []steps.Probe {
	out := []steps.Probe{credentialsProbe()}
	listener, rule := p.String("listener"), p.String("rule")
	if !known("listener") || !known("rule") || (listener == "") == (rule == "") {
		return out
	}
	what, arn := "listener", listener
	if rule != "" {
		what, arn = "listener rule", rule
	}
	return append(out, steps.Probe{Key: "aws|elbv2|" + arn, What: fmt.Sprintf("%s %s exists", what, arn), Run: func(ctx context.Context) error {
		api, err := shared.elbv2()
		if err != nil {
			return err
		}
		opt := func(o *elbv2.Options) { o.RetryMaxAttempts = 1 }
		n := 0
		if rule != "" {
			res, err := api.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{rule}}, opt)
			if err != nil {
				return failed("elasticloadbalancing:DescribeRules", what+" "+arn+" in region "+region(), err)
			}
			n = len(res.Rules)
		} else {
			res, err := api.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{listener}}, opt)
			if err != nil {
				return failed("elasticloadbalancing:DescribeListeners", what+" "+arn+" in region "+region(), err)
			}
			n = len(res.Listeners)
		}
		if n == 0 {
			return fmt.Errorf("no %s %s in region %s", what, arn, region())
		}
		return nil
	}})
}

// awsTargetGroup also checks that the target group exists.
func awsTargetGroup(p steps.Params, known func(string) bool) []steps.Probe {
	out := []steps.Probe{credentialsProbe()}
	arn := p.String("target_group")
	if !known("target_group") || arn == "" {
		return out
	}
	return append(out, steps.Probe{Key: "aws|tg|" + arn, What: fmt.Sprintf("target group %s exists", arn), Run: func(ctx context.Context) error {
		api, err := shared.elbv2()
		if err != nil {
			return err
		}
		_, err = api.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: awssdk.String(arn)},
			func(o *elbv2.Options) { o.RetryMaxAttempts = 1 })
		if err != nil {
			return failed("elasticloadbalancing:DescribeTargetHealth", "target group "+arn+" in region "+region(), err)
		}
		return nil
	}})
}

// awsZone also checks that the hosted zone exists and can be read.
func awsZone(p steps.Params, known func(string) bool) []steps.Probe {
	out := []steps.Probe{credentialsProbe()}
	zone := strings.TrimPrefix(p.String("zone"), "/hostedzone/")
	if !known("zone") || zone == "" {
		return out
	}
	return append(out, steps.Probe{Key: "aws|zone|" + zone, What: fmt.Sprintf("hosted zone %s exists", zone), Run: func(ctx context.Context) error {
		api, err := shared.route53()
		if err != nil {
			return err
		}
		_, err = api.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: awssdk.String(zone), MaxItems: awssdk.Int32(1)},
			func(o *route53.Options) { o.RetryMaxAttempts = 1 })
		if err != nil {
			return failed("route53:ListResourceRecordSets", "zone "+zone, err)
		}
		return nil
	}})
}

func region() string {
	cfg, _ := shared.config()
	return cfg.Region
}
