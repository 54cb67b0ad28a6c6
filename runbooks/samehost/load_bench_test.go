package samehost

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
)

// loadBenchWorkers is the keep-alive client's connection count (issue 14,
// item 5).
const loadBenchWorkers = 16

// switchWatch records, for each release, when its switch step started and
// when the load generator first got a response from the copy it switched
// to.
type switchWatch struct {
	mu      sync.Mutex
	want    string    // the colour the running switch moves traffic to
	started time.Time // when that switch step started
	first   bool      // whether a response from want has arrived since
	delays  []time.Duration
}

// event arms the watch when the nginx switch step starts.
func (s *switchWatch) event(e engine.Event, want string) {
	st, ok := e.(*engine.StepStarted)
	if !ok || st.ID != "switch-nginx" {
		return
	}
	s.mu.Lock()
	s.want, s.started, s.first = want, time.Now(), false
	s.mu.Unlock()
}

// response records the first response from the new copy after a switch
// started.
func (s *switchWatch) response(colour string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.want == "" || s.first || colour != s.want || at.Before(s.started) {
		return
	}
	s.first = true
	s.delays = append(s.delays, at.Sub(s.started))
}

// BenchmarkSwitchUnderLoad is TestSwitchUnderLoad's nginx case as a
// measurement: 16 keep-alive connections through real nginx while the
// runbook switches the copies (20 times, or SAMEHOST_SWITCHES), reporting
// requests, failures, p50/p99 latency before and during the switches and
// the time from each switch step's start to the first response from the
// copy it switched to. Failed requests fail the benchmark, since a failed
// request is a wrong result, not noise; no time is judged.
func BenchmarkSwitchUnderLoad(b *testing.B) {
	for i := 0; i < b.N; i++ {
		h := newHost(b, "nginx")
		load := newLoadGen(h.publicURL, loadBenchWorkers)
		w := &switchWatch{}
		load.setObserve(w.response)
		// A baseline before any switch, for the latency comparison.
		time.Sleep(2 * time.Second)
		load.setPhase("during")
		live, n := "blue", switches(b)
		for j := 0; j < n; j++ {
			next := map[string]string{"blue": "green", "green": "blue"}[live]
			h.onEvent = func(e engine.Event) { w.event(e, next) }
			res, err := h.release(b.Context())
			if err != nil {
				load.finish()
				b.Fatalf("release %d (from %s): %v\n%s", j+1, live, err, h.events)
			}
			if res.Live != next {
				load.finish()
				b.Fatalf("release %d: live = %s, want %s", j+1, res.Live, next)
			}
			live = next
		}
		r := load.finish()
		h.assertLive(live)
		if r.Failed != 0 {
			b.Errorf("%d of %d requests failed; first errors: %v", r.Failed, r.Sent, r.Errors)
		}
		w.mu.Lock()
		delays := slices.Clone(w.delays)
		w.mu.Unlock()
		if len(delays) != n {
			b.Fatalf("saw the new copy answer after %d of %d switches", len(delays), n)
		}
		slices.Sort(delays)
		before, during := r.Phases["before"], r.Phases["during"]
		b.ReportMetric(float64(r.Sent), "requests")
		b.ReportMetric(float64(r.Failed), "failed")
		b.ReportMetric(float64(n), "switches")
		b.ReportMetric(msf(before.P50), "before-p50-ms")
		b.ReportMetric(msf(before.P99), "before-p99-ms")
		b.ReportMetric(msf(during.P50), "during-p50-ms")
		b.ReportMetric(msf(during.P99), "during-p99-ms")
		b.ReportMetric(msf(pct(delays, 0.5)), "switch-to-new-p50-ms")
		b.ReportMetric(msf(delays[len(delays)-1]), "switch-to-new-max-ms")
		b.Logf("same-host nginx, %d connections, %d switches: %s; switch step start to first response from the new copy: min %s median %s max %s",
			loadBenchWorkers, n, r, round(delays[0]), round(pct(delays, 0.5)), round(delays[len(delays)-1]))
	}
}

func msf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
