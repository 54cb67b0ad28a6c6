package aws

import (
	"context"
	"fmt"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "aws.asg.scale",
		Title:   "Scale Auto Scaling group",
		Summary: "Sets an Auto Scaling group's desired capacity (and min/max) and optionally waits for the instances.",
		Doc: "When `desired` falls outside the group's current min/max and `min`/`max` are not given, " +
			"the bound is moved to `desired` so that scaling to 0 or above the old maximum works in one step. " +
			"Undo restores the previous desired, min and max. Scaling in never touches instances directly: " +
			"the group drains and terminates them as it always does. " +
			"An undo that raises the capacity again (rolling back a scale-in) waits, up to `wait_timeout`, until the group's instances " +
			"are InService, Healthy and healthy in every target group of the group; when they are not, the rollback stops there, " +
			"so that no later undo moves traffic onto a colour with nothing to serve it.",
		Params: []steps.Param{
			{Name: "group", Type: steps.String, Required: true, Doc: "Name of the Auto Scaling group.", Examples: []any{"web-green"}},
			{Name: "desired", Type: steps.Int, Required: true, Doc: "New desired capacity.", Examples: []any{3, 0}},
			{Name: "min", Type: steps.Int, Doc: "New minimum size; unchanged when not given (unless desired is below it)."},
			{Name: "max", Type: steps.Int, Doc: "New maximum size; unchanged when not given (unless desired is above it)."},
			{Name: "wait", Type: steps.Bool, Default: false, Doc: "Wait until the group has exactly `desired` instances, all InService and Healthy, and healthy in the group's target groups."},
			{Name: "wait_timeout", Type: steps.Duration, Default: 10 * time.Minute, Doc: "How long `wait` waits before the step fails; also how long this step's undo waits for restored capacity."},
			{Name: "poll", Type: steps.Duration, Default: 10 * time.Second, Doc: "How often `wait` (and the undo's wait for restored capacity) reads the group."},
		},
		Outputs: []steps.Output{
			{Name: "desired", Type: steps.Int, Doc: "Desired capacity after the step."},
			{Name: "min", Type: steps.Int, Doc: "Minimum size after the step."},
			{Name: "max", Type: steps.Int, Doc: "Maximum size after the step."},
			{Name: "previous_desired", Type: steps.Int, Doc: "Desired capacity before the step."},
			{Name: "previous_min", Type: steps.Int, Doc: "Minimum size before the step."},
			{Name: "previous_max", Type: steps.Int, Doc: "Maximum size before the step."},
			{Name: "healthy", Type: steps.Int, Doc: "Instances InService and Healthy: after the wait, or before the change when `wait` is false."},
			{Name: "changed", Type: steps.Bool, Doc: "Whether the group's sizes were changed (false when they already matched)."},
		},
		Mutates:     true,
		Credentials: steps.AWSCredentials,
		New:         func() steps.Step { return &asgScale{} },
	})
}

type asgScale struct {
	api asgAPI
	elb elbv2API
}

func (s *asgScale) Run(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	api, err := asgClient(s.api)
	if err != nil {
		return nil, err
	}
	p := call.Params
	name := p.String("group")
	g, err := describeGroup(ctx, api, name)
	if err != nil {
		return nil, err
	}
	prevD, prevMin, prevMax := int(awssdk.ToInt32(g.DesiredCapacity)), int(awssdk.ToInt32(g.MinSize)), int(awssdk.ToInt32(g.MaxSize))
	desired, lo, hi := p.Int("desired"), prevMin, prevMax
	if p.Has("min") {
		lo = p.Int("min")
	} else if desired < lo {
		lo = desired
	}
	if p.Has("max") {
		hi = p.Int("max")
	} else if desired > hi {
		hi = desired
	}
	if desired < 0 || lo < 0 || lo > desired || desired > hi {
		return nil, fmt.Errorf("group %q: sizes must satisfy 0 <= min <= desired <= max, got min %d, desired %d, max %d", name, lo, desired, hi)
	}
	out := steps.Outputs{
		"desired": desired, "min": lo, "max": hi,
		"previous_desired": prevD, "previous_min": prevMin, "previous_max": prevMax,
		"changed": false,
	}
	if desired != prevD || lo != prevMin || hi != prevMax {
		if err := call.BeforeChange(scaleUndo(p, name, desired, prevD, prevMin, prevMax)); err != nil {
			return nil, err
		}
		_, err := api.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
			AutoScalingGroupName: awssdk.String(name),
			DesiredCapacity:      awssdk.Int32(int32(desired)),
			MinSize:              awssdk.Int32(int32(lo)),
			MaxSize:              awssdk.Int32(int32(hi)),
		})
		if err != nil {
			return nil, restoring(call, desired > prevD, failed("autoscaling:UpdateAutoScalingGroup", fmt.Sprintf("group %q", name), err))
		}
		out["changed"] = true
		call.Log.Info().Str("group", name).Int("desired", desired).Int("previous_desired", prevD).Msg("scaled auto scaling group")
	}
	out["healthy"] = countInstances(g).healthy
	if !p.Bool("wait") {
		return out, nil
	}
	elb, err := s.targetHealth(g)
	if err != nil {
		return out, err
	}
	healthy, err := waitForCapacity(ctx, call.Log, api, elb, name, desired, p.Duration("wait_timeout"), p.Duration("poll"))
	out["healthy"] = healthy
	return out, restoring(call, desired > 0, err)
}
