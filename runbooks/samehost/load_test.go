package samehost

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadGen keeps requests flowing to one URL from several workers, the way
// browsers behind a proxy do: each worker keeps its connection alive, and
// a GET sent on a kept-alive connection that the server has just closed is
// sent again on a new one. net/http's Transport does exactly that for
// idempotent requests (it retries when a reused connection fails before any
// response byte arrives), so no retry is added here; any error it returns
// is a request a user would have seen fail.
type loadGen struct {
	url     string
	client  *http.Client
	phase   atomic.Value // string
	sent    atomic.Int64
	failed  atomic.Int64
	stop    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	lat     map[string][]time.Duration
	colours map[string]int
	errs    []string
	// observe, when set, sees the colour of every successful response as
	// it arrives (under mu, so it must be quick).
	observe func(colour string, at time.Time)
}

func newLoadGen(url string, workers int) *loadGen {
	tr := &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        workers,
		MaxIdleConnsPerHost: workers,
		IdleConnTimeout:     90 * time.Second,
	}
	g := &loadGen{
		url:     url,
		client:  &http.Client{Transport: tr, Timeout: 10 * time.Second},
		stop:    make(chan struct{}),
		lat:     map[string][]time.Duration{},
		colours: map[string]int{},
	}
	g.phase.Store("before")
	for i := 0; i < workers; i++ {
		g.wg.Add(1)
		go g.work()
	}
	return g
}

func (g *loadGen) setPhase(p string) { g.phase.Store(p) }

// setObserve installs f to see every successful response's colour.
func (g *loadGen) setObserve(f func(colour string, at time.Time)) {
	g.mu.Lock()
	g.observe = f
	g.mu.Unlock()
}

func (g *loadGen) work() {
	defer g.wg.Done()
	for {
		select {
		case <-g.stop:
			return
		default:
		}
		phase := g.phase.Load().(string)
		start := time.Now()
		body, err := g.get()
		d := time.Since(start)
		g.sent.Add(1)
		g.mu.Lock()
		g.lat[phase] = append(g.lat[phase], d)
		if err != nil {
			g.failed.Add(1)
			if len(g.errs) < 10 {
				g.errs = append(g.errs, fmt.Sprintf("%s: %v", phase, err))
			}
		} else {
			colour := strings.TrimPrefix(strings.TrimSpace(body), "colour=")
			g.colours[colour]++
			if g.observe != nil {
				g.observe(colour, start.Add(d))
			}
		}
		g.mu.Unlock()
	}
}

// get sends one request; a status other than 200 or a body that is not a
// colour is a failure just as a transport error is.
func (g *loadGen) get() (string, error) {
	resp, err := g.client.Get(g.url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("read body: %w", err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(b), "colour=") {
		return "", fmt.Errorf("status %d, body %.80q", resp.StatusCode, b)
	}
	return string(b), nil
}

// finish stops the workers and returns the figures.
func (g *loadGen) finish() loadReport {
	close(g.stop)
	g.wg.Wait()
	g.client.CloseIdleConnections()
	g.mu.Lock()
	defer g.mu.Unlock()
	r := loadReport{Sent: g.sent.Load(), Failed: g.failed.Load(), Errors: g.errs, Colours: g.colours, Phases: map[string]phaseStats{}}
	for p, ds := range g.lat {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		r.Phases[p] = phaseStats{N: len(ds), P50: pct(ds, 0.50), P99: pct(ds, 0.99), Max: ds[len(ds)-1]}
	}
	return r
}

type phaseStats struct {
	N             int
	P50, P99, Max time.Duration
}

type loadReport struct {
	Sent, Failed int64
	Errors       []string
	Colours      map[string]int
	Phases       map[string]phaseStats
}

func (r loadReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "requests sent %d, failed %d, served by %v", r.Sent, r.Failed, r.Colours)
	for _, p := range []string{"before", "during"} {
		if s, ok := r.Phases[p]; ok {
			fmt.Fprintf(&b, "; %s switches: n=%d p50=%s p99=%s max=%s", p, s.N, round(s.P50), round(s.P99), round(s.Max))
		}
	}
	return b.String()
}

func pct(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q * float64(len(sorted)-1))
	return sorted[i]
}

func round(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
