package main

import (
	"fmt"
	"io"
)

// rollbackAndLoadTables reports, from the Go benchmarks, how fast a failing
// bake puts traffic back on the old colour (test/e2e_aws on moto) and what
// 16 keep-alive connections see while the same-host runbook switches
// copies behind real nginx (runbooks/samehost).
func rollbackAndLoadTables(w io.Writer, gb goBench) {
	var rows []string
	for _, n := range []struct{ bench, label string }{
		{"BenchmarkALBWeightedRollback", "alb-weighted (ALB listener weights)"},
		{"BenchmarkWeightedDNSRollback", "weighted-dns (Route53 weights, INSYNC awaited)"},
	} {
		r := gb[n.bench]
		if r == nil {
			continue
		}
		rows = append(rows, fmt.Sprintf("| %s | %.0f ms | %.0f ms | %.0f ms | %.0f ms | %.0f ms |", n.label,
			r["poll-ms"], r["fail-poll-to-old-ms"], r["errors-to-old-ms"], r["errors-to-old-max-ms"], r["poll-ms"]+1000))
	}
	if len(rows) > 0 {
		fmt.Fprintln(w, "### Rollback latency (from `go test ./test/e2e_aws -bench Rollback`, on moto)")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "A 5xx burst is written to CloudWatch during the bake of the second weight (10 %, 50 %, 100 %), at 0.1, 0.3, ... 0.9 of a poll "+
			"interval into it, in 5 runs; times come from the run's events (the failing gate poll, the undo that restored the last weights) "+
			"and are medians of the 5 runs unless marked max.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| runbook | poll | failing poll to traffic 100 % old | 5xx written to traffic 100 % old | same, max | target (poll + 1 s) |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|")
		for _, r := range rows {
			fmt.Fprintln(w, r)
		}
		fmt.Fprintln(w)
	}
	if r := gb["BenchmarkSwitchUnderLoad"]; r != nil {
		fmt.Fprintf(w, "### Same-host switch under load (from `go test ./runbooks/samehost -bench SwitchUnderLoad`: real nginx, 16 keep-alive connections, %.0f switches)\n\n", r["switches"])
		fmt.Fprintln(w, "| requests | failed | p50 before | p99 before | p50 during | p99 during | switch start to first response from the new copy (median / max) |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
		fmt.Fprintf(w, "| %.0f | %.0f | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.0f ms / %.0f ms |\n\n", r["requests"], r["failed"],
			r["before-p50-ms"], r["before-p99-ms"], r["during-p50-ms"], r["during-p99-ms"], r["switch-to-new-p50-ms"], r["switch-to-new-max-ms"])
	}
}
