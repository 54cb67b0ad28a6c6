package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// The preflight probes of the AWS steps: before a run changes anything,
// the region and credentials must resolve and answer a read-only call, and
// the group, listener, target group or zone a step names must exist in
// that account and region (a wrong region shows as a missing resource).
// The SDK retries as for any call, within the probe's short deadline;
// throttling and server errors that outlast it are transient (a warning,
// not a stop), since they say nothing about the configuration.

// credentialsProbe checks the default chain: region, credentials and an
// sts:GetCallerIdentity call, which every identity may make.
func credentialsProbe() steps.Probe {
	return steps.Probe{Key: "aws", What: "AWS region and credentials (sts:GetCallerIdentity)", Run: func(ctx context.Context) error {
		cfg, err := shared.config()
		if err != nil {
			return err
		}
		// Two quick attempts: the SDK would otherwise retry a refused
		// connection with backoff until the probe's deadline, and an
		// endpoint that is not there would read as "no answer" (transient)
		// instead of the configuration error it is.
		_, err = sts.NewFromConfig(cfg, func(o *sts.Options) {
			o.Retryer = retry.AddWithMaxBackoffDelay(retry.AddWithMaxAttempts(o.Retryer, 2), probeBackoff)
		}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return probeFailed("sts:GetCallerIdentity", "region "+cfg.Region, err)
		}
		return nil
	}}
}

// probeBackoff bounds the pause between the credentials probe's attempts.
const probeBackoff = 250 * time.Millisecond

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
		res, err := api.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
		if err != nil {
			return probeFailed("autoscaling:DescribeAutoScalingGroups", fmt.Sprintf("group %q in region %s", name, region()), err)
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
		n := 0
		if rule != "" {
			res, err := api.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{rule}})
			if err != nil {
				return probeFailed("elasticloadbalancing:DescribeRules", what+" "+arn+" in region "+region(), err)
			}
			n = len(res.Rules)
		} else {
			res, err := api.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{listener}})
			if err != nil {
				return probeFailed("elasticloadbalancing:DescribeListeners", what+" "+arn+" in region "+region(), err)
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
		_, err = api.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: awssdk.String(arn)})
		if err != nil {
			return probeFailed("elasticloadbalancing:DescribeTargetHealth", "target group "+arn+" in region "+region(), err)
		}
		return nil
	}})
}

// awsPreview checks both the listener and the target group a preview
// rule joins.
func awsPreview(p steps.Params, known func(string) bool) []steps.Probe {
	return append(awsForward(p, known), awsTargetGroup(p, known)[1:]...)
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
		_, err = api.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: awssdk.String(zone), MaxItems: awssdk.Int32(1)})
		if err != nil {
			return probeFailed("route53:ListResourceRecordSets", "zone "+zone, err)
		}
		return nil
	}})
}

func region() string {
	cfg, _ := shared.config()
	return cfg.Region
}

// probeFailed is failed for probes: throttling and 5xx answers are
// transient.
func probeFailed(call, resource string, err error) error {
	e := failed(call, resource, err)
	// What the SDK would retry (a reset connection, a timeout, throttling)
	// is transient; a refused connection is an endpoint that is not there.
	if !strings.Contains(err.Error(), "connection refused") {
		for _, r := range retry.DefaultRetryables {
			if r.IsErrorRetryable(err) == awssdk.TrueTernary {
				return steps.Transient(e)
			}
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return steps.Transient(e)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch c := ae.ErrorCode(); {
		case strings.Contains(c, "Throttl"), c == "RequestLimitExceeded", c == "TooManyRequestsException", c == "SlowDown":
			return steps.Transient(e)
		}
	}
	return e
}
