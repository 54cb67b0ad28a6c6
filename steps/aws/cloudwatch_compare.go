package aws

import (
	"context"
	"fmt"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "aws.cloudwatch.compare",
		Title:   "Compare idle with live (CloudWatch)",
		Summary: "Reads the same load balancer metric for the idle and the live target group over the same window in one call, and judges with a statistical test whether idle is worse.",
		Doc: "Both target groups' metric and request counts (`RequestCount`) come from one " +
			"GetMetricData call over the same window, so neither colour is read later than the other. " +
			"The outputs `idle` and `live` hold each colour's `value` (the metric's sum over the " +
			"window for `test: errors`, the mean of its datapoints for `test: latency`), `rate` (value " +
			"per request), `requests`, `datapoints` and `values`; `ratio` and `difference` compare " +
			"them (rates for errors, values for latency). A gate can use them directly: " +
			"`fail: \"verdict == 'fail'\"` or `fail: \"idle.rate > 2 * live.rate && p < 0.05\"`.\n\n" +
			"**The verdict.** Each test asks one question: is idle *worse* than live, by more than " +
			"chance would explain? `p` is the probability of a difference at least this large in " +
			"idle's disfavour if both colours in truth behaved the same; `verdict` is `fail` when `p` " +
			"is below `alpha` and idle is also at least `min_ratio` times live, `pass` otherwise, and " +
			"`inconclusive` when either colour served fewer than `min_requests` requests in the window " +
			"(or, for latency, has fewer than `min_datapoints` datapoints). Inconclusive is never a " +
			"pass: a gate that must see a pass says `until: \"verdict == 'pass'\"`.\n\n" +
			"- `test: errors` compares error rates (metric count divided by requests) with the " +
			"two-proportion z-test. It treats each request as an independent trial that fails with " +
			"the colour's own probability; it needs a handful of errors to be accurate, so when " +
			"fewer than 5 errors or successes are expected in either colour, Fisher's exact test, " +
			"which has no such condition, is used instead.\n" +
			"- `test: latency` compares the per-period datapoints (for example the average or p99 of " +
			"`TargetResponseTime` per minute) with the Mann-Whitney U test, which assumes no " +
			"distribution (latencies are skewed) but treats datapoints as independent; periods " +
			"right next to each other are in practice correlated, so prefer whole minutes and a " +
			"window of ten or more. Small samples without ties use the exact distribution of U, " +
			"others the normal approximation with tie and continuity corrections.\n\n" +
			"`p` is 1 and `verdict` `inconclusive` when there is too little traffic. A CloudWatch " +
			"period without requests publishes no datapoint, so quiet minutes simply do not count.",
		Preflight: awsReady,
		Rules: []steps.Rule{
			steps.Matches("idle_target_group", targetGroupDimension, "a target group ARN or its targetgroup/NAME/ID dimension"),
			steps.Matches("live_target_group", targetGroupDimension, "a target group ARN or its targetgroup/NAME/ID dimension"),
			steps.Matches("load_balancer", loadBalancerDimension, "a load balancer ARN or its app/NAME/ID (net/, gwy/) dimension"),
			steps.Length("namespace", 1, 255),
			steps.Length("metric", 0, 255),
			steps.Matches("stat", cloudwatchStat, "SampleCount, Average, Sum, Minimum, Maximum, IQM or a percentile or trimmed statistic such as p99, p99.9, tm90 or TM(10%:90%)"),
			steps.DurationIn("period", cloudwatchPeriods, time.Minute),
			steps.PositiveDuration("window"),
			steps.Inside("alpha", 0, 1),
			steps.AtLeast("min_ratio", 0),
			steps.AtLeast("min_requests", 0),
			steps.AtLeast("min_datapoints", 0),
		},
		Params: []steps.Param{
			{Name: "idle_target_group", Type: steps.String, Required: true, Doc: "ARN (or `targetgroup/NAME/ID` dimension) of the idle target group."},
			{Name: "live_target_group", Type: steps.String, Required: true, Doc: "ARN (or dimension) of the live target group."},
			{Name: "load_balancer", Type: steps.String, Required: true, Doc: "ARN (or `app/NAME/ID` dimension) of the load balancer both target groups serve."},
			{Name: "test", Type: steps.String, Default: "errors", Enum: []string{"errors", "latency"},
				Doc: "What is compared: error rates (a count metric against RequestCount) or per-period latency datapoints."},
			{Name: "metric", Type: steps.String,
				Doc:      "The metric; HTTPCode_Target_5XX_Count for errors, TargetResponseTime for latency when not given.",
				Examples: []any{"HTTPCode_Target_5XX_Count", "TargetResponseTime"}},
			{Name: "stat", Type: steps.String,
				Doc: "Statistic of the metric per period; Sum for errors, Average for latency when not given (p99 and other percentiles work for latency).", Examples: []any{"p99"}},
			{Name: "namespace", Type: steps.String, Default: "AWS/ApplicationELB", Doc: "Namespace of the metrics."},
			{Name: "period", Type: steps.Duration, Default: time.Minute, Doc: "Length of one datapoint (whole seconds; a multiple of 60 for data older than 3 hours)."},
			{Name: "window", Type: steps.Duration, Default: 10 * time.Minute, Doc: "How far back both colours are read; the window ends with the current period."},
			{Name: "alpha", Type: steps.Number, Default: 0.05, Doc: "Significance level: verdict fail needs p below it."},
			{Name: "min_ratio", Type: steps.Number, Default: 1.0,
				Doc: "How many times live's rate (or value) idle must also reach for a fail, so that a tiny difference made significant by a lot of traffic does not fail a release."},
			{Name: "min_requests", Type: steps.Int, Default: 100, Doc: "Fewest requests each colour must have served in the window for a verdict."},
			{Name: "min_datapoints", Type: steps.Int, Default: 5, Doc: "test latency: fewest datapoints each colour must have for a verdict."},
		},
		Outputs: []steps.Output{
			{Name: "idle", Type: steps.Map, Doc: "The idle colour: value, rate, requests, datapoints, values."},
			{Name: "live", Type: steps.Map, Doc: "The live colour, as idle."},
			{Name: "ratio", Type: steps.Number, Doc: "Idle's rate (errors) or value (latency) divided by live's; 0 when both are 0, 1e9 when only live's is 0."},
			{Name: "difference", Type: steps.Number, Doc: "Idle's rate or value minus live's."},
			{Name: "p", Type: steps.Number, Doc: "One-sided p-value for \"idle is worse than live\"; 1 when inconclusive."},
			{Name: "statistic", Type: steps.Number, Doc: "The test's statistic: z for errors (0 for Fisher's test), U for latency."},
			{Name: "method", Type: steps.String, Doc: "The test used: two-proportion z, fisher exact, mann-whitney exact or mann-whitney normal; none when inconclusive."},
			{Name: "verdict", Type: steps.String, Doc: "pass, fail or inconclusive."},
			{Name: "reason", Type: steps.String, Doc: "The verdict in words."},
		},
		Credentials: steps.AWSCredentials,
		New:         func() steps.Step { return &cwCompare{now: time.Now} },
	})
}

type cwCompare struct {
	api cloudwatchAPI
	now func() time.Time
}

// colourSample is what one poll read for one colour.
type colourSample struct {
	values   []float64 // the metric's datapoints, oldest first
	requests float64
}

func (s *cwCompare) Run(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	p := call.Params
	test := p.String("test")
	metric, stat := p.String("metric"), p.String("stat")
	if metric == "" {
		metric = map[string]string{"errors": "HTTPCode_Target_5XX_Count", "latency": "TargetResponseTime"}[test]
	}
	if stat == "" {
		stat = map[string]string{"errors": "Sum", "latency": "Average"}[test]
	}
	// The spec's rules hold period and alpha to what CloudWatch and the
	// tests accept; that the window spans a period compares two params,
	// which no rule can say.
	period := p.Duration("period")
	if p.Duration("window") < period {
		return nil, fmt.Errorf("param \"window\": must be at least one period (%s), found %s", period, p.Duration("window"))
	}
	lb := dimension(p.String("load_balancer"), "loadbalancer/")
	groups := map[string]string{"idle": dimension(p.String("idle_target_group"), ""), "live": dimension(p.String("live_target_group"), "")}
	api, err := cloudwatchClient(s.api)
	if err != nil {
		return nil, err
	}

	secs := awssdk.Int32(int32(period / time.Second))
	var queries []cwtypes.MetricDataQuery
	for _, c := range []string{"idle", "live"} {
		// Dimensions sorted by name, as every step of this package sends them.
		dims := []cwtypes.Dimension{
			{Name: awssdk.String("LoadBalancer"), Value: awssdk.String(lb)},
			{Name: awssdk.String("TargetGroup"), Value: awssdk.String(groups[c])},
		}
		for id, m := range map[string][2]string{"m_" + c: {metric, stat}, "r_" + c: {"RequestCount", "Sum"}} {
			queries = append(queries, cwtypes.MetricDataQuery{
				Id: awssdk.String(id), ReturnData: awssdk.Bool(true),
				MetricStat: &cwtypes.MetricStat{
					Metric: &cwtypes.Metric{Namespace: awssdk.String(p.String("namespace")), MetricName: awssdk.String(m[0]), Dimensions: dims},
					Period: secs, Stat: awssdk.String(m[1]),
				},
			})
		}
	}
	end := s.now().Truncate(period).Add(period)
	in := &cloudwatch.GetMetricDataInput{
		MetricDataQueries: queries,
		StartTime:         awssdk.Time(end.Add(-p.Duration("window"))),
		EndTime:           awssdk.Time(end),
		ScanBy:            cwtypes.ScanByTimestampAscending,
	}
	resource := fmt.Sprintf("metric %s/%s of target groups %s and %s", p.String("namespace"), metric, groups["idle"], groups["live"])
	got := map[string][]float64{}
	for {
		out, err := api.GetMetricData(ctx, in)
		if err != nil {
			return nil, failed("cloudwatch:GetMetricData", resource, err)
		}
		for _, r := range out.MetricDataResults {
			if r.StatusCode == cwtypes.StatusCodeForbidden || r.StatusCode == cwtypes.StatusCodeInternalError {
				return nil, fmt.Errorf("cloudwatch:GetMetricData on %s: status %s", resource, r.StatusCode)
			}
			id := awssdk.ToString(r.Id)
			got[id] = append(got[id], r.Values...)
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	idle := colourSample{values: got["m_idle"], requests: sum(got["r_idle"])}
	live := colourSample{values: got["m_live"], requests: sum(got["r_live"])}
	return judge(test, idle, live, p.Number("alpha"), p.Number("min_ratio"), float64(p.Int("min_requests")), p.Int("min_datapoints")), nil
}

// judge turns two samples into the step's outputs.
func judge(test string, idle, live colourSample, alpha, minRatio, minRequests float64, minPoints int) steps.Outputs {
	describe := func(c colourSample) (map[string]any, float64, float64) {
		value := sum(c.values)
		if test == "latency" {
			value = mean(c.values)
		}
		rate := 0.0
		if c.requests > 0 {
			rate = sum(c.values) / c.requests
		}
		values := make([]any, len(c.values))
		for i, v := range c.values {
			values[i] = v
		}
		return map[string]any{"value": value, "rate": rate, "requests": c.requests, "datapoints": len(c.values), "values": values}, value, rate
	}
	im, iv, ir := describe(idle)
	lm, lv, lr := describe(live)
	a, b := ir, lr // errors compare rates
	if test == "latency" {
		a, b = iv, lv
	}
	ratio := 0.0
	switch {
	case b > 0:
		ratio = a / b
	case a > 0:
		ratio = 1e9 // live is 0, idle is not: as good as infinite, and JSON has no infinity
	}
	out := steps.Outputs{"idle": im, "live": lm, "ratio": ratio, "difference": a - b, "p": 1.0, "statistic": 0.0, "method": "none"}

	var short []string
	for _, c := range []struct {
		name string
		s    colourSample
	}{{"idle", idle}, {"live", live}} {
		if c.s.requests < minRequests {
			short = append(short, fmt.Sprintf("%s served %g requests (fewer than min_requests %g)", c.name, c.s.requests, minRequests))
		}
		if test == "latency" && len(c.s.values) < minPoints {
			short = append(short, fmt.Sprintf("%s has %d datapoints (fewer than min_datapoints %d)", c.name, len(c.s.values), minPoints))
		}
	}
	if len(short) > 0 {
		out["verdict"], out["reason"] = "inconclusive", "too little traffic for a verdict: "+strings.Join(short, "; ")
		return out
	}
	var pv float64
	if test == "latency" {
		r := mannWhitney(idle.values, live.values)
		pv, out["statistic"], out["method"] = r.P, r.U, r.Test
	} else {
		r := compareProportions(sum(idle.values), idle.requests, sum(live.values), live.requests)
		pv, out["statistic"], out["method"] = r.P, r.Z, r.Test
	}
	out["p"] = pv
	worse := a > b && (b == 0 || a >= minRatio*b)
	if pv < alpha && worse {
		out["verdict"] = "fail"
		out["reason"] = fmt.Sprintf("idle is worse than live: %g against %g (ratio %.3g), p = %.3g below alpha %g (%s)", a, b, ratio, pv, alpha, out["method"])
	} else {
		out["verdict"] = "pass"
		out["reason"] = fmt.Sprintf("no significant sign that idle is worse: %g against %g (ratio %.3g), p = %.3g, alpha %g, min_ratio %g (%s)", a, b, ratio, pv, alpha, minRatio, out["method"])
	}
	return out
}

// The shapes of the load balancer and target group params: an ARN or the
// CloudWatch dimension value it ends with.
const (
	targetGroupDimension  = `^(arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:)?targetgroup/[^/\s]+/[^/\s]+$`
	loadBalancerDimension = `^(arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:loadbalancer/)?(app|net|gwy)/[^/\s]+/[^/\s]+$`
)

// dimension turns an ARN into its CloudWatch dimension value (the resource
// part after the prefix, e.g. "targetgroup/NAME/ID"); a value that is not
// an ARN is taken as the dimension already.
func dimension(v, strip string) string {
	if !strings.HasPrefix(v, "arn:") {
		return v
	}
	if parts := strings.SplitN(v, ":", 6); len(parts) == 6 {
		return strings.TrimPrefix(parts[5], strip)
	}
	return v
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return sum(v) / float64(len(v))
}
