package aws

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "aws.cloudwatch.metric",
		Title:   "CloudWatch metric",
		Summary: "Reads one CloudWatch metric, or a metric math expression, over a recent window.",
		Doc: "The metric is fetched with GetMetricData as `m1`; with `expression` the expression's result " +
			"is returned instead (it can refer to `m1`, or stand alone, e.g. a SEARCH). Datapoints are " +
			"ordered oldest first. A window without datapoints gives 0 for `value`, `sum` and `max` and " +
			"`datapoints: 0`: CloudWatch publishes no datapoint for a count that stayed at zero, such as " +
			"a load balancer's 5xx count. Meant as a bake gate: " +
			"`{until: \"elapsed >= inputs.bake\", fail: \"sum > inputs.error_threshold\"}`.",
		Preflight: awsReady,
		Rules: []steps.Rule{
			steps.AtLeastOneOf("metric", "expression"),
			steps.Requires("metric", "namespace"),
			steps.Length("namespace", 1, 255),
			steps.Length("metric", 1, 255),
			steps.Length("dimensions", 0, 30),
			steps.Matches("stat", cloudwatchStat, "SampleCount, Average, Sum, Minimum, Maximum, IQM or a percentile or trimmed statistic such as p99, p99.9, tm90 or TM(10%:90%)"),
			steps.DurationIn("period", cloudwatchPeriods, time.Minute),
			steps.PositiveDuration("window"),
			steps.Length("expression", 0, 2048),
		},
		Params: []steps.Param{
			{Name: "namespace", Type: steps.String, Doc: "Namespace of the metric.", Examples: []any{"AWS/ApplicationELB"}},
			{Name: "metric", Type: steps.String, Doc: "Metric name. Required unless `expression` stands alone.", Examples: []any{"HTTPCode_Target_5XX_Count"}},
			{Name: "dimensions", Type: steps.Map, Items: steps.String, Doc: "Dimensions of the metric, name to value.",
				Examples: []any{map[string]any{"TargetGroup": "targetgroup/web-green/0123456789abcdef", "LoadBalancer": "app/web-green/0123456789abcdef"}}},
			{Name: "stat", Type: steps.String, Default: "Average", Doc: "Statistic: Sum, Average, Minimum, Maximum, SampleCount or a percentile such as p99.", Examples: []any{"Sum", "p99"}},
			{Name: "expression", Type: steps.String, Doc: "Metric math expression to return instead of the metric; the metric is `m1`.", Examples: []any{"m1 / 60"}},
			{Name: "period", Type: steps.Duration, Default: time.Minute, Doc: "Length of one datapoint (whole seconds; a multiple of 60 for data older than 3 hours)."},
			{Name: "window", Type: steps.Duration, Default: 5 * time.Minute, Doc: "How far back datapoints are read; the window ends with the current period."},
		},
		Outputs: []steps.Output{
			{Name: "value", Type: steps.Number, Doc: "The latest datapoint (0 when there is none)."},
			{Name: "values", Type: steps.List, Doc: "All datapoints in the window, oldest first."},
			{Name: "sum", Type: steps.Number, Doc: "Sum of the datapoints."},
			{Name: "max", Type: steps.Number, Doc: "Largest datapoint (0 when there is none)."},
			{Name: "min", Type: steps.Number, Doc: "Smallest datapoint (0 when there is none)."},
			{Name: "datapoints", Type: steps.Int, Doc: "Number of datapoints."},
		},
		Credentials: steps.AWSCredentials,
		New:         func() steps.Step { return &cwMetric{now: time.Now} },
	})
}

type cwMetric struct {
	api cloudwatchAPI
	now func() time.Time
}

func (s *cwMetric) Run(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	p := call.Params
	metric, expr := p.String("metric"), p.String("expression")
	if metric == "" && expr == "" {
		return nil, errors.New("one of the params \"metric\" and \"expression\" is required")
	}
	if metric != "" && p.String("namespace") == "" {
		return nil, errors.New("param \"namespace\" is required with \"metric\"")
	}
	period := p.Duration("period")
	if period < time.Second || period%time.Second != 0 {
		return nil, fmt.Errorf("param \"period\": must be whole seconds, at least 1s, found %s", period)
	}
	api, err := cloudwatchClient(s.api)
	if err != nil {
		return nil, err
	}
	var queries []cwtypes.MetricDataQuery
	want := "m1"
	resource := "expression " + expr
	if metric != "" {
		var dims []cwtypes.Dimension
		dm := p.StringMap("dimensions")
		names := make([]string, 0, len(dm))
		for k := range dm {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			dims = append(dims, cwtypes.Dimension{Name: awssdk.String(k), Value: awssdk.String(dm[k])})
		}
		resource = fmt.Sprintf("metric %s/%s %s", p.String("namespace"), metric, formatMap(toAny(dm)))
		queries = append(queries, cwtypes.MetricDataQuery{
			Id: awssdk.String("m1"),
			MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{Namespace: awssdk.String(p.String("namespace")), MetricName: awssdk.String(metric), Dimensions: dims},
				Period: awssdk.Int32(int32(period / time.Second)),
				Stat:   awssdk.String(p.String("stat")),
			},
			ReturnData: awssdk.Bool(expr == ""),
		})
	}
	if expr != "" {
		want = "e1"
		queries = append(queries, cwtypes.MetricDataQuery{
			Id: awssdk.String("e1"), Expression: awssdk.String(expr),
			Period: awssdk.Int32(int32(period / time.Second)), ReturnData: awssdk.Bool(true),
		})
	}
	now := s.now()
	// The window ends with the period now falls in, so the newest,
	// still-filling datapoint counts (a burst of errors shows at once), and
	// both ends sit on period boundaries, as CloudWatch recommends.
	end := now.Truncate(period).Add(period)
	in := &cloudwatch.GetMetricDataInput{
		MetricDataQueries: queries,
		StartTime:         awssdk.Time(end.Add(-p.Duration("window"))),
		EndTime:           awssdk.Time(end),
		ScanBy:            cwtypes.ScanByTimestampAscending,
	}
	type point struct {
		t time.Time
		v float64
	}
	var points []point
	for {
		out, err := api.GetMetricData(ctx, in)
		if err != nil {
			return nil, failed("cloudwatch:GetMetricData", resource, err)
		}
		for _, r := range out.MetricDataResults {
			if awssdk.ToString(r.Id) != want {
				continue
			}
			if r.StatusCode == cwtypes.StatusCodeForbidden || r.StatusCode == cwtypes.StatusCodeInternalError {
				return nil, fmt.Errorf("cloudwatch:GetMetricData on %s: status %s", resource, r.StatusCode)
			}
			for i, v := range r.Values {
				t := now
				if i < len(r.Timestamps) {
					t = r.Timestamps[i]
				}
				points = append(points, point{t, v})
			}
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	// Sorted here as well: the order of pages is not part of the API's promise.
	sort.SliceStable(points, func(i, j int) bool { return points[i].t.Before(points[j].t) })
	values := make([]any, len(points))
	var sum, hi, lo, last float64
	for i, pt := range points {
		values[i] = pt.v
		sum += pt.v
		if i == 0 || pt.v > hi {
			hi = pt.v
		}
		if i == 0 || pt.v < lo {
			lo = pt.v
		}
		last = pt.v
	}
	return steps.Outputs{"value": last, "values": values, "sum": sum, "max": hi, "min": lo, "datapoints": len(points)}, nil
}
