package awstest

import (
	"context"
	"fmt"
	"sort"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// The colours' Auto Scaling groups and their instances, and the target
// group fix-ups moto leaves to the caller (see topology.go).

// Group is what a test checks about one colour's Auto Scaling group.
type Group struct {
	Desired, Min, Max int
	Instances         []string
	// Version is the launch template version the group launches.
	Version string
}

// Group reads a colour's group.
func (t *Topology) Group(ctx context.Context, colour string) (*Group, error) {
	out, err := t.asg.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{t.Stacks[colour].ASG}})
	if err != nil {
		return nil, err
	}
	if len(out.AutoScalingGroups) == 0 {
		return nil, fmt.Errorf("no group %s", t.Stacks[colour].ASG)
	}
	g := out.AutoScalingGroups[0]
	r := &Group{Desired: int(awssdk.ToInt32(g.DesiredCapacity)), Min: int(awssdk.ToInt32(g.MinSize)), Max: int(awssdk.ToInt32(g.MaxSize))}
	if g.LaunchTemplate != nil {
		r.Version = awssdk.ToString(g.LaunchTemplate.Version)
	}
	for _, in := range g.Instances {
		r.Instances = append(r.Instances, awssdk.ToString(in.InstanceId))
	}
	sort.Strings(r.Instances)
	return r, nil
}

// Images returns the AMI of each instance of a colour's group.
func (t *Topology) Images(ctx context.Context, colour string) ([]string, error) {
	g, err := t.Group(ctx, colour)
	if err != nil || len(g.Instances) == 0 {
		return nil, err
	}
	out, err := t.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: g.Instances})
	if err != nil {
		return nil, err
	}
	var images []string
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			images = append(images, awssdk.ToString(in.ImageId))
		}
	}
	sort.Strings(images)
	return images, nil
}

// AddStoppedTarget launches an instance outside the colour's group,
// registers it in the colour's target group and stops it, so the target
// group reports an unused target (see the gaps above for why the group's
// own instances cannot be used). It returns the instance id.
func (t *Topology) AddStoppedTarget(ctx context.Context, colour string) (string, error) {
	run, err := t.ec2.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: awssdk.String(t.AMI), InstanceType: ec2types.InstanceTypeT3Micro, MinCount: awssdk.Int32(1), MaxCount: awssdk.Int32(1),
		SubnetId: awssdk.String(t.Subnets[0]),
	})
	if err != nil {
		return "", fmt.Errorf("run instance: %w", err)
	}
	id := awssdk.ToString(run.Instances[0].InstanceId)
	if _, err := t.elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{
		TargetGroupArn: awssdk.String(t.Stacks[colour].TargetGroup), Targets: []elbtypes.TargetDescription{{Id: awssdk.String(id)}},
	}); err != nil {
		return "", fmt.Errorf("register %s: %w", id, err)
	}
	if _, err := t.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		return "", fmt.Errorf("stop %s: %w", id, err)
	}
	return id, nil
}

// DeregisterGone deregisters the targets whose instance is terminated,
// which AWS does by itself and moto does not (see the gaps above).
func (t *Topology) DeregisterGone(ctx context.Context) error {
	for _, s := range t.Stacks {
		th, err := t.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: awssdk.String(s.TargetGroup)})
		if err != nil {
			return err
		}
		var ids []string
		for _, d := range th.TargetHealthDescriptions {
			ids = append(ids, awssdk.ToString(d.Target.Id))
		}
		if len(ids) == 0 {
			continue
		}
		in, err := t.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
		if err != nil {
			return err
		}
		var gone []elbtypes.TargetDescription
		for _, r := range in.Reservations {
			for _, i := range r.Instances {
				if i.State != nil && i.State.Name == ec2types.InstanceStateNameTerminated {
					gone = append(gone, elbtypes.TargetDescription{Id: i.InstanceId})
				}
			}
		}
		if len(gone) > 0 {
			if _, err := t.elb.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: awssdk.String(s.TargetGroup), Targets: gone}); err != nil {
				return err
			}
		}
	}
	return nil
}
