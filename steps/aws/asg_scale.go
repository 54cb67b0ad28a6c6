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
			"the group drains and terminates them as it always does.",
		Preflight: awsGroup,
		Rules: []steps.Rule{
			steps.Length("group", 1, 255),
			steps.AtLeast("desired", 0),
			steps.AtLeast("min", 0),
			steps.AtLeast("max", 0),
			steps.NotAbove("min", "max"),
			steps.NotAbove("min", "desired"),
			steps.NotAbove("desired", "max"),
			steps.PositiveDuration("wait_timeout"),
			steps.PositiveDuration("poll"),
		},
		Params: []steps.Param{
			{Name: "group", Type: steps.String, Required: true, Doc: "Name of the Auto Scaling group.", Examples: []any{"web-green"}},
			{Name: "desired", Type: steps.Int, Required: true, Doc: "New desired capacity.", Examples: []any{3, 0}},
			{Name: "min", Type: steps.Int, Doc: "New minimum size; unchanged when not given (unless desired is below it)."},
			{Name: "max", Type: steps.Int, Doc: "New maximum size; unchanged when not given (unless desired is above it)."},
			{Name: "wait", Type: steps.Bool, Default: false, Doc: "Wait until the group has exactly `desired` instances, all InService and Healthy."},
			{Name: "wait_timeout", Type: steps.Duration, Default: 10 * time.Minute, Doc: "How long `wait` waits before the step fails."},
			{Name: "poll", Type: steps.Duration, Default: 10 * time.Second, Doc: "How often `wait` reads the group."},
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

type asgScale struct{ api asgAPI }

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
		if err := call.BeforeChange(steps.Undo{
			Kind:   "aws.asg.scale",
			Params: map[string]any{"group": name, "desired": prevD, "min": prevMin, "max": prevMax},
			Note:   fmt.Sprintf("restore group %s to desired %d (min %d, max %d)", name, prevD, prevMin, prevMax),
		}); err != nil {
			return nil, err
		}
		_, err := api.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
			AutoScalingGroupName: awssdk.String(name),
			DesiredCapacity:      awssdk.Int32(int32(desired)),
			MinSize:              awssdk.Int32(int32(lo)),
			MaxSize:              awssdk.Int32(int32(hi)),
		})
		if err != nil {
			return nil, failed("autoscaling:UpdateAutoScalingGroup", fmt.Sprintf("group %q", name), err)
		}
		out["changed"] = true
		call.Log.Info().Str("group", name).Int("desired", desired).Int("previous_desired", prevD).Msg("scaled auto scaling group")
	}
	out["healthy"] = countInstances(g).healthy
	if !p.Bool("wait") {
		return out, nil
	}
	healthy, err := waitForCapacity(ctx, api, name, desired, p.Duration("wait_timeout"), p.Duration("poll"))
	out["healthy"] = healthy
	return out, err
}

// waitForCapacity polls the group until it has exactly desired instances,
// all InService and Healthy. It returns the last healthy count.
func waitForCapacity(ctx context.Context, api asgAPI, name string, desired int, timeout, poll time.Duration) (int, error) {
	if poll <= 0 {
		poll = 10 * time.Second
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := groupCounts{}
	for {
		g, err := describeGroup(ctx, api, name)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return last.healthy, err
		}
		last = countInstances(g)
		if last.total == desired && last.healthy == desired {
			return last.healthy, nil
		}
		if sleep(ctx, poll) != nil {
			break
		}
	}
	if parent.Err() != nil {
		return last.healthy, parent.Err()
	}
	return last.healthy, fmt.Errorf("group %q: %d of %d instances InService and Healthy (%d in the group) after waiting %s",
		name, last.healthy, desired, last.total, timeout)
}
