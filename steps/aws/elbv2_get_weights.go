package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "aws.elbv2.get-weights",
		Title:   "Get load balancer weights",
		Summary: "Reads the target group weights of a listener's default forward action or of a listener rule.",
		Doc: "Give `listener` for the default action or `rule` for a rule. `weights` is keyed by target " +
			"group ARN, `by_name` by target group name, so a runbook can compare the two colours with " +
			"`weights[inputs.blue_target_group] >= weights[inputs.green_target_group]`.",
		Params: []steps.Param{
			{Name: "listener", Type: steps.String, Doc: "ARN of the listener whose default action is read. One of `listener` and `rule` is required."},
			{Name: "rule", Type: steps.String, Doc: "ARN of a listener rule to read instead of the default action."},
		},
		Outputs: []steps.Output{
			{Name: "weights", Type: steps.Map, Doc: "Weight of each target group, keyed by target group ARN."},
			{Name: "by_name", Type: steps.Map, Doc: "The same weights keyed by target group name."},
			{Name: "total", Type: steps.Int, Doc: "Sum of the weights."},
		},
		Credentials: steps.AWSCredentials,
		Traffic:     "weights",
		New:         func() steps.Step { return &elbGetWeights{} },
	})
}

type elbGetWeights struct{ api elbv2API }

func (s *elbGetWeights) Run(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	api, err := elbv2Client(s.api)
	if err != nil {
		return nil, err
	}
	fw, err := readForward(ctx, api, call.Params.String("listener"), call.Params.String("rule"))
	if err != nil {
		return nil, err
	}
	return weightOutputs(fw.weights()), nil
}

// forwardTarget is a listener's default actions or a rule's actions, with
// the index of the forward action among them.
type forwardTarget struct {
	listener, rule string
	actions        []elbtypes.Action
	idx            int
}

func (f *forwardTarget) resource() string {
	if f.rule != "" {
		return "rule " + f.rule
	}
	return "listener " + f.listener
}

func (f *forwardTarget) readCall() string {
	if f.rule != "" {
		return "elasticloadbalancing:DescribeRules"
	}
	return "elasticloadbalancing:DescribeListeners"
}

// weights returns the forward action's weights by target group ARN. A
// forward action that names a single target group without a
// ForwardConfig sends it everything, reported as weight 1.
func (f *forwardTarget) weights() map[string]int {
	a := f.actions[f.idx]
	w := map[string]int{}
	if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
		for _, t := range a.ForwardConfig.TargetGroups {
			w[awssdk.ToString(t.TargetGroupArn)] = int(awssdk.ToInt32(t.Weight))
		}
		return w
	}
	if a.TargetGroupArn != nil {
		w[awssdk.ToString(a.TargetGroupArn)] = 1
	}
	return w
}

// readForward reads the actions of a listener (default actions) or of a
// rule and finds the forward action.
func readForward(ctx context.Context, api elbv2API, listener, rule string) (*forwardTarget, error) {
	if (listener == "") == (rule == "") {
		return nil, errors.New("exactly one of the params \"listener\" and \"rule\" is required")
	}
	f := &forwardTarget{listener: listener, rule: rule}
	if rule != "" {
		out, err := api.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{rule}})
		if err != nil {
			return nil, failed(f.readCall(), f.resource(), err)
		}
		if len(out.Rules) == 0 {
			return nil, fmt.Errorf("%s on %s: no such rule", f.readCall(), f.resource())
		}
		f.actions = out.Rules[0].Actions
	} else {
		out, err := api.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{listener}})
		if err != nil {
			return nil, failed(f.readCall(), f.resource(), err)
		}
		if len(out.Listeners) == 0 {
			return nil, fmt.Errorf("%s on %s: no such listener", f.readCall(), f.resource())
		}
		f.actions = out.Listeners[0].DefaultActions
	}
	f.idx = -1
	for i, a := range f.actions {
		if a.Type == elbtypes.ActionTypeEnumForward {
			f.idx = i
			break
		}
	}
	if f.idx < 0 {
		return nil, fmt.Errorf("%s has no forward action to weigh", f.resource())
	}
	return f, nil
}

// targetGroupName extracts the name from a target group ARN
// (arn:...:targetgroup/NAME/ID).
func targetGroupName(arn string) string {
	_, rest, ok := strings.Cut(arn, ":targetgroup/")
	if !ok {
		return arn
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

func weightOutputs(w map[string]int) steps.Outputs {
	weights, byName := map[string]any{}, map[string]any{}
	total := 0
	for arn, v := range w {
		weights[arn] = v
		byName[targetGroupName(arn)] = v
		total += v
	}
	return steps.Outputs{"weights": weights, "by_name": byName, "total": total}
}
