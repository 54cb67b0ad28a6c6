package awstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
)

// What moto 5.2.1 does and does not do, found by trying it (the tests in
// this package pin the parts the fixtures rely on):
//
//   - An Auto Scaling group with target groups registers every instance it
//     launches in them, and they report "healthy" at once; a stopped
//     instance reports "unused" with reason Target.InvalidState. There is
//     no "initial" phase and no real health check.
//   - Gap: scaling in terminates instances but leaves them registered and
//     "healthy" in the target group (AWS deregisters them). DeregisterGone
//     does what AWS would, so a later run sees the group as AWS shows it.
//   - Gap: scaling a group that holds a stopped instance fails
//     (UpdateAutoScalingGroup re-registers all its instances and rejects
//     the stopped one), so an unhealthy idle stack is built by registering
//     a separate, stopped instance in its target group (AddStoppedTarget).
//   - Gap: CreateLaunchTemplateVersion ignores SourceVersion (the new
//     version holds only the data sent) and group instances keep reporting
//     the version the group was created with; the instances themselves do
//     run the new version's AMI, which is what the tests check.
//   - Route53 changes are INSYNC at once; GetHealthCheckStatus always
//     reports success.
//   - Gap: CloudWatch answers the awsQuery protocol only; the SDK's default
//     RPCv2 CBOR requests get a 404 (and awsJson1_0 a 500). The steps find
//     that out by themselves (steps/aws adaptiveCloudWatch); the fixtures'
//     own client speaks awsQuery from the start.
//   - CloudWatch stores PutMetricData points and answers GetMetricData for
//     a metric, but returns no data for metric math expressions.
//   - DynamoDB conditional writes behave as on AWS.

// Colours are the two stacks' names; they are also the Route53
// SetIdentifiers of the weighted records.
var Colours = []string{"blue", "green"}

// Options shape a topology.
type Options struct {
	// Name prefixes every resource; empty means a random one, so that
	// several topologies can share one server.
	Name string
	// Capacity is the live (blue) group's size; 2 when zero.
	Capacity int
	// SharedALB builds one load balancer whose listener forwards to both
	// target groups (the alb-weighted strategy) instead of one load
	// balancer per colour (weighted-dns). AWS lets a target group serve
	// only one load balancer, so a topology is one or the other.
	SharedALB bool
	// Alias makes the weighted records alias A records instead of CNAMEs.
	Alias bool
}

// Stack is one colour's resources.
type Stack struct {
	Colour         string
	ASG            string
	LaunchTemplate string // id
	TargetGroup    string // ARN
	LoadBalancer   string // ARN
	Listener       string // ARN
	DNS            string // the load balancer's DNS name
	LBZone         string // the load balancer's canonical hosted zone id
}

// Topology is a blue/green deployment on moto: a VPC with two subnets,
// a launch template and an Auto Scaling group per colour (blue live with
// Capacity instances, green at 0), target groups, load balancers and
// listeners, and a hosted zone with weighted records blue=100, green=0.
type Topology struct {
	Name     string
	VPC      string
	Subnets  []string
	AMI      string
	ZoneID   string
	ZoneName string
	// Record is the weighted name, e.g. app.<name>.example.com.
	Record string
	// Listener is the shared listener (SharedALB only).
	Listener     string
	LoadBalancer string // the shared load balancer's ARN (SharedALB only)
	Stacks       map[string]*Stack
	Capacity     int

	ec2 *ec2.Client
	elb *elbv2.Client
	asg *autoscaling.Client
	r53 *route53.Client
	cw  *cloudwatch.Client
}

// BaseAMI is the image both launch templates start with; moto ships it.
const BaseAMI = "ami-12c6146b"

// New builds a topology for a test on the server at endpoint and fails the
// test when that does not work.
func New(tb testing.TB, endpoint string, o Options) *Topology {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t, err := Build(ctx, Config(endpoint), o)
	if err != nil {
		tb.Fatalf("build topology: %v", err)
	}
	return t
}

// Build creates the topology with the given SDK configuration.
func Build(ctx context.Context, cfg awssdk.Config, o Options) (*Topology, error) {
	if o.Name == "" {
		var b [3]byte
		_, _ = rand.Read(b[:])
		o.Name = "bg" + hex.EncodeToString(b[:])
	}
	if o.Capacity == 0 {
		o.Capacity = 2
	}
	t := &Topology{
		Name: o.Name, AMI: BaseAMI, Capacity: o.Capacity, Stacks: map[string]*Stack{},
		ZoneName: o.Name + ".example.com", Record: "app." + o.Name + ".example.com",
		ec2: ec2.NewFromConfig(cfg), elb: elbv2.NewFromConfig(cfg), asg: autoscaling.NewFromConfig(cfg),
		r53: route53.NewFromConfig(cfg), // moto answers CloudWatch's awsQuery protocol, not the SDK's default CBOR.
		cw:  cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801) }),
	}
	steps := []func(context.Context, Options) error{t.network, t.loadBalancers, t.groups, t.zone}
	for _, s := range steps {
		if err := s(ctx, o); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *Topology) network(ctx context.Context, _ Options) error {
	vpc, err := t.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: awssdk.String("10.0.0.0/16")})
	if err != nil {
		return fmt.Errorf("create vpc: %w", err)
	}
	t.VPC = awssdk.ToString(vpc.Vpc.VpcId)
	for i, az := range []string{"us-east-1a", "us-east-1b"} {
		sn, err := t.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{
			VpcId: vpc.Vpc.VpcId, CidrBlock: awssdk.String(fmt.Sprintf("10.0.%d.0/24", i+1)), AvailabilityZone: awssdk.String(az),
		})
		if err != nil {
			return fmt.Errorf("create subnet: %w", err)
		}
		t.Subnets = append(t.Subnets, awssdk.ToString(sn.Subnet.SubnetId))
	}
	return nil
}

func (t *Topology) createLB(ctx context.Context, name string) (*elbtypes.LoadBalancer, error) {
	lb, err := t.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: awssdk.String(name), Subnets: t.Subnets, Type: elbtypes.LoadBalancerTypeEnumApplication,
	})
	if err != nil {
		return nil, fmt.Errorf("create load balancer %s: %w", name, err)
	}
	return &lb.LoadBalancers[0], nil
}

func (t *Topology) loadBalancers(ctx context.Context, o Options) error {
	for _, c := range Colours {
		s := &Stack{Colour: c, ASG: t.Name + "-" + c}
		tg, err := t.elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
			Name: awssdk.String(t.Name + "-" + c), Protocol: elbtypes.ProtocolEnumHttp, Port: awssdk.Int32(80),
			VpcId: awssdk.String(t.VPC), HealthCheckPath: awssdk.String("/healthz"), TargetType: elbtypes.TargetTypeEnumInstance,
		})
		if err != nil {
			return fmt.Errorf("create target group: %w", err)
		}
		s.TargetGroup = awssdk.ToString(tg.TargetGroups[0].TargetGroupArn)
		t.Stacks[c] = s
	}
	forward := func(weights map[string]int32) []elbtypes.Action {
		fc := &elbtypes.ForwardActionConfig{}
		for _, c := range Colours {
			if w, ok := weights[c]; ok {
				fc.TargetGroups = append(fc.TargetGroups, elbtypes.TargetGroupTuple{TargetGroupArn: awssdk.String(t.Stacks[c].TargetGroup), Weight: awssdk.Int32(w)})
			}
		}
		return []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: fc}}
	}
	listen := func(lb string, actions []elbtypes.Action) (string, error) {
		l, err := t.elb.CreateListener(ctx, &elbv2.CreateListenerInput{
			LoadBalancerArn: awssdk.String(lb), Protocol: elbtypes.ProtocolEnumHttp, Port: awssdk.Int32(80), DefaultActions: actions,
		})
		if err != nil {
			return "", fmt.Errorf("create listener: %w", err)
		}
		return awssdk.ToString(l.Listeners[0].ListenerArn), nil
	}
	if o.SharedALB {
		lb, err := t.createLB(ctx, t.Name+"-shared")
		if err != nil {
			return err
		}
		t.LoadBalancer = awssdk.ToString(lb.LoadBalancerArn)
		if t.Listener, err = listen(t.LoadBalancer, forward(map[string]int32{"blue": 100, "green": 0})); err != nil {
			return err
		}
		for _, s := range t.Stacks {
			s.LoadBalancer, s.Listener, s.DNS, s.LBZone = t.LoadBalancer, t.Listener, awssdk.ToString(lb.DNSName), awssdk.ToString(lb.CanonicalHostedZoneId)
		}
		return nil
	}
	for _, c := range Colours {
		s := t.Stacks[c]
		lb, err := t.createLB(ctx, t.Name+"-"+c)
		if err != nil {
			return err
		}
		s.LoadBalancer, s.DNS, s.LBZone = awssdk.ToString(lb.LoadBalancerArn), awssdk.ToString(lb.DNSName), awssdk.ToString(lb.CanonicalHostedZoneId)
		if s.Listener, err = listen(s.LoadBalancer, forward(map[string]int32{c: 1})); err != nil {
			return err
		}
	}
	return nil
}

func (t *Topology) groups(ctx context.Context, _ Options) error {
	for _, c := range Colours {
		s := t.Stacks[c]
		lt, err := t.ec2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
			LaunchTemplateName: awssdk.String(t.Name + "-" + c),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: awssdk.String(t.AMI), InstanceType: ec2types.InstanceTypeT3Micro},
		})
		if err != nil {
			return fmt.Errorf("create launch template: %w", err)
		}
		s.LaunchTemplate = awssdk.ToString(lt.LaunchTemplate.LaunchTemplateId)
		desired := int32(0)
		if c == "blue" {
			desired = int32(t.Capacity)
		}
		_, err = t.asg.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
			AutoScalingGroupName: awssdk.String(s.ASG),
			LaunchTemplate:       &asgtypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplate.LaunchTemplateId, Version: awssdk.String("$Latest")},
			MinSize:              awssdk.Int32(0), MaxSize: awssdk.Int32(int32(2 * t.Capacity)), DesiredCapacity: awssdk.Int32(desired),
			VPCZoneIdentifier: awssdk.String(strings.Join(t.Subnets, ",")),
			TargetGroupARNs:   []string{s.TargetGroup},
			HealthCheckType:   awssdk.String("ELB"), HealthCheckGracePeriod: awssdk.Int32(60),
		})
		if err != nil {
			return fmt.Errorf("create auto scaling group %s: %w", s.ASG, err)
		}
	}
	return nil
}

func (t *Topology) zone(ctx context.Context, o Options) error {
	z, err := t.r53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: awssdk.String(t.ZoneName), CallerReference: awssdk.String(t.Name)})
	if err != nil {
		return fmt.Errorf("create hosted zone: %w", err)
	}
	t.ZoneID = strings.TrimPrefix(awssdk.ToString(z.HostedZone.Id), "/hostedzone/")
	var changes []r53types.Change
	for _, c := range Colours {
		s := t.Stacks[c]
		w := int64(0)
		if c == "blue" {
			w = 100
		}
		rs := &r53types.ResourceRecordSet{Name: awssdk.String(t.Record), SetIdentifier: awssdk.String(c), Weight: awssdk.Int64(w)}
		if o.Alias {
			rs.Type = r53types.RRTypeA
			rs.AliasTarget = &r53types.AliasTarget{DNSName: awssdk.String(s.DNS), HostedZoneId: awssdk.String(s.LBZone), EvaluateTargetHealth: true}
		} else {
			rs.Type, rs.TTL = r53types.RRTypeCname, awssdk.Int64(60)
			rs.ResourceRecords = []r53types.ResourceRecord{{Value: awssdk.String(s.DNS)}}
		}
		changes = append(changes, r53types.Change{Action: r53types.ChangeActionCreate, ResourceRecordSet: rs})
	}
	_, err = t.r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: awssdk.String(t.ZoneID), ChangeBatch: &r53types.ChangeBatch{Changes: changes},
	})
	if err != nil {
		return fmt.Errorf("create weighted records: %w", err)
	}
	return nil
}
