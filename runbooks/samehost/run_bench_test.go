package samehost

import (
	"context"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/benchrun"
)

// benchDrain is the drain the full-run benchmark configures: the only
// pause in the same-host runbook, made negligible.
const benchDrain = time.Millisecond

// BenchmarkSameHostRun runs the whole same-host runbook (nginx switch,
// every phase in one go) per iteration on a fresh host (real nginx, two
// copies of the test app, blue live) with the real binary as a child
// process, and reports its wall time, the time outside configured waits
// (the drain and the gates' waiting for the new copy to listen and answer,
// from the run's log), its peak resident set and its API calls: none, as
// the runbook touches only the host. The copies it starts and stops are
// separate processes and not in the binary's peak memory.
func BenchmarkSameHostRun(b *testing.B) {
	bin := benchrun.Binary(b)
	var tot benchrun.Totals
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		h := newHost(b, "nginx")
		in := h.inputs()
		in["drain"] = benchDrain.String()
		b.StartTimer()
		r, err := benchrun.Run(context.Background(), bin, "../same-host.yaml", b.TempDir(), in)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		h.assertLive("green")
		tot.Add(r, benchDrain, nil)
		b.StartTimer()
	}
	tot.Report(b)
}
