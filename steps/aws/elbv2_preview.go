package aws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "aws.elbv2.preview",
		Title:   "Open a load balancer preview route",
		Summary: "Adds a listener rule that sends only requests with a given header, cookie or source address to the idle target group; the undo removes it.",
		Doc: "The rule forwards to `target_group` alone and matches only when every condition " +
			"given holds: each of `headers` (the header has that value; `*` and `?` are " +
			"wildcards), each of `cookies` (the Cookie header holds `name=value`) and, when " +
			"`source_ips` is given, a client address in one of the ranges. Everything else keeps " +
			"going where it went: the listener's default action and its other rules are never " +
			"modified.\n\n" +
			"Without `priority` the rule takes the lowest free priority, so it is evaluated before " +
			"the listener's other rules (a preview request for /api/* reaches the idle target group " +
			"even when a rule sends /api/* elsewhere). The priorities in use are read first, and a " +
			"priority taken by someone else in between is not reused: the step moves on to the " +
			"next free one. Give `priority` to place the rule after rules that must see every " +
			"request first (authentication, redirects).\n\n" +
			"The undo, journaled before the rule is created, removes the rule at that priority only " +
			"when it still forwards to `target_group` with the same conditions, so it never removes " +
			"a rule someone else created; a rule already gone is fine. `remove: true` does the same " +
			"on purpose, to close the preview once smoke checks have passed.",
		Preflight: awsPreview,
		Rules: []steps.Rule{
			steps.Matches("listener", `^arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:listener/`, "a listener ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/...)"),
			steps.Matches("target_group", `^arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:targetgroup/`, "a target group ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/...)"),
			steps.AtLeastOneOf("headers", "cookies", "source_ips"),
			steps.Matches("cookies", `^[^;, ]*$`, "a cookie value without ';', ',' or spaces"),
			steps.Matches("source_ips", `^[0-9A-Fa-f.:]+/[0-9]{1,3}$`, "a CIDR range such as 10.0.0.0/8"),
			steps.Between("priority", 1, 50000),
			steps.RequiredWhen("remove", true, "priority"),
		},
		Params: []steps.Param{
			{Name: "listener", Type: steps.String, Required: true, Doc: "ARN of the listener that gets the rule."},
			{Name: "target_group", Type: steps.String, Required: true, Doc: "ARN of the target group preview requests go to: the idle colour's."},
			{Name: "headers", Type: steps.Map, Items: steps.String,
				Doc:      "Headers a request must carry, name to value (`*` and `?` are wildcards).",
				Examples: []any{map[string]any{"X-Preview": "green"}}},
			{Name: "cookies", Type: steps.Map, Items: steps.String,
				Doc:      "Cookies a request must carry, name to value.",
				Examples: []any{map[string]any{"preview": "1"}}},
			{Name: "source_ips", Type: steps.List, Items: steps.String,
				Doc:      "Client address ranges (CIDR) the request must come from.",
				Examples: []any{[]any{"10.0.0.0/8"}}},
			{Name: "priority", Type: steps.Int,
				Doc: "The rule's priority (1-50000); without it the lowest free one is taken."},
			{Name: "remove", Type: steps.Bool, Default: false,
				Doc: "Remove the preview rule at `priority` instead of adding one (what the undo does)."},
		},
		Outputs: []steps.Output{
			{Name: "rule", Type: steps.String, Doc: "ARN of the preview rule (empty after a removal)."},
			{Name: "priority", Type: steps.Int, Doc: "The rule's priority."},
			{Name: "removed", Type: steps.Bool, Doc: "With remove: whether a matching rule was found and removed."},
		},
		Mutates:     true,
		Credentials: steps.AWSCredentials,
		New:         func() steps.Step { return &elbPreview{} },
	})
}

// previewAttempts bounds how often a priority taken in the meantime is
// skipped before the step gives up.
const previewAttempts = 5

type elbPreview struct{}

func (s *elbPreview) Run(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	p := call.Params
	listener, tg := p.String("listener"), p.String("target_group")
	conds, err := previewConditions(p.StringMap("headers"), p.StringMap("cookies"), p.Strings("source_ips"))
	if err != nil {
		return nil, err
	}
	// The spec's rules hold priority to 1-50000 and require it with
	// remove: true.
	prio := p.Int("priority")
	api, err := elbv2RulesClient()
	if err != nil {
		return nil, err
	}
	if p.Bool("remove") {
		return s.remove(ctx, call, api, listener, tg, prio, conds)
	}

	rules, err := listenerRules(ctx, api, listener)
	if err != nil {
		return nil, err
	}
	used := map[int]bool{}
	for _, r := range rules {
		if n, err := strconv.Atoi(awssdk.ToString(r.Priority)); err == nil {
			used[n] = true
		}
	}
	undoParams := func(prio int) map[string]any {
		return map[string]any{
			"listener": listener, "target_group": tg, "priority": prio, "remove": true,
			"headers": toAny(p.StringMap("headers")), "cookies": toAny(p.StringMap("cookies")), "source_ips": anyStrings(p.Strings("source_ips")),
		}
	}
	for attempt := 0; attempt < previewAttempts; attempt++ {
		if !p.Has("priority") {
			prio = 1
			for used[prio] {
				prio++
			}
			if prio > 50000 {
				return nil, fmt.Errorf("listener %s: every rule priority is in use", listener)
			}
		} else if used[prio] {
			return nil, fmt.Errorf("param \"priority\": listener %s already has a rule at priority %d", listener, prio)
		}
		if err := call.BeforeChange(steps.Undo{
			Kind: "aws.elbv2.preview", Params: undoParams(prio),
			Note: fmt.Sprintf("remove the preview rule at priority %d of listener %s", prio, listener),
		}); err != nil {
			return nil, err
		}
		out, err := api.CreateRule(ctx, &elbv2.CreateRuleInput{
			ListenerArn: awssdk.String(listener), Priority: awssdk.Int32(int32(prio)), Conditions: conds,
			Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
				TargetGroups: []elbtypes.TargetGroupTuple{{TargetGroupArn: awssdk.String(tg), Weight: awssdk.Int32(1)}},
			}}},
		})
		var inUse *elbtypes.PriorityInUseException
		if errors.As(err, &inUse) && !p.Has("priority") {
			used[prio] = true // taken since the rules were read: try the next one
			continue
		}
		if err != nil {
			return nil, failed("elasticloadbalancing:CreateRule", "listener "+listener, err)
		}
		arn := ""
		if len(out.Rules) > 0 {
			arn = awssdk.ToString(out.Rules[0].RuleArn)
		}
		call.Log.Info().Str("listener", listener).Int("priority", prio).Str("target_group", targetGroupName(tg)).Msg("preview rule added")
		return steps.Outputs{"rule": arn, "priority": prio, "removed": false}, nil
	}
	return nil, fmt.Errorf("listener %s: %d free priorities were taken by other rules while this step added its own; try again or give param \"priority\"", listener, previewAttempts)
}

// remove deletes the preview rule at prio if it is still the one this step
// made: forward to tg alone, with the same conditions.
func (s *elbPreview) remove(ctx context.Context, call *steps.Call, api elbv2RulesAPI, listener, tg string, prio int, conds []elbtypes.RuleCondition) (steps.Outputs, error) {
	rules, err := listenerRules(ctx, api, listener)
	if err != nil {
		var nf *elbtypes.ListenerNotFoundException
		if errors.As(err, &nf) {
			return steps.Outputs{"rule": "", "priority": prio, "removed": false}, nil
		}
		return nil, err
	}
	for _, r := range rules {
		if awssdk.ToString(r.Priority) != strconv.Itoa(prio) {
			continue
		}
		if !isPreviewRule(r, tg, conds) {
			call.Log.Warn().Str("listener", listener).Int("priority", prio).Msg("the rule at the preview's priority is not the preview rule: left in place")
			return steps.Outputs{"rule": "", "priority": prio, "removed": false}, nil
		}
		_, err := api.DeleteRule(ctx, &elbv2.DeleteRuleInput{RuleArn: r.RuleArn})
		var nf *elbtypes.RuleNotFoundException
		if err != nil && !errors.As(err, &nf) {
			return nil, failed("elasticloadbalancing:DeleteRule", "rule "+awssdk.ToString(r.RuleArn), err)
		}
		call.Log.Info().Str("listener", listener).Int("priority", prio).Msg("preview rule removed")
		return steps.Outputs{"rule": "", "priority": prio, "removed": true}, nil
	}
	return steps.Outputs{"rule": "", "priority": prio, "removed": false}, nil
}

// listenerRules reads every rule of a listener, page by page.
func listenerRules(ctx context.Context, api elbv2RulesAPI, listener string) ([]elbtypes.Rule, error) {
	var rules []elbtypes.Rule
	in := &elbv2.DescribeRulesInput{ListenerArn: awssdk.String(listener)}
	for {
		out, err := api.DescribeRules(ctx, in)
		if err != nil {
			return nil, failed("elasticloadbalancing:DescribeRules", "listener "+listener, err)
		}
		rules = append(rules, out.Rules...)
		if out.NextMarker == nil || awssdk.ToString(out.NextMarker) == "" {
			return rules, nil
		}
		in.Marker = out.NextMarker
	}
}

// previewConditions turns the params into rule conditions, in a fixed
// order: headers and cookies by name, then source addresses. The spec's
// rules check the values it can; names of headers and cookies, empty
// values and empty maps (given, but without a condition) are checked here.
func previewConditions(headers, cookies map[string]string, sources []string) ([]elbtypes.RuleCondition, error) {
	if len(headers)+len(cookies)+len(sources) == 0 {
		return nil, errors.New("give at least one of params \"headers\", \"cookies\" and \"source_ips\": a preview rule without a condition would take every request")
	}
	var out []elbtypes.RuleCondition
	for _, name := range sortedKeys(headers) {
		if name == "" || headers[name] == "" {
			return nil, fmt.Errorf("param \"headers\": expected a header name and value, found %q: %q", name, headers[name])
		}
		out = append(out, headerCondition(name, headers[name]))
	}
	for _, name := range sortedKeys(cookies) {
		if name == "" || strings.ContainsAny(name+cookies[name], ";, ") {
			return nil, fmt.Errorf("param \"cookies\": expected a cookie name and value without ';', ',' or spaces, found %q=%q", name, cookies[name])
		}
		out = append(out, headerCondition("Cookie", "*"+name+"="+cookies[name]+"*"))
	}
	if len(sources) > 0 {
		for _, s := range sources {
			if !strings.Contains(s, "/") {
				return nil, fmt.Errorf("param \"source_ips\": expected a CIDR range such as 10.0.0.0/8, found %q", s)
			}
		}
		out = append(out, elbtypes.RuleCondition{Field: awssdk.String("source-ip"), SourceIpConfig: &elbtypes.SourceIpConditionConfig{Values: slices.Clone(sources)}})
	}
	return out, nil
}

func headerCondition(name, value string) elbtypes.RuleCondition {
	return elbtypes.RuleCondition{Field: awssdk.String("http-header"),
		HttpHeaderConfig: &elbtypes.HttpHeaderConditionConfig{HttpHeaderName: awssdk.String(name), Values: []string{value}}}
}

// isPreviewRule reports whether r forwards to tg alone under exactly the
// conditions conds.
func isPreviewRule(r elbtypes.Rule, tg string, conds []elbtypes.RuleCondition) bool {
	if len(r.Actions) != 1 {
		return false
	}
	a := r.Actions[0]
	var tgs []string
	if a.ForwardConfig != nil {
		for _, t := range a.ForwardConfig.TargetGroups {
			tgs = append(tgs, awssdk.ToString(t.TargetGroupArn))
		}
	} else if a.TargetGroupArn != nil {
		tgs = []string{awssdk.ToString(a.TargetGroupArn)}
	}
	if len(tgs) != 1 || tgs[0] != tg {
		return false
	}
	return slices.Equal(conditionKeys(r.Conditions), conditionKeys(conds))
}

// conditionKeys renders conditions as sorted strings, to compare the ones
// AWS returns with the ones asked for whatever the order.
func conditionKeys(conds []elbtypes.RuleCondition) []string {
	var out []string
	for _, c := range conds {
		switch {
		case c.HttpHeaderConfig != nil:
			out = append(out, "header "+strings.ToLower(awssdk.ToString(c.HttpHeaderConfig.HttpHeaderName))+"="+strings.Join(c.HttpHeaderConfig.Values, "|"))
		case c.SourceIpConfig != nil:
			v := slices.Clone(c.SourceIpConfig.Values)
			sort.Strings(v)
			out = append(out, "source "+strings.Join(v, "|"))
		default:
			out = append(out, awssdk.ToString(c.Field)+" "+strings.Join(c.Values, "|"))
		}
	}
	sort.Strings(out)
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func anyStrings(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// elbv2RulesAPI is the part of the Elastic Load Balancing v2 API the
// preview step uses: reading, adding and removing a listener's rules.
type elbv2RulesAPI interface {
	DescribeRules(context.Context, *elbv2.DescribeRulesInput, ...func(*elbv2.Options)) (*elbv2.DescribeRulesOutput, error)
	CreateRule(context.Context, *elbv2.CreateRuleInput, ...func(*elbv2.Options)) (*elbv2.CreateRuleOutput, error)
	DeleteRule(context.Context, *elbv2.DeleteRuleInput, ...func(*elbv2.Options)) (*elbv2.DeleteRuleOutput, error)
}

// elbv2RulesClient returns the shared client, which speaks the whole API.
func elbv2RulesClient() (elbv2RulesAPI, error) {
	api, err := shared.elbv2()
	if err != nil {
		return nil, err
	}
	rules, ok := api.(elbv2RulesAPI)
	if !ok {
		return nil, fmt.Errorf("the load balancer client cannot manage rules (%T)", api)
	}
	return rules, nil
}
