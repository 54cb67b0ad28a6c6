package publish_test

import (
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus/octopustest"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/publish"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/templates"
	"github.com/bluegreen-deploy/bluegreen/steps"

	// Every provider, so that steps.Default holds every real step kind,
	// as in cmd/bluegreen.
	_ "github.com/bluegreen-deploy/bluegreen/steps/all"
)

// BenchmarkSyncAllTemplates syncs every step template (the registry as the
// CLI sees it) into an empty space, then again with nothing changed, and
// reports the time and the API calls of each, writes (non-GET requests)
// counted apart: an unchanged sync should write nothing. Connecting is
// not counted.
func BenchmarkSyncAllTemplates(b *testing.B) {
	gen := templates.Generate(steps.Default)
	var first, again time.Duration
	var firstCalls, firstWrites, againCalls, againWrites int
	writes := func(rs []octopustest.Request) int {
		n := 0
		for _, r := range rs {
			if r.Method != "GET" {
				n++
			}
		}
		return n
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		srv := octopustest.New(b)
		c := srv.Connect(b)
		b.StartTimer()
		for pass := 0; pass < 2; pass++ {
			before := len(srv.Requests())
			start := time.Now()
			if _, err := publish.Sync(c, gen, publish.SyncOptions{}); err != nil {
				b.Fatal(err)
			}
			took := time.Since(start)
			rs := srv.Requests()[before:]
			if pass == 0 {
				first, firstCalls, firstWrites = first+took, firstCalls+len(rs), firstWrites+writes(rs)
			} else {
				again, againCalls, againWrites = again+took, againCalls+len(rs), againWrites+writes(rs)
			}
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(len(gen)), "templates")
	b.ReportMetric(float64(first.Microseconds())/1000/n, "first-ms")
	b.ReportMetric(float64(firstCalls)/n, "first-calls")
	b.ReportMetric(float64(firstWrites)/n, "first-writes")
	b.ReportMetric(float64(again.Microseconds())/1000/n, "unchanged-ms")
	b.ReportMetric(float64(againCalls)/n, "unchanged-calls")
	b.ReportMetric(float64(againWrites)/n, "unchanged-writes")
}
