package aws

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"

	"github.com/bluegreen-deploy/bluegreen/steps"
	"github.com/bluegreen-deploy/bluegreen/steps/steptest"
)

// runStep binds raw params through the kind's spec, as the engine does,
// runs step (a fresh one from the spec when nil) and returns its outputs
// and the undos it journaled. Params that break the spec's rules come back
// as the step's error, and the run is held to the spec's promises.
func runStep(t *testing.T, kind string, step steps.Step, raw map[string]any) (steps.Outputs, []steps.Undo, error) {
	t.Helper()
	r := steptest.Run(context.Background(), t, kind, raw, steptest.Options{Step: step, BindErrors: true, CheckSpec: true})
	return r.Out, r.Undos, r.Err
}

// apiErr is what the SDK returns for an error answer.
func apiErr(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }

// fakeASG holds groups in memory.
type fakeASG struct {
	groups  map[string]*asgtypes.AutoScalingGroup
	updates []autoscaling.UpdateAutoScalingGroupInput
	err     error
	// onDescribe runs before each describe, to let instances come up.
	onDescribe func(g *asgtypes.AutoScalingGroup)
}

func newGroup(name string, desired, lo, hi int, healthy int) *asgtypes.AutoScalingGroup {
	g := &asgtypes.AutoScalingGroup{
		AutoScalingGroupName: awssdk.String(name),
		DesiredCapacity:      awssdk.Int32(int32(desired)), MinSize: awssdk.Int32(int32(lo)), MaxSize: awssdk.Int32(int32(hi)),
		LaunchTemplate: &asgtypes.LaunchTemplateSpecification{LaunchTemplateId: awssdk.String("lt-1"), Version: awssdk.String("$Latest")},
	}
	for i := 0; i < healthy; i++ {
		g.Instances = append(g.Instances, asgtypes.Instance{InstanceId: awssdk.String(fmt.Sprintf("i-%s-%d", name, i)), LifecycleState: asgtypes.LifecycleStateInService, HealthStatus: awssdk.String("Healthy")})
	}
	return g
}

func (f *fakeASG) DescribeAutoScalingGroups(_ context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	out := &autoscaling.DescribeAutoScalingGroupsOutput{}
	for _, n := range in.AutoScalingGroupNames {
		if g, ok := f.groups[n]; ok {
			if f.onDescribe != nil {
				f.onDescribe(g)
			}
			out.AutoScalingGroups = append(out.AutoScalingGroups, *g)
		}
	}
	return out, nil
}

func (f *fakeASG) UpdateAutoScalingGroup(_ context.Context, in *autoscaling.UpdateAutoScalingGroupInput, _ ...func(*autoscaling.Options)) (*autoscaling.UpdateAutoScalingGroupOutput, error) {
	f.updates = append(f.updates, *in)
	g, ok := f.groups[awssdk.ToString(in.AutoScalingGroupName)]
	if !ok {
		return nil, apiErr("ValidationError", "AutoScalingGroup name not found")
	}
	if in.DesiredCapacity != nil {
		g.DesiredCapacity = in.DesiredCapacity
	}
	if in.MinSize != nil {
		g.MinSize = in.MinSize
	}
	if in.MaxSize != nil {
		g.MaxSize = in.MaxSize
	}
	if in.LaunchTemplate != nil {
		g.LaunchTemplate = in.LaunchTemplate
	}
	return &autoscaling.UpdateAutoScalingGroupOutput{}, nil
}

// fakeEC2 holds one launch template's versions.
type fakeEC2 struct {
	images  []string // images[n-1] is version n's image
	created []ec2.CreateLaunchTemplateVersionInput
}

func (f *fakeEC2) version(n int) ec2types.LaunchTemplateVersion {
	return ec2types.LaunchTemplateVersion{LaunchTemplateId: awssdk.String("lt-1"), VersionNumber: awssdk.Int64(int64(n)),
		LaunchTemplateData: &ec2types.ResponseLaunchTemplateData{ImageId: awssdk.String(f.images[n-1])}}
}

func (f *fakeEC2) DescribeLaunchTemplateVersions(_ context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, _ ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
	out := &ec2.DescribeLaunchTemplateVersionsOutput{}
	for _, v := range in.Versions {
		n := 0
		switch v {
		case "$Latest":
			n = len(f.images)
		case "$Default":
			n = 1
		default:
			fmt.Sscan(v, &n)
		}
		if n < 1 || n > len(f.images) {
			return nil, apiErr("InvalidLaunchTemplateId.VersionNotFound", "no version "+v)
		}
		out.LaunchTemplateVersions = append(out.LaunchTemplateVersions, f.version(n))
	}
	return out, nil
}

func (f *fakeEC2) CreateLaunchTemplateVersion(_ context.Context, in *ec2.CreateLaunchTemplateVersionInput, _ ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error) {
	f.created = append(f.created, *in)
	f.images = append(f.images, awssdk.ToString(in.LaunchTemplateData.ImageId))
	v := f.version(len(f.images))
	return &ec2.CreateLaunchTemplateVersionOutput{LaunchTemplateVersion: &v}, nil
}

// fakeELB holds listeners, rules and target health.
type fakeELB struct {
	listeners map[string][]elbtypes.Action
	rules     map[string][]elbtypes.Action
	health    map[string][]elbtypes.TargetHealthDescription
	// ignoreModify makes modify calls succeed without effect, as AWS
	// sometimes does.
	ignoreModify bool
	modified     int
}

func (f *fakeELB) DescribeTargetHealth(_ context.Context, in *elbv2.DescribeTargetHealthInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error) {
	h, ok := f.health[awssdk.ToString(in.TargetGroupArn)]
	if !ok {
		return nil, apiErr("TargetGroupNotFound", "One or more target groups not found")
	}
	return &elbv2.DescribeTargetHealthOutput{TargetHealthDescriptions: h}, nil
}

func (f *fakeELB) DescribeListeners(_ context.Context, in *elbv2.DescribeListenersInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error) {
	a, ok := f.listeners[in.ListenerArns[0]]
	if !ok {
		return nil, apiErr("ListenerNotFound", "One or more listeners not found")
	}
	return &elbv2.DescribeListenersOutput{Listeners: []elbtypes.Listener{{ListenerArn: awssdk.String(in.ListenerArns[0]), DefaultActions: cloneActions(a)}}}, nil
}

func (f *fakeELB) ModifyListener(_ context.Context, in *elbv2.ModifyListenerInput, _ ...func(*elbv2.Options)) (*elbv2.ModifyListenerOutput, error) {
	f.modified++
	if !f.ignoreModify {
		f.listeners[awssdk.ToString(in.ListenerArn)] = cloneActions(in.DefaultActions)
	}
	return &elbv2.ModifyListenerOutput{}, nil
}

func (f *fakeELB) DescribeRules(_ context.Context, in *elbv2.DescribeRulesInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeRulesOutput, error) {
	a, ok := f.rules[in.RuleArns[0]]
	if !ok {
		return nil, apiErr("RuleNotFound", "One or more rules not found")
	}
	return &elbv2.DescribeRulesOutput{Rules: []elbtypes.Rule{{RuleArn: awssdk.String(in.RuleArns[0]), Actions: cloneActions(a)}}}, nil
}

func (f *fakeELB) ModifyRule(_ context.Context, in *elbv2.ModifyRuleInput, _ ...func(*elbv2.Options)) (*elbv2.ModifyRuleOutput, error) {
	f.modified++
	if !f.ignoreModify {
		f.rules[awssdk.ToString(in.RuleArn)] = cloneActions(in.Actions)
	}
	return &elbv2.ModifyRuleOutput{}, nil
}

func cloneActions(in []elbtypes.Action) []elbtypes.Action {
	out := make([]elbtypes.Action, len(in))
	for i, a := range in {
		if a.ForwardConfig != nil {
			fc := *a.ForwardConfig
			fc.TargetGroups = append([]elbtypes.TargetGroupTuple(nil), fc.TargetGroups...)
			a.ForwardConfig = &fc
		}
		out[i] = a
	}
	return out
}

func forward(weights ...any) elbtypes.Action {
	fc := &elbtypes.ForwardActionConfig{}
	for i := 0; i < len(weights); i += 2 {
		fc.TargetGroups = append(fc.TargetGroups, elbtypes.TargetGroupTuple{TargetGroupArn: awssdk.String(weights[i].(string)), Weight: awssdk.Int32(int32(weights[i+1].(int)))})
	}
	return elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: fc}
}

// fakeR53 holds one hosted zone's records in Route53's order.
type fakeR53 struct {
	records  []r53types.ResourceRecordSet
	batches  [][]r53types.Change
	pending  int // GetChange answers PENDING this many times
	getCalls int
	pageSize int
	health   []r53types.HealthCheckObservation
}

func (f *fakeR53) sort() {
	sort.SliceStable(f.records, func(i, j int) bool {
		a, b := f.records[i], f.records[j]
		if *a.Name != *b.Name {
			return *a.Name < *b.Name
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return awssdk.ToString(a.SetIdentifier) < awssdk.ToString(b.SetIdentifier)
	})
}

func (f *fakeR53) ListResourceRecordSets(_ context.Context, in *route53.ListResourceRecordSetsInput, _ ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error) {
	f.sort()
	start := 0
	for start < len(f.records) {
		r := f.records[start]
		if *r.Name > *in.StartRecordName || *r.Name == *in.StartRecordName && (in.StartRecordType == "" || r.Type >= in.StartRecordType) &&
			(in.StartRecordIdentifier == nil || awssdk.ToString(r.SetIdentifier) >= *in.StartRecordIdentifier) {
			break
		}
		start++
	}
	n := f.pageSize
	if n == 0 {
		n = 100
	}
	out := &route53.ListResourceRecordSetsOutput{}
	end := start + n
	if end >= len(f.records) {
		end = len(f.records)
	} else {
		nx := f.records[end]
		out.IsTruncated, out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier = true, nx.Name, nx.Type, nx.SetIdentifier
	}
	out.ResourceRecordSets = append(out.ResourceRecordSets, f.records[start:end]...)
	return out, nil
}

func (f *fakeR53) ChangeResourceRecordSets(_ context.Context, in *route53.ChangeResourceRecordSetsInput, _ ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error) {
	f.batches = append(f.batches, in.ChangeBatch.Changes)
	for _, c := range in.ChangeBatch.Changes {
		rs := *c.ResourceRecordSet
		if rs.AliasTarget != nil && rs.TTL != nil {
			return nil, apiErr("InvalidChangeBatch", "alias records take no TTL")
		}
		idx := -1
		for i, r := range f.records {
			if *r.Name == *rs.Name && r.Type == rs.Type && awssdk.ToString(r.SetIdentifier) == awssdk.ToString(rs.SetIdentifier) {
				idx = i
			}
		}
		switch c.Action {
		case r53types.ChangeActionUpsert:
			if idx >= 0 {
				f.records[idx] = rs
			} else {
				f.records = append(f.records, rs)
			}
		case r53types.ChangeActionDelete:
			if idx < 0 {
				return nil, apiErr("InvalidChangeBatch", "record not found")
			}
			f.records = append(f.records[:idx], f.records[idx+1:]...)
		}
	}
	return &route53.ChangeResourceRecordSetsOutput{ChangeInfo: &r53types.ChangeInfo{Id: awssdk.String("/change/C1"), Status: r53types.ChangeStatusPending}}, nil
}

func (f *fakeR53) GetChange(_ context.Context, in *route53.GetChangeInput, _ ...func(*route53.Options)) (*route53.GetChangeOutput, error) {
	f.getCalls++
	st := r53types.ChangeStatusInsync
	if f.getCalls <= f.pending {
		st = r53types.ChangeStatusPending
	}
	return &route53.GetChangeOutput{ChangeInfo: &r53types.ChangeInfo{Id: in.Id, Status: st}}, nil
}

func (f *fakeR53) GetHealthCheckStatus(_ context.Context, in *route53.GetHealthCheckStatusInput, _ ...func(*route53.Options)) (*route53.GetHealthCheckStatusOutput, error) {
	if f.health == nil {
		return nil, apiErr("NoSuchHealthCheck", "no health check "+awssdk.ToString(in.HealthCheckId))
	}
	return &route53.GetHealthCheckStatusOutput{HealthCheckObservations: f.health}, nil
}

func weighted(name, typ, id string, w int, target string) r53types.ResourceRecordSet {
	rs := r53types.ResourceRecordSet{Name: awssdk.String(name), Type: r53types.RRType(typ), SetIdentifier: awssdk.String(id), Weight: awssdk.Int64(int64(w))}
	if typ == "CNAME" {
		rs.TTL = awssdk.Int64(60)
		rs.ResourceRecords = []r53types.ResourceRecord{{Value: awssdk.String(target)}}
	} else {
		rs.AliasTarget = &r53types.AliasTarget{DNSName: awssdk.String(target), HostedZoneId: awssdk.String("ZELB")}
	}
	return rs
}

// fakeCW answers GetMetricData with fixed results and DescribeAlarms from
// a map.
type fakeCW struct {
	results []cwtypes.MetricDataResult
	pages   int // split results into this many pages
	inputs  []cloudwatch.GetMetricDataInput
	alarms  map[string]cwtypes.StateValue
}

func (f *fakeCW) GetMetricData(_ context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	f.inputs = append(f.inputs, *in)
	if f.pages > 1 && in.NextToken == nil {
		return &cloudwatch.GetMetricDataOutput{MetricDataResults: f.results[:1], NextToken: awssdk.String("p2")}, nil
	}
	if f.pages > 1 {
		return &cloudwatch.GetMetricDataOutput{MetricDataResults: f.results[1:]}, nil
	}
	return &cloudwatch.GetMetricDataOutput{MetricDataResults: f.results}, nil
}

func (f *fakeCW) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	if f.alarms == nil {
		return nil, errors.New("connection refused")
	}
	out := &cloudwatch.DescribeAlarmsOutput{}
	for name, st := range f.alarms {
		match := in.AlarmNamePrefix != nil && strings.HasPrefix(name, *in.AlarmNamePrefix)
		for _, n := range in.AlarmNames {
			match = match || n == name
		}
		if match {
			out.MetricAlarms = append(out.MetricAlarms, cwtypes.MetricAlarm{AlarmName: awssdk.String(name), StateValue: st, StateReason: awssdk.String("threshold crossed")})
		}
	}
	return out, nil
}
