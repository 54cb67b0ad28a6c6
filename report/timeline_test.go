package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
)

// syntheticTimeline is a run that shifted weights in steps and baked each
// with a gate that polled polls times, then failed and rolled back.
func syntheticTimeline(tb testing.TB, polls int) *Timeline {
	tb.Helper()
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	at := t0
	tick := func() engine.Base {
		at = at.Add(time.Second)
		return engine.Base{Time: at, RunID: "20260101T120000Z-0a1b2c3d"}
	}
	tl := &Timeline{Version: Version, RunID: "20260101T120000Z-0a1b2c3d", Runbook: "synthetic", Colours: []string{"blue", "green"}}
	add := func(e engine.Event) {
		if err := tl.Add(e); err != nil {
			tb.Fatal(err)
		}
	}
	add(&engine.RunStarted{Base: tick(), Runbook: "synthetic", Mode: "run", Live: "blue", Idle: "green", Inputs: map[string]any{"bake": 2 * time.Minute}})
	add(&engine.TrafficChanged{Base: tick(), Source: engine.TrafficDetect, Kind: "aws.elbv2.get-weights", Weights: map[string]float64{"blue": 100, "green": 0}, Shares: map[string]float64{"blue": 100, "green": 0}})
	for i, pct := range []float64{10, 50} {
		path := fmt.Sprintf("shift[%d]/weights", i)
		add(&engine.StepStarted{Base: tick(), Path: path, Kind: "aws.elbv2.set-weights", Params: map[string]any{"poll": 5 * time.Second}})
		add(&engine.StepFinished{Base: tick(), Path: path, Kind: "aws.elbv2.set-weights"})
		add(&engine.TrafficChanged{Base: tick(), Path: path, Source: engine.TrafficStep, Weights: map[string]float64{"blue": 100 - pct, "green": pct}, Shares: map[string]float64{"blue": 100 - pct, "green": pct}})
		bake := fmt.Sprintf("shift[%d]/bake", i)
		add(&engine.StepStarted{Base: tick(), Path: bake, Kind: "aws.cloudwatch.metric"})
		for a := 1; a <= polls; a++ {
			add(&engine.GateEvaluated{Base: tick(), Path: bake, Attempt: a, Verdict: engine.VerdictWait, Values: map[string]any{"sum": 0.0}, Expression: "sum > 5"})
		}
		if i == 1 {
			add(&engine.GateEvaluated{Base: tick(), Path: bake, Attempt: polls + 1, Verdict: engine.VerdictFail, Values: map[string]any{"sum": 9.0}, Expression: "sum > 5"})
			add(&engine.StepFailed{Base: tick(), Path: bake, Kind: "aws.cloudwatch.metric", Error: "gate failed: sum > 5 (sum=9)"})
		} else {
			add(&engine.StepFinished{Base: tick(), Path: bake})
		}
	}
	add(&engine.Message{Base: tick(), Level: "warn", Text: "rolling back: gate failed"})
	add(&engine.TrafficChanged{Base: tick(), Path: "shift[1]/weights", Source: engine.TrafficUndo, Weights: map[string]float64{"blue": 100, "green": 0}, Shares: map[string]float64{"blue": 100, "green": 0}})
	add(&engine.UndoApplied{Base: tick(), Seq: 1, Path: "shift[1]/weights"})
	add(&engine.RunFinished{Base: tick(), Status: "rolled-back", Live: "blue", Error: "gate failed"})
	return tl
}

func TestTimelineRoundTripKeepsWhatTheReportShows(t *testing.T) {
	tl := syntheticTimeline(t, 3)
	b, err := tl.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	var a, c bytes.Buffer
	if err := Render(&a, tl); err != nil {
		t.Fatal(err)
	}
	if err := Render(&c, back); err != nil {
		t.Fatal(err)
	}
	if a.String() != c.String() {
		t.Error("the report of a decoded timeline differs from the original's")
	}
	// Durations are kept as text, not nanoseconds.
	if !strings.Contains(a.String(), "poll=5s") || strings.Contains(a.String(), "5000000000") {
		t.Error("a duration param is not shown as a duration")
	}
	for _, want := range []string{`id="failure-expression">sum &gt; 5<`, `class="rollback"`, `data-verdict="fail"`, "blue 100%"} {
		if !strings.Contains(a.String(), want) {
			t.Errorf("report lacks %s", want)
		}
	}
}

func TestDecodeRefusesANewerFormat(t *testing.T) {
	tl := syntheticTimeline(t, 1)
	tl.Version = Version + 1
	b, _ := tl.Encode()
	if _, err := Decode(b); err == nil || !strings.Contains(err.Error(), "upgrade") {
		t.Fatalf("decode of a newer format: %v", err)
	}
}

func TestFitDropsOnlyWaitPolls(t *testing.T) {
	tl := syntheticTimeline(t, 20000)
	full, _ := tl.Encode()
	b, err := tl.Fit(len(full) / 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > len(full)/3 || tl.Dropped == 0 {
		t.Fatalf("fitted to %d bytes (limit %d), %d dropped", len(b), len(full)/3, tl.Dropped)
	}
	var html bytes.Buffer
	if err := Render(&html, tl); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`data-verdict="fail"`, "gate polls that only said", `data-source="undo"`} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("fitted report lacks %s", want)
		}
	}
}

// BenchmarkRender renders the report of a run with 2 bakes of 500 polls
// each (about 1,000 events).
func BenchmarkRender(b *testing.B) {
	tl := syntheticTimeline(b, 500)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := Render(&buf, tl); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "html-bytes")
	enc, _ := tl.Encode()
	b.ReportMetric(float64(len(enc)), "stored-bytes")
}
