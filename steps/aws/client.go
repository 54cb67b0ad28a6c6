// Package aws holds the bluegreen steps that talk to Amazon Web Services:
// Auto Scaling groups, launch templates, load balancer target groups and
// listeners, Route53 records and health checks, and CloudWatch metrics and
// alarms. Each step kind lives in its own file and registers itself from
// init; the engine reaches them only through the step registry.
//
// Every step gets its clients from one per-process configuration loaded
// through the SDK's default chain, so AWS_REGION, AWS_PROFILE, the
// credential sources Octopus injects and AWS_ENDPOINT_URL (which points the
// steps at moto in tests and in the demo) all work as they do for the AWS
// CLI. Steps see the services through the small interfaces below, so their
// unit tests run against in-memory fakes without a network.
package aws

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/smithy-go"
)

// asgAPI is the part of the Auto Scaling API the steps use.
type asgAPI interface {
	DescribeAutoScalingGroups(context.Context, *autoscaling.DescribeAutoScalingGroupsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
	UpdateAutoScalingGroup(context.Context, *autoscaling.UpdateAutoScalingGroupInput, ...func(*autoscaling.Options)) (*autoscaling.UpdateAutoScalingGroupOutput, error)
}

// ec2API is the part of the EC2 API the steps use (launch templates).
type ec2API interface {
	DescribeLaunchTemplateVersions(context.Context, *ec2.DescribeLaunchTemplateVersionsInput, ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error)
	CreateLaunchTemplateVersion(context.Context, *ec2.CreateLaunchTemplateVersionInput, ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error)
}

// elbv2API is the part of the Elastic Load Balancing v2 API the steps use.
type elbv2API interface {
	DescribeTargetHealth(context.Context, *elbv2.DescribeTargetHealthInput, ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error)
	DescribeListeners(context.Context, *elbv2.DescribeListenersInput, ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error)
	ModifyListener(context.Context, *elbv2.ModifyListenerInput, ...func(*elbv2.Options)) (*elbv2.ModifyListenerOutput, error)
	DescribeRules(context.Context, *elbv2.DescribeRulesInput, ...func(*elbv2.Options)) (*elbv2.DescribeRulesOutput, error)
	ModifyRule(context.Context, *elbv2.ModifyRuleInput, ...func(*elbv2.Options)) (*elbv2.ModifyRuleOutput, error)
}

// route53API is the part of the Route53 API the steps use.
type route53API interface {
	ListResourceRecordSets(context.Context, *route53.ListResourceRecordSetsInput, ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error)
	ChangeResourceRecordSets(context.Context, *route53.ChangeResourceRecordSetsInput, ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error)
	GetChange(context.Context, *route53.GetChangeInput, ...func(*route53.Options)) (*route53.GetChangeOutput, error)
	GetHealthCheckStatus(context.Context, *route53.GetHealthCheckStatusInput, ...func(*route53.Options)) (*route53.GetHealthCheckStatusOutput, error)
}

// cloudwatchAPI is the part of the CloudWatch API the steps use.
type cloudwatchAPI interface {
	GetMetricData(context.Context, *cloudwatch.GetMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
	DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
}

// maxAttempts bounds the SDK's retries of throttling errors, 5xx answers
// and connection failures. The adaptive retryer backs off exponentially
// with jitter between attempts, up to maxBackoff (deadline.go).
const (
	maxAttempts = 8
	maxBackoff  = 20 * time.Second
)

// clients holds the process's AWS configuration and one client per
// service, all created on first use: constructing a step must not touch
// the network or the environment, and a run that never uses CloudWatch
// never builds a CloudWatch client.
type clients struct {
	once sync.Once
	cfg  awssdk.Config
	err  error

	mu  sync.Mutex
	asg *autoscaling.Client
	ec  *ec2.Client
	elb *elbv2.Client
	r53 *route53.Client
	cw  *adaptiveCloudWatch
}

var shared clients

// config loads the SDK configuration once per process.
func (c *clients) config() (awssdk.Config, error) {
	c.once.Do(func() {
		// The configuration outlives the step that happens to load it
		// first, so it is not bound to that step's context.
		// Retries and deadlines: deadline.go.
		opts, err := loadOptions()
		if err != nil {
			c.err = err
			return
		}
		c.cfg, c.err = config.LoadDefaultConfig(context.Background(), opts...)
		if c.err != nil {
			c.err = fmt.Errorf("load AWS configuration from the default chain: %w", c.err)
			return
		}
		c.cfg.Credentials = registerCredentials(c.cfg.Credentials) // credentials.go
		if c.cfg.Region == "" {
			c.err = errors.New("no AWS region configured: set AWS_REGION (or a region in the AWS profile)")
		}
	})
	return c.cfg, c.err
}

func (c *clients) autoscaling() (asgAPI, error) {
	cfg, err := c.config()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.asg == nil {
		c.asg = autoscaling.NewFromConfig(cfg)
	}
	return c.asg, nil
}

func (c *clients) ec2() (ec2API, error) {
	cfg, err := c.config()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ec == nil {
		c.ec = ec2.NewFromConfig(cfg)
	}
	return c.ec, nil
}

func (c *clients) elbv2() (elbv2API, error) {
	cfg, err := c.config()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.elb == nil {
		c.elb = elbv2.NewFromConfig(cfg)
	}
	return c.elb, nil
}

func (c *clients) route53() (route53API, error) {
	cfg, err := c.config()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.r53 == nil {
		c.r53 = route53.NewFromConfig(cfg)
	}
	return c.r53, nil
}

func (c *clients) cloudwatch() (cloudwatchAPI, error) {
	cfg, err := c.config()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cw == nil {
		// The endpoint's protocol is found on first use (see
		// adaptiveCloudWatch): AWS speaks the SDK's default, emulators may
		// speak only awsQuery.
		c.cw = newAdaptiveCloudWatch(cloudwatch.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg, queryProtocol))
	}
	return c.cw, nil
}

// APIError is a failed AWS call: which call, on which resource, and what
// AWS answered. The SDK's own message is long (operation, HTTP status,
// request id); this keeps what a person needs to act on and the request
// id for a support case.
type APIError struct {
	// Call is the IAM-style action, e.g. "autoscaling:UpdateAutoScalingGroup",
	// which is also what a missing permission must grant.
	Call string
	// Resource names what the call was about, e.g. `group "web-green"`.
	Resource string
	// Code and Message are AWS's error code and message, when it sent one.
	Code    string
	Message string
	Err     error
}

func (e *APIError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%s on %s failed: %s: %s", e.Call, e.Resource, e.Code, e.Message)
	}
	return fmt.Sprintf("%s on %s failed: %v", e.Call, e.Resource, e.Err)
}

func (e *APIError) Unwrap() error { return e.Err }

// failed wraps an SDK error with the call and the resource.
func failed(call, resource string, err error) error {
	e := &APIError{Call: call, Resource: resource, Err: err}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		e.Code, e.Message = ae.ErrorCode(), ae.ErrorMessage()
	}
	return e
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// The helpers below return the fake a unit test put into a step, or the
// process's shared client.

func asgClient(fake asgAPI) (asgAPI, error) {
	if fake != nil {
		return fake, nil
	}
	return shared.autoscaling()
}

func ec2Client(fake ec2API) (ec2API, error) {
	if fake != nil {
		return fake, nil
	}
	return shared.ec2()
}

func elbv2Client(fake elbv2API) (elbv2API, error) {
	if fake != nil {
		return fake, nil
	}
	return shared.elbv2()
}

func route53Client(fake route53API) (route53API, error) {
	if fake != nil {
		return fake, nil
	}
	return shared.route53()
}

func cloudwatchClient(fake cloudwatchAPI) (cloudwatchAPI, error) {
	if fake != nil {
		return fake, nil
	}
	return shared.cloudwatch()
}
