package aws

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "aws.elbv2.set-weights",
		Title:   "Set load balancer weights",
		Summary: "Sets the target group weights of a listener's default forward action or of a listener rule.",
		Doc: "Target groups are named by ARN, or by name when they are already in the action. Target " +
			"groups not named keep their weight; named ones missing from the action are added. Every " +
			"other part of the actions (stickiness, authentication actions, order) is kept. After the " +
			"change the step reads the action back and fails unless AWS holds exactly the requested " +
			"weights, because a modify call can succeed without the weights taking effect. Undo " +
			"restores the previous weights (added target groups go back to 0); it first checks that every " +
			"target group whose weight it raises has a healthy target, and otherwise stops the rollback with the weights unchanged.",
		Params: []steps.Param{
			{Name: "listener", Type: steps.String, Doc: "ARN of the listener whose default action is changed. One of `listener` and `rule` is required."},
			{Name: "rule", Type: steps.String, Doc: "ARN of a listener rule to change instead of the default action."},
			{Name: "weights", Type: steps.Map, Items: steps.Int, Required: true,
				Doc:      "New weight (0-999) for each target group, keyed by target group ARN or name.",
				Examples: []any{map[string]any{"web-blue": 90, "web-green": 10}}},
			{Name: "verify", Type: steps.Bool, Default: true, Doc: "Read the weights back and fail when AWS does not hold them."},
			{Name: "rollback_settle", Type: steps.Duration, Default: 30 * time.Second,
				Doc: "In a rollback that first restored capacity (a finished release whose old group had been scaled in), how long the weights this step's undo restores are held before the next undo of this kind moves more traffic back; 0 goes back without pausing. A rollback that did not restore capacity never pauses."},
		},
		Outputs: []steps.Output{
			{Name: "weights", Type: steps.Map, Doc: "Weights AWS holds after the step, keyed by target group ARN."},
			{Name: "by_name", Type: steps.Map, Doc: "The same weights keyed by target group name."},
			{Name: "previous", Type: steps.Map, Doc: "Weights before the step, keyed by target group ARN."},
			{Name: "total", Type: steps.Int, Doc: "Sum of the weights after the step."},
			{Name: "changed", Type: steps.Bool, Doc: "Whether the action was modified."},
		},
		Mutates:     true,
		Credentials: steps.AWSCredentials,
		Traffic:     "weights",
		New:         func() steps.Step { return &elbSetWeights{verifyDelay: time.Second} },
	})
}

// verifyReads is how many times the weights are read back before the step
// gives up: the load balancer API is eventually consistent.
const verifyReads = 5

type elbSetWeights struct {
	api         elbv2API
	verifyDelay time.Duration
}

func (s *elbSetWeights) Run(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	api, err := elbv2Client(s.api)
	if err != nil {
		return nil, err
	}
	p := call.Params
	listener, rule := p.String("listener"), p.String("rule")
	fw, err := readForward(ctx, api, listener, rule)
	if err != nil {
		return nil, err
	}
	prev := fw.weights()
	want, err := resolveWeights(fw.resource(), prev, p.Map("weights"))
	if err != nil {
		return nil, err
	}
	prevOut := toAny(prev)
	if equalWeights(prev, want) {
		out := weightOutputs(want)
		out["previous"], out["changed"] = prevOut, false
		return out, nil
	}

	if call.Undoing {
		if err := guardUndo(ctx, api, prev, want); err != nil {
			return nil, err
		}
	}

	undo := map[string]any{}
	for arn := range want {
		undo[arn] = prev[arn] // 0 for target groups this step adds
	}
	undoParams := map[string]any{"weights": undo}
	if rule != "" {
		undoParams["rule"] = rule
	} else {
		undoParams["listener"] = listener
	}
	if err := call.BeforeChange(steps.Undo{
		Kind:   "aws.elbv2.set-weights",
		Params: undoParams,
		Note:   fmt.Sprintf("restore weights of %s to %s", fw.resource(), formatMap(undo)),
		Settle: p.Duration("rollback_settle"),
	}); err != nil {
		return nil, err
	}

	actions := withWeights(fw, want)
	if rule != "" {
		_, err = api.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: awssdk.String(rule), Actions: actions})
		if err != nil {
			return nil, failed("elasticloadbalancing:ModifyRule", fw.resource(), err)
		}
	} else {
		_, err = api.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: awssdk.String(listener), DefaultActions: actions})
		if err != nil {
			return nil, failed("elasticloadbalancing:ModifyListener", fw.resource(), err)
		}
	}
	call.Log.Info().Str("target", fw.resource()).Str("weights", formatMap(toAny(want))).Msg("load balancer weights set")

	held := want
	if p.Bool("verify") {
		if held, err = s.verify(ctx, api, fw, want); err != nil {
			return nil, err
		}
	}
	out := weightOutputs(held)
	out["previous"], out["changed"] = prevOut, true
	return out, nil
}

// verify reads the weights of the listener or rule fw names back until AWS
// holds want.
func (s *elbSetWeights) verify(ctx context.Context, api elbv2API, fw *forwardTarget, want map[string]int) (map[string]int, error) {
	var got map[string]int
	for i := 0; i < verifyReads; i++ {
		if i > 0 {
			if err := sleep(ctx, s.verifyDelay); err != nil {
				return nil, err
			}
		}
		now, err := readForward(ctx, api, fw.listener, fw.rule)
		if err != nil {
			return nil, err
		}
		got = now.weights()
		ok := true
		for arn, w := range want {
			if g, found := got[arn]; !found || g != w {
				ok = false
			}
		}
		if ok {
			return got, nil
		}
	}
	return nil, fmt.Errorf("%s: weights did not take effect: asked for %s, AWS holds %s",
		fw.resource(), formatMap(toAny(want)), formatMap(toAny(got)))
}

// resolveWeights maps each requested key (ARN, or name of a target group
// already in the action) to an ARN and merges the request into the current
// weights.
func resolveWeights(resource string, current map[string]int, req map[string]any) (map[string]int, error) {
	if len(req) == 0 {
		return nil, fmt.Errorf("param \"weights\": no target group given")
	}
	out := map[string]int{}
	for arn, w := range current {
		out[arn] = w
	}
	for key, v := range req {
		w, ok := v.(int)
		if !ok || w < 0 || w > 999 {
			return nil, fmt.Errorf("param \"weights\": weight of %q must be an integer from 0 to 999, found %v", key, v)
		}
		arn := key
		if !strings.HasPrefix(key, "arn:") {
			arn = ""
			for a := range current {
				if targetGroupName(a) == key {
					arn = a
				}
			}
			if arn == "" {
				return nil, fmt.Errorf("param \"weights\": %s forwards to no target group named %q (name a new target group by its ARN)", resource, key)
			}
		}
		out[arn] = w
	}
	return out, nil
}

// withWeights returns the actions with the forward action's weights
// replaced; target groups keep their order, added ones come last.
func withWeights(fw *forwardTarget, want map[string]int) []elbtypes.Action {
	actions := make([]elbtypes.Action, len(fw.actions))
	copy(actions, fw.actions)
	a := actions[fw.idx]
	var order []string
	seen := map[string]bool{}
	if a.ForwardConfig != nil {
		for _, t := range a.ForwardConfig.TargetGroups {
			order = append(order, awssdk.ToString(t.TargetGroupArn))
			seen[awssdk.ToString(t.TargetGroupArn)] = true
		}
	} else if a.TargetGroupArn != nil {
		order = append(order, awssdk.ToString(a.TargetGroupArn))
		seen[awssdk.ToString(a.TargetGroupArn)] = true
	}
	var added []string
	for arn := range want {
		if !seen[arn] {
			added = append(added, arn)
		}
	}
	sort.Strings(added)
	order = append(order, added...)

	fc := &elbtypes.ForwardActionConfig{}
	if a.ForwardConfig != nil {
		fc.TargetGroupStickinessConfig = a.ForwardConfig.TargetGroupStickinessConfig
	}
	for _, arn := range order {
		fc.TargetGroups = append(fc.TargetGroups, elbtypes.TargetGroupTuple{
			TargetGroupArn: awssdk.String(arn), Weight: awssdk.Int32(int32(want[arn])),
		})
	}
	a.ForwardConfig = fc
	// AWS accepts TargetGroupArn next to a ForwardConfig only when both
	// name the same single target group.
	a.TargetGroupArn = nil
	actions[fw.idx] = a
	return actions
}

func equalWeights(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// toAny copies a map into the map[string]any that outputs and formatMap
// take.
func toAny[V any](m map[string]V) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// formatMap renders a map as "key=value, key=value" sorted by key, with
// target group ARNs shortened to their names.
func formatMap(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", targetGroupName(k), m[k])
	}
	return strings.Join(parts, ", ")
}
