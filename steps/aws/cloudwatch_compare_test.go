package aws

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
)

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// TestCompareVerdicts: synthetic datapoints with known answers.
func TestCompareVerdicts(t *testing.T) {
	tests := []struct {
		name        string
		test        string
		idle, live  colourSample
		minRatio    float64
		wantVerdict string
		wantMethod  string
		check       func(t *testing.T, out map[string]any)
	}{
		{name: "equal rates pass", test: "errors",
			idle: colourSample{repeat(10, 10), 10000}, live: colourSample{repeat(10, 10), 10000},
			wantVerdict: "pass", wantMethod: "two-proportion z",
			check: func(t *testing.T, out map[string]any) {
				near(t, "p", out["p"].(float64), 0.5, 1e-12)
				near(t, "ratio", out["ratio"].(float64), 1, 1e-12)
			}},
		{name: "idle at 5x live fails", test: "errors",
			idle: colourSample{repeat(50, 10), 10000}, live: colourSample{repeat(10, 10), 10000},
			wantVerdict: "fail", wantMethod: "two-proportion z",
			check: func(t *testing.T, out map[string]any) {
				if out["p"].(float64) > 1e-20 {
					t.Errorf("p = %g for 500 against 100 errors in 10000 requests each", out["p"])
				}
				near(t, "ratio", out["ratio"].(float64), 5, 1e-12)
				near(t, "difference", out["difference"].(float64), 0.04, 1e-12)
				if idle := out["idle"].(map[string]any); idle["value"] != 500.0 || idle["requests"] != 10000.0 || idle["datapoints"] != 10 {
					t.Errorf("idle = %v", idle)
				}
			}},
		{name: "idle better passes", test: "errors",
			idle: colourSample{repeat(1, 10), 10000}, live: colourSample{repeat(10, 10), 10000}, wantVerdict: "pass", wantMethod: "two-proportion z"},
		{name: "too few requests is inconclusive", test: "errors",
			idle: colourSample{repeat(0, 5), 40}, live: colourSample{repeat(0, 10), 10000}, wantVerdict: "inconclusive", wantMethod: "none",
			check: func(t *testing.T, out map[string]any) {
				if out["p"] != 1.0 || !strings.Contains(out["reason"].(string), "idle served 40 requests") {
					t.Errorf("outputs %v", out)
				}
			}},
		{name: "5x with too little traffic is inconclusive, never a pass", test: "errors",
			idle: colourSample{[]float64{5}, 50}, live: colourSample{[]float64{1}, 50}, wantVerdict: "inconclusive", wantMethod: "none"},
		{name: "few errors use fisher", test: "errors",
			idle: colourSample{[]float64{3}, 1000}, live: colourSample{[]float64{0}, 1000}, wantVerdict: "pass", wantMethod: "fisher exact",
			check: func(t *testing.T, out map[string]any) {
				if out["ratio"] != 1e9 {
					t.Errorf("ratio with live at 0 = %v", out["ratio"])
				}
			}},
		{name: "significant but below min_ratio passes", test: "errors", minRatio: 1.5,
			idle: colourSample{repeat(1100, 10), 1e6}, live: colourSample{repeat(1000, 10), 1e6}, wantVerdict: "pass", wantMethod: "two-proportion z",
			check: func(t *testing.T, out map[string]any) {
				if out["p"].(float64) > 0.01 {
					t.Errorf("p = %g: this case needs a significant difference", out["p"])
				}
			}},
		{name: "slower idle fails", test: "latency",
			idle: colourSample{[]float64{0.50, 0.52, 0.49, 0.55, 0.51, 0.53}, 6000}, live: colourSample{[]float64{0.10, 0.12, 0.11, 0.09, 0.13, 0.105}, 6000},
			wantVerdict: "fail", wantMethod: "mann-whitney exact",
			check: func(t *testing.T, out map[string]any) {
				near(t, "p", out["p"].(float64), 1.0/924, 1e-12) // one arrangement of C(12,6)
				near(t, "U", out["statistic"].(float64), 36, 0)
			}},
		{name: "same latency passes", test: "latency",
			idle: colourSample{[]float64{0.10, 0.12, 0.11, 0.09, 0.13}, 5000}, live: colourSample{[]float64{0.115, 0.105, 0.125, 0.095, 0.135}, 5000},
			wantVerdict: "pass", wantMethod: "mann-whitney exact"},
		{name: "too few datapoints is inconclusive", test: "latency",
			idle: colourSample{[]float64{0.9, 0.9}, 5000}, live: colourSample{[]float64{0.1, 0.1}, 5000}, wantVerdict: "inconclusive", wantMethod: "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			minRatio := tt.minRatio
			if minRatio == 0 {
				minRatio = 1
			}
			out := judge(tt.test, tt.idle, tt.live, 0.05, minRatio, 100, 5)
			if out["verdict"] != tt.wantVerdict || out["method"] != tt.wantMethod {
				t.Fatalf("verdict %v by %v, want %s by %s: %v", out["verdict"], out["method"], tt.wantVerdict, tt.wantMethod, out["reason"])
			}
			if tt.check != nil {
				tt.check(t, out)
			}
		})
	}
}

// TestMotoCompare publishes per-minute datapoints for both target groups
// into moto's CloudWatch, as the load balancer would, and reads them back
// through the step and the real SDK.
func TestMotoCompare(t *testing.T) {
	topo := moto(t, awstest.Options{SharedALB: true})
	ctx := context.Background()
	now := time.Now()
	put := func(colour, metric string, values ...float64) {
		t.Helper()
		for i, v := range values {
			if err := topo.PutTargetGroupMetric(ctx, colour, metric, v, now.Add(-time.Duration(i+1)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Six busy minutes on both colours; two error metrics (one equal, one
	// five times higher on green) and latency.
	put("green", "RequestCount", repeat(1000, 6)...)
	put("blue", "RequestCount", repeat(1000, 6)...)
	put("green", "Errors_Equal", repeat(10, 6)...)
	put("blue", "Errors_Equal", repeat(10, 6)...)
	put("green", "Errors_High", repeat(50, 6)...)
	put("blue", "Errors_High", repeat(10, 6)...)
	put("green", "TargetResponseTime", 0.50, 0.52, 0.49, 0.55, 0.51, 0.53)
	put("blue", "TargetResponseTime", 0.10, 0.12, 0.11, 0.09, 0.13, 0.105)

	base := map[string]any{
		"idle_target_group": topo.Stacks["green"].TargetGroup, "live_target_group": topo.Stacks["blue"].TargetGroup,
		"load_balancer": topo.LoadBalancer,
	}
	with := func(extra map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	out, _ := mustReal(t, "aws.cloudwatch.compare", with(map[string]any{"metric": "Errors_Equal"}))
	if out["verdict"] != "pass" || out["idle"].(map[string]any)["requests"] != 6000.0 || out["live"].(map[string]any)["value"] != 60.0 {
		t.Fatalf("equal rates: %v", out)
	}
	out, _ = mustReal(t, "aws.cloudwatch.compare", with(map[string]any{"metric": "Errors_High"}))
	if out["verdict"] != "fail" || out["ratio"] != 5.0 || out["p"].(float64) > 1e-10 {
		t.Fatalf("idle at 5x live: %v", out)
	}
	out, _ = mustReal(t, "aws.cloudwatch.compare", with(map[string]any{"test": "latency"}))
	if out["verdict"] != "fail" || out["method"] != "mann-whitney exact" || out["idle"].(map[string]any)["datapoints"] != 6 {
		t.Fatalf("slower idle: %v", out)
	}
	// Too few requests: the idle target group of a fresh topology has
	// served 40 requests.
	quiet := moto(t, awstest.Options{SharedALB: true})
	for i, v := range []float64{20, 20} {
		if err := quiet.PutTargetGroupMetric(ctx, "green", "RequestCount", v, now.Add(-time.Duration(i+1)*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := quiet.PutTargetGroupMetric(ctx, "green", "HTTPCode_Target_5XX_Count", 10, now.Add(-time.Duration(i+1)*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := quiet.PutTargetGroupMetric(ctx, "blue", "RequestCount", 1000, now.Add(-time.Duration(i+1)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	out, _ = mustReal(t, "aws.cloudwatch.compare", map[string]any{
		"idle_target_group": quiet.Stacks["green"].TargetGroup, "live_target_group": quiet.Stacks["blue"].TargetGroup, "load_balancer": quiet.LoadBalancer,
	})
	if out["verdict"] != "inconclusive" || out["p"] != 1.0 || out["idle"].(map[string]any)["requests"] != 40.0 {
		t.Fatalf("too few requests: %v", out)
	}
}
