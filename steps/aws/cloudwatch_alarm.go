package aws

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "aws.cloudwatch.alarm",
		Title:   "CloudWatch alarm state",
		Summary: "Reads the state of CloudWatch alarms, named or by prefix.",
		Doc: "As CodeDeploy does, a release can roll back when any of its alarms fires: use it as a " +
			"gate with `fail: \"alarm > 0\"`. A named alarm that does not exist is an error, so a typo " +
			"cannot silently disable the check.",
		Preflight: awsReady,
		Rules: []steps.Rule{
			steps.ExactlyOneOf("alarms", "prefix"),
			steps.Length("alarms", 1, 100),
			steps.Length("prefix", 0, 255),
		},
		Params: []steps.Param{
			{Name: "alarms", Type: steps.List, Items: steps.String, Doc: "Names of the alarms (metric or composite). One of `alarms` and `prefix` is required.", Examples: []any{[]any{"web-green-5xx", "web-green-latency"}}},
			{Name: "prefix", Type: steps.String, Doc: "Read every alarm whose name starts with this prefix instead.", Examples: []any{"web-green-"}},
		},
		Outputs: []steps.Output{
			{Name: "alarm", Type: steps.Int, Doc: "Alarms in state ALARM."},
			{Name: "ok", Type: steps.Int, Doc: "Alarms in state OK."},
			{Name: "insufficient_data", Type: steps.Int, Doc: "Alarms in state INSUFFICIENT_DATA."},
			{Name: "firing", Type: steps.List, Doc: "Names of the alarms in state ALARM, sorted."},
			{Name: "states", Type: steps.Map, Doc: "State of each alarm, keyed by name."},
			{Name: "reasons", Type: steps.Map, Doc: "CloudWatch's state reason of each firing alarm, keyed by name."},
		},
		Credentials: steps.AWSCredentials,
		New:         func() steps.Step { return &cwAlarm{} },
	})
}

type cwAlarm struct{ api cloudwatchAPI }

func (s *cwAlarm) Run(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	names, prefix := call.Params.Strings("alarms"), call.Params.String("prefix")
	if (len(names) == 0) == (prefix == "") {
		return nil, errors.New("exactly one of the params \"alarms\" and \"prefix\" is required")
	}
	api, err := cloudwatchClient(s.api)
	if err != nil {
		return nil, err
	}
	in := &cloudwatch.DescribeAlarmsInput{AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm}}
	resource := "alarms " + strings.Join(names, ", ")
	if prefix != "" {
		in.AlarmNamePrefix = awssdk.String(prefix)
		resource = "alarms with prefix " + prefix
	} else {
		in.AlarmNames = names
	}
	states, reasons := map[string]any{}, map[string]any{}
	for {
		out, err := api.DescribeAlarms(ctx, in)
		if err != nil {
			return nil, failed("cloudwatch:DescribeAlarms", resource, err)
		}
		for _, a := range out.MetricAlarms {
			states[awssdk.ToString(a.AlarmName)] = string(a.StateValue)
			reasons[awssdk.ToString(a.AlarmName)] = awssdk.ToString(a.StateReason)
		}
		for _, a := range out.CompositeAlarms {
			states[awssdk.ToString(a.AlarmName)] = string(a.StateValue)
			reasons[awssdk.ToString(a.AlarmName)] = awssdk.ToString(a.StateReason)
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	var missing []string
	for _, n := range names {
		if _, ok := states[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("cloudwatch:DescribeAlarms: no alarm named %s", strings.Join(missing, ", "))
	}
	counts := map[string]int{}
	var firing []string
	for n, st := range states {
		counts[st.(string)]++
		if st == string(cwtypes.StateValueAlarm) {
			firing = append(firing, n)
		} else {
			delete(reasons, n)
		}
	}
	sort.Strings(firing)
	fl := make([]any, len(firing))
	for i, f := range firing {
		fl[i] = f
	}
	return steps.Outputs{
		"alarm":             counts[string(cwtypes.StateValueAlarm)],
		"ok":                counts[string(cwtypes.StateValueOk)],
		"insufficient_data": counts[string(cwtypes.StateValueInsufficientData)],
		"firing":            fl,
		"states":            states,
		"reasons":           reasons,
	}, nil
}
