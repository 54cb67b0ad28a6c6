package benchrun

import (
	"maps"
	"slices"
	"testing"
	"time"
)

// Totals gathers the measurements of a benchmark's runs.
type Totals struct {
	runs     int
	wall     time.Duration
	busy     time.Duration
	maxRSS   int64
	calls    map[string]int
	lastCall map[string]int
}

// Add records one run: its result, the waits its inputs configure outside
// gates (pauses such as a drain or a scale-down delay), and the API calls
// it made by "service:Operation".
func (t *Totals) Add(r Result, paused time.Duration, calls map[string]int) {
	t.runs++
	t.wall += r.Wall
	t.busy += r.Wall - r.GateWait - paused
	t.maxRSS = max(t.maxRSS, r.MaxRSS)
	if t.calls == nil {
		t.calls = map[string]int{}
	}
	for k, v := range calls {
		t.calls[k] += v
	}
	t.lastCall = calls
}

// Report reports, per run: the child's wall time (wall-ms/op), the time
// outside configured waits (non-wait-ms/op), the peak resident set of any
// run (peak-rss-MiB), the API calls (api-calls/op) and each operation's
// calls as "calls:service:Operation/op", which scripts/bench turns into
// the per-call tables of docs/bench/results.md.
func (t *Totals) Report(b *testing.B) {
	if t.runs == 0 {
		return
	}
	n := float64(t.runs)
	b.ReportMetric(float64(t.wall.Microseconds())/1e3/n, "wall-ms/op")
	b.ReportMetric(float64(t.busy.Microseconds())/1e3/n, "non-wait-ms/op")
	b.ReportMetric(float64(t.maxRSS)/(1<<20), "peak-rss-MiB")
	total := 0
	for _, k := range slices.Sorted(maps.Keys(t.calls)) {
		total += t.calls[k]
		b.ReportMetric(float64(t.calls[k])/n, "calls:"+k+"/op")
	}
	b.ReportMetric(float64(total)/n, "api-calls/op")
}
