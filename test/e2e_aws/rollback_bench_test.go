package e2e_aws

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
	"github.com/bluegreen-deploy/bluegreen/internal/engine"
)

// rollbackRuns is how many rolled-back releases one benchmark iteration
// makes: each needs a fresh topology and lasts a few seconds, so the
// median comes from several runs inside the iteration rather than from
// b.N, which the benchmark framework keeps at 1 for so slow an operation.
const rollbackRuns = 5

// rollbackPoll is the gate poll interval of the measured runs. The target
// (issue 14) is one poll interval plus one second from the failing poll's
// cause to traffic wholly back on the old colour.
const rollbackPoll = time.Second

// rollbackLatency is one rolled-back release's timings, all read from the
// engine's own events.
type rollbackLatency struct {
	// fromFailPoll runs from the gate evaluation whose verdict is fail to
	// the undo that put the last weights back (traffic 100 % on the old
	// colour: the undo step reads the weights back before it returns, and
	// for Route53 waits for INSYNC).
	fromFailPoll time.Duration
	// fromErrors runs from the moment the 5xx burst was written to
	// CloudWatch to that same undo: the detection delay (at most one poll)
	// included.
	fromErrors time.Duration
	// undos is how many weight changes were undone.
	undos int
}

// measureRollback runs book once on a fresh topology, writes a burst of
// target 5xx responses for the idle colour (as the e2e rollback tests do)
// delay after the second weight step has finished, so that the bake gate
// sees it at its next poll, and reads the rollback latency from the run's
// events.
func measureRollback(b *testing.B, book string, o awstest.Options, weightsKind string, delay time.Duration) rollbackLatency {
	b.Helper()
	w := newWorld(b, book, o)
	var (
		once     sync.Once
		mu       sync.Mutex
		shifts   int
		injected time.Time
	)
	w.onEvent = func(e engine.Event) {
		f, ok := e.(*engine.StepFinished)
		if !ok || f.Kind != weightsKind {
			return
		}
		mu.Lock()
		shifts++
		n := shifts
		mu.Unlock()
		if n == 2 {
			once.Do(func() {
				go func() {
					time.Sleep(delay)
					if err := w.topo.PutErrors(context.Background(), "green", 40); err != nil {
						b.Error(err)
					}
					mu.Lock()
					injected = time.Now()
					mu.Unlock()
				}()
			})
		}
	}
	_, err := w.run(map[string]string{"bake": "3s", "poll": rollbackPoll.String(), "error_threshold": "5", "weights": "[10, 50, 100]"})
	if err == nil || !strings.Contains(err.Error(), "sum > inputs.error_threshold") {
		w.dump()
		b.Fatalf("run error %v, want a rollback on the 5xx gate", err)
	}
	// Correctness, not timing: traffic is wholly back on blue.
	w.expect(map[string]int{"blue": 100, "green": 0}, nil)

	var failAt time.Time
	for _, g := range events[*engine.GateEvaluated](w) {
		if g.Verdict == engine.VerdictFail {
			failAt = g.Time
			break
		}
	}
	var lastUndo time.Time
	var undos int
	for _, u := range events[*engine.UndoApplied](w) {
		if u.Undo.Kind == weightsKind && u.Error == "" {
			lastUndo = u.Time
			undos++
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if failAt.IsZero() || lastUndo.IsZero() || injected.IsZero() {
		w.dump()
		b.Fatalf("events incomplete: failing poll %v, last weights undo %v, errors written %v", failAt, lastUndo, injected)
	}
	return rollbackLatency{fromFailPoll: lastUndo.Sub(failAt), fromErrors: lastUndo.Sub(injected.UTC()), undos: undos}
}

// benchmarkRollback reports the median rollback latency of rollbackRuns
// rolled-back releases. It never fails on a slow run: the figures are
// reported, not judged.
func benchmarkRollback(b *testing.B, book string, o awstest.Options, weightsKind string) {
	var fromFail, fromErr []time.Duration
	undos := 0
	for i := 0; i < b.N; i++ {
		for j := 0; j < rollbackRuns; j++ {
			// The burst lands at 0.1, 0.3, ... 0.9 of a poll interval
			// into the bake, so the runs cover the whole detection delay.
			delay := rollbackPoll * time.Duration(2*j+1) / time.Duration(2*rollbackRuns)
			l := measureRollback(b, book, o, weightsKind, delay)
			fromFail = append(fromFail, l.fromFailPoll)
			fromErr = append(fromErr, l.fromErrors)
			undos = l.undos
		}
	}
	b.ReportMetric(ms(median(fromFail)), "fail-poll-to-old-ms")
	b.ReportMetric(ms(median(fromErr)), "errors-to-old-ms")
	b.ReportMetric(ms(slices.Max(fromErr)), "errors-to-old-max-ms")
	b.ReportMetric(ms(rollbackPoll), "poll-ms")
	b.Logf("%s: %d rollbacks, %d weight undos each; fail poll to traffic on the old colour %v; 5xx written to traffic on the old colour %v",
		book, len(fromFail), undos, rounded(fromFail), rounded(fromErr))
}

func BenchmarkALBWeightedRollback(b *testing.B) {
	benchmarkRollback(b, "alb-weighted.yaml", awstest.Options{SharedALB: true}, "aws.elbv2.set-weights")
}

func BenchmarkWeightedDNSRollback(b *testing.B) {
	benchmarkRollback(b, "weighted-dns.yaml", awstest.Options{}, "aws.route53.set-weights")
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func rounded(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}
