package aws

import (
	"context"
	"fmt"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/rs/zerolog"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// scaleUndo is the undo of a scale from prevD to desired. An undo that
// raises the capacity again (the rollback of a scale-in, typically of the
// old colour after a finished release) waits for the restored instances,
// with the bound and pace of the forward step, and tells the engine that
// capacity was restored so that the traffic undos after it go back
// gradually.
func scaleUndo(p steps.Params, name string, desired, prevD, prevMin, prevMax int) steps.Undo {
	u := steps.Undo{
		Kind:   "aws.asg.scale",
		Params: map[string]any{"group": name, "desired": prevD, "min": prevMin, "max": prevMax},
		Note:   fmt.Sprintf("restore group %s to desired %d (min %d, max %d)", name, prevD, prevMin, prevMax),
	}
	if prevD > desired {
		u.Params["wait"] = true
		u.Params["wait_timeout"] = p.Duration("wait_timeout")
		u.Params["poll"] = p.Duration("poll")
		u.RestoresCapacity = true
		u.Note += " and wait until its instances are in service and healthy in its target groups"
	}
	return u
}

// restoring marks err as halting the rollback when the call is an undo
// that restores capacity: the traffic undos after it must not run.
func restoring(call *steps.Call, raises bool, err error) error {
	if err == nil || !call.Undoing || !raises {
		return err
	}
	return steps.Halt(fmt.Errorf("capacity not restored: %w", err))
}

// targetHealth returns the client that reads the group's target groups,
// or nil when the group serves none.
func (s *asgScale) targetHealth(g *asgtypes.AutoScalingGroup) (elbv2API, error) {
	if len(g.TargetGroupARNs) == 0 {
		return nil, nil
	}
	return elbv2Client(s.elb)
}

// capacity is what one poll of a group found.
type capacity struct {
	groupCounts
	// inTargets is how many of the group's InService instances are healthy
	// in every one of its target groups; -1 when it has none.
	inTargets   int
	targetGroup string
}

func (c capacity) ready(desired int) bool {
	return c.total == desired && c.healthy == desired && (c.inTargets < 0 || c.inTargets >= desired)
}

// waitForCapacity polls the group until it has exactly desired instances,
// all InService and Healthy and, when elb is not nil, healthy in every
// target group of the group. Each poll is logged, so a long wait shows
// its progress. It returns the last healthy count.
func waitForCapacity(ctx context.Context, log zerolog.Logger, api asgAPI, elb elbv2API, name string, desired int, timeout, poll time.Duration) (int, error) {
	if poll <= 0 {
		poll = 10 * time.Second
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	var last capacity
	for {
		c, err := readCapacity(ctx, api, elb, name)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return last.healthy, err
		}
		last = c
		ev := log.Info().Str("group", name).Int("desired", desired).Int("instances", c.total).Int("healthy", c.healthy).Dur("elapsed", time.Since(start))
		if c.inTargets >= 0 {
			ev = ev.Int("healthy_in_target_groups", c.inTargets)
		}
		if c.ready(desired) {
			ev.Msg("capacity ready")
			return c.healthy, nil
		}
		ev.Msg("waiting for capacity")
		if sleep(ctx, poll) != nil {
			break
		}
	}
	if parent.Err() != nil {
		return last.healthy, parent.Err()
	}
	msg := fmt.Sprintf("group %q: %d of %d instances InService and Healthy (%d in the group)", name, last.healthy, desired, last.total)
	if last.inTargets >= 0 && last.healthy == desired {
		msg += fmt.Sprintf(", %d healthy in target group %s", last.inTargets, last.targetGroup)
	}
	return last.healthy, fmt.Errorf("%s after waiting %s", msg, timeout)
}

// readCapacity reads the group and, for its InService instances, their
// health in each of its target groups. Only the group's own instances
// count: a target group may still list old, terminated or foreign targets.
func readCapacity(ctx context.Context, api asgAPI, elb elbv2API, name string) (capacity, error) {
	g, err := describeGroup(ctx, api, name)
	if err != nil {
		return capacity{}, err
	}
	c := capacity{groupCounts: countInstances(g), inTargets: -1}
	if elb == nil || len(g.TargetGroupARNs) == 0 {
		return c, nil
	}
	var ids []elbtypes.TargetDescription
	mine := map[string]bool{}
	for _, in := range g.Instances {
		if in.LifecycleState == asgtypes.LifecycleStateInService {
			ids = append(ids, elbtypes.TargetDescription{Id: in.InstanceId})
			mine[awssdk.ToString(in.InstanceId)] = true
		}
	}
	c.inTargets = len(ids)
	for _, tg := range g.TargetGroupARNs {
		n := 0
		if len(ids) > 0 {
			out, err := elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: awssdk.String(tg), Targets: ids})
			if err != nil {
				return c, failed("elasticloadbalancing:DescribeTargetHealth", fmt.Sprintf("target group %q", tg), err)
			}
			for _, d := range out.TargetHealthDescriptions {
				if d.Target != nil && mine[awssdk.ToString(d.Target.Id)] && d.TargetHealth != nil && d.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
					n++
				}
			}
		}
		if n < c.inTargets || c.targetGroup == "" {
			c.inTargets, c.targetGroup = n, tg
		}
	}
	return c, nil
}
