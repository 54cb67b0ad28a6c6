package e2e_aws

import (
	"context"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
	"github.com/bluegreen-deploy/bluegreen/internal/benchrun"
)

// benchTimings make the configured waiting negligible, so that the time
// measured is the runbook's own: engine, SDK and moto round trips.
var benchTimings = map[string]string{"bake": "1ms", "poll": "1ms", "scale_down_delay": "1ms", "weights": "[10, 50, 100]"}

// configuredPause is what benchTimings make the run wait outside gates:
// the scale-down delay. The bakes are gates (elapsed >= bake), counted
// from the run's log with every other gate's waiting.
const configuredPause = time.Millisecond

// benchmarkRun runs a full release per iteration on a fresh topology with
// the real binary as a child process (`bluegreen run`, as Octopus runs
// it), and reports its wall time, the time outside configured waits, its
// peak resident set and the AWS API calls of one run by operation
// (counted by the proxy in front of moto, SDK retries included).
func benchmarkRun(b *testing.B, book string, o awstest.Options) {
	bin := benchrun.Binary(b)
	var tot benchrun.Totals
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		w := newWorld(b, book, o)
		in := map[string]any{}
		for k, v := range w.inputs(benchTimings) {
			in[k] = v
		}
		w.cnt.Reset()
		b.StartTimer()
		r, err := benchrun.Run(context.Background(), bin, runbookPath(book), b.TempDir(), in)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		tot.Add(r, configuredPause, w.cnt.Counts())
		b.StartTimer()
	}
	tot.Report(b)
}

func BenchmarkWeightedDNSRun(b *testing.B) {
	benchmarkRun(b, "weighted-dns.yaml", awstest.Options{})
}

func BenchmarkALBWeightedRun(b *testing.B) {
	benchmarkRun(b, "alb-weighted.yaml", awstest.Options{SharedALB: true})
}
