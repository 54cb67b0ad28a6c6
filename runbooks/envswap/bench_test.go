package envswap

import (
	"context"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
	"github.com/bluegreen-deploy/bluegreen/internal/benchrun"
)

// BenchmarkEnvSwapRun runs the whole env-swap runbook (prepare, promote
// and cleanup in one go) per iteration on a fresh world (moto, two
// databases on the real PostgreSQL server, octopustest) with the real
// binary as a child process, and reports its wall time, the time outside
// configured waits (its gates' waiting, from the run's log; the runbook
// has no pause), its peak resident set and its AWS and Octopus API calls
// by operation. The world's gates pass at their first poll, as the
// stacks are healthy and the databases reach parity at the first sync.
func BenchmarkEnvSwapRun(b *testing.B) {
	bin := benchrun.Binary(b)
	_, cnt := awstest.Shared(b)
	var tot benchrun.Totals
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		w := newWorld(b)
		seen := len(w.oct.Requests())
		cnt.Reset()
		b.StartTimer()
		r, err := benchrun.Run(context.Background(), bin, "../env-swap.yaml", b.TempDir(), w.inputs)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		// The release happened: production answers from green, whose
		// database now takes writes.
		w.assertDNS("green")
		w.assertWritable("green", true)
		calls := cnt.Counts()
		for k, v := range benchrun.OctopusCalls(w.oct.Requests()[seen:]) {
			calls[k] = v
		}
		tot.Add(r, 0, calls)
		b.StartTimer()
	}
	tot.Report(b)
}
