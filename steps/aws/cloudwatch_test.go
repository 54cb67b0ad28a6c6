package aws

import (
	"reflect"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)

func TestCloudWatchMetric(t *testing.T) {
	res := func(id string, vals ...float64) cwtypes.MetricDataResult {
		r := cwtypes.MetricDataResult{Id: awssdk.String(id), StatusCode: cwtypes.StatusCodeComplete}
		for i, v := range vals {
			// Newest first, as CloudWatch answers by default.
			r.Timestamps = append(r.Timestamps, t0.Add(-time.Duration(i)*time.Minute))
			r.Values = append(r.Values, v)
		}
		return r
	}
	cases := []struct {
		name   string
		fake   *fakeCW
		params map[string]any
		want   map[string]any
	}{
		{"sum of 5xx", &fakeCW{results: []cwtypes.MetricDataResult{res("m1", 7, 1, 3)}},
			map[string]any{"namespace": "AWS/ApplicationELB", "metric": "HTTPCode_Target_5XX_Count", "stat": "Sum", "dimensions": map[string]any{"TargetGroup": "targetgroup/g/1", "LoadBalancer": "app/l/2"}},
			map[string]any{"value": 7.0, "values": []any{3.0, 1.0, 7.0}, "sum": 11.0, "max": 7.0, "min": 1.0, "datapoints": 3}},
		{"no data is zero", &fakeCW{results: []cwtypes.MetricDataResult{res("m1")}},
			map[string]any{"namespace": "AWS/ApplicationELB", "metric": "HTTPCode_Target_5XX_Count"},
			map[string]any{"value": 0.0, "values": []any{}, "sum": 0.0, "max": 0.0, "datapoints": 0}},
		{"expression", &fakeCW{results: []cwtypes.MetricDataResult{res("e1", 2, 4)}},
			map[string]any{"namespace": "AWS/ApplicationELB", "metric": "RequestCount", "expression": "m1/60"},
			map[string]any{"value": 2.0, "sum": 6.0, "datapoints": 2}},
		{"pages", &fakeCW{pages: 2, results: []cwtypes.MetricDataResult{res("m1", 5), {Id: awssdk.String("m1"), Timestamps: []time.Time{t0.Add(-time.Hour)}, Values: []float64{1}}}},
			map[string]any{"namespace": "N", "metric": "M"},
			map[string]any{"value": 5.0, "values": []any{1.0, 5.0}, "sum": 6.0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := runStep(t, "aws.cloudwatch.metric", &cwMetric{api: c.fake, now: func() time.Time { return t0 }}, c.params)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c.want {
				if !reflect.DeepEqual(out[k], v) {
					t.Errorf("%s = %#v, want %#v", k, out[k], v)
				}
			}
			in := c.fake.inputs[0]
			// t0 is on a minute boundary: the window ends with the minute that starts there.
			if !in.EndTime.Equal(t0.Add(time.Minute)) || !in.StartTime.Equal(t0.Add(-4*time.Minute)) {
				t.Errorf("window %s..%s", in.StartTime, in.EndTime)
			}
		})
	}
}

func TestCloudWatchMetricQuery(t *testing.T) {
	f := &fakeCW{}
	_, _, err := runStep(t, "aws.cloudwatch.metric", &cwMetric{api: f, now: func() time.Time { return t0 }}, map[string]any{
		"namespace": "AWS/ApplicationELB", "metric": "HTTPCode_Target_5XX_Count", "stat": "Sum", "period": "30s", "window": "2m",
		"dimensions": map[string]any{"TargetGroup": "targetgroup/g/1", "LoadBalancer": "app/l/2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	q := f.inputs[0].MetricDataQueries[0]
	ms := q.MetricStat
	if *ms.Period != 30 || *ms.Stat != "Sum" || *ms.Metric.MetricName != "HTTPCode_Target_5XX_Count" || !*q.ReturnData {
		t.Errorf("query %+v", ms)
	}
	var dims []string
	for _, d := range ms.Metric.Dimensions {
		dims = append(dims, *d.Name+"="+*d.Value)
	}
	if want := []string{"LoadBalancer=app/l/2", "TargetGroup=targetgroup/g/1"}; !reflect.DeepEqual(dims, want) {
		t.Errorf("dimensions %v, want %v", dims, want)
	}
}

func TestCloudWatchMetricRejects(t *testing.T) {
	for _, c := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"namespace": "N"}, `at least one of "metric" or "expression" is required`},
		{map[string]any{"metric": "M"}, `param "metric": needs "namespace" too`},
		{map[string]any{"namespace": "N", "metric": "M", "period": "1500ms"}, "expected 1s, 5s, 10s, 20s, 30s or a multiple of 60s, found 1.5s"},
	} {
		_, _, err := runStep(t, "aws.cloudwatch.metric", &cwMetric{api: &fakeCW{}, now: time.Now}, c.params)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.params, err, c.want)
		}
	}
}

func TestCloudWatchAlarm(t *testing.T) {
	f := &fakeCW{alarms: map[string]cwtypes.StateValue{"web-5xx": "ALARM", "web-latency": "OK", "web-cpu": "INSUFFICIENT_DATA", "db-5xx": "ALARM"}}
	out, _, err := runStep(t, "aws.cloudwatch.alarm", &cwAlarm{api: f}, map[string]any{"prefix": "web-"})
	if err != nil {
		t.Fatal(err)
	}
	if out["alarm"] != 1 || out["ok"] != 1 || out["insufficient_data"] != 1 || !reflect.DeepEqual(out["firing"], []any{"web-5xx"}) {
		t.Errorf("prefix: %v", out)
	}
	if !reflect.DeepEqual(out["reasons"], map[string]any{"web-5xx": "threshold crossed"}) {
		t.Errorf("reasons %v", out["reasons"])
	}
	out, _, err = runStep(t, "aws.cloudwatch.alarm", &cwAlarm{api: f}, map[string]any{"alarms": []any{"web-latency", "db-5xx"}})
	if err != nil || out["alarm"] != 1 || out["ok"] != 1 {
		t.Errorf("names: %v %v", out, err)
	}
	_, _, err = runStep(t, "aws.cloudwatch.alarm", &cwAlarm{api: f}, map[string]any{"alarms": "[web-latency, web-typo]"})
	if err == nil || !strings.Contains(err.Error(), "no alarm named web-typo") {
		t.Errorf("error %v", err)
	}
	_, _, err = runStep(t, "aws.cloudwatch.alarm", &cwAlarm{api: &fakeCW{}}, map[string]any{"alarms": []any{"a"}})
	if err == nil || !strings.Contains(err.Error(), "cloudwatch:DescribeAlarms on alarms a failed") {
		t.Errorf("error %v", err)
	}
}
