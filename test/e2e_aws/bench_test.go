package e2e_aws

import (
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
)

// benchTimings make the configured waiting negligible, so that the time
// measured is the runbook's own: engine, SDK and moto round trips.
var benchTimings = map[string]string{"bake": "1ms", "poll": "1ms", "scale_down_delay": "1ms", "weights": "[10, 50, 100]"}

// configuredWait is what benchTimings make the run wait on purpose: one
// bake per weight and the scale-down delay.
const configuredWait = 4 * time.Millisecond

// benchmarkRun runs a full release per iteration on a fresh topology and
// reports the AWS API calls one run makes (counted by the proxy in front of
// moto, SDK retries included) and its wall time without configured waits.
func benchmarkRun(b *testing.B, book string, o awstest.Options) {
	var calls, runs int
	var busy time.Duration
	var last string
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		w := newWorld(b, book, o)
		w.cnt.Reset()
		b.StartTimer()
		start := time.Now()
		if _, err := w.run(benchTimings); err != nil {
			b.Fatal(err)
		}
		busy += time.Since(start) - configuredWait
		calls += w.cnt.Total()
		runs++
		last = w.cnt.String()
	}
	b.ReportMetric(float64(calls)/float64(runs), "api-calls/op")
	b.ReportMetric(float64(busy.Milliseconds())/float64(runs), "non-wait-ms/op")
	b.Logf("AWS API calls of one %s run:\n%s", book, last)
}

func BenchmarkWeightedDNSRun(b *testing.B) {
	benchmarkRun(b, "weighted-dns.yaml", awstest.Options{})
}

func BenchmarkALBWeightedRun(b *testing.B) {
	benchmarkRun(b, "alb-weighted.yaml", awstest.Options{SharedALB: true})
}
