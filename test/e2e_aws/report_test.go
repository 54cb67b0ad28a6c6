package e2e_aws

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
	"github.com/bluegreen-deploy/bluegreen/internal/browsertest"
	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/report"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// sentinel is a sensitive input value that must appear nowhere in a report.
const sentinel = "s3ntinel-Secret-9f2c"

// reportWorld is an alb-weighted world whose runbook has a sensitive input
// and whose runs are recorded into HTML reports.
func reportWorld(t *testing.T) (*world, *string) {
	w := newWorld(t, "alb-weighted.yaml", awstest.Options{SharedALB: true})
	b, err := os.ReadFile(runbookPath("alb-weighted.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(b), "\ninputs:\n", "\ninputs:\n  api_token: {type: string, sensitive: true, required: false, description: A secret the report must mask.}\n", 1)
	w.path = filepath.Join(t.TempDir(), "alb-weighted.yaml")
	if err := os.WriteFile(w.path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	rb, err := engine.Load(w.path, steps.Default)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	written := new(string)
	in, err := rb.ResolveInputs(w.inputs(nil))
	if err != nil {
		t.Fatal(err)
	}
	// The application's state key, under which the executor keeps the run.
	if w.key, _, err = rb.StateKey(in); err != nil {
		t.Fatal(err)
	}
	rec := &report.Recorder{Store: w.store, Key: w.key, Runbook: rb,
		Dir:     func(string) string { return dir },
		Written: func(p string) { *written = p },
		Failed:  func(err error) { t.Errorf("recorder: %v", err) },
	}
	w.sinks = append(w.sinks, rec.Sink())
	return w, written
}

type seriesDOM struct {
	Colour string     `json:"colour"`
	Points []pointDOM `json:"points"`
}

type pointDOM struct {
	Weight float64 `json:"w"`
	Source string  `json:"s"`
}

const seriesJS = `Array.from(document.querySelectorAll('#traffic g.series')).map(g => ({colour: g.dataset.colour,
	points: Array.from(g.querySelectorAll('circle.point')).map(c => ({w: Number(c.dataset.weight), s: c.dataset.source}))}))`

// wantSeries is what the run set, by colour: detect's weights, each
// set-weights step's weights as AWS held them, each undo's restored ones.
func wantSeries(w *world) map[string][]pointDOM {
	colourOf := map[string]string{}
	for c, s := range w.topo.Stacks {
		colourOf[s.TargetGroup] = c
	}
	want := map[string][]pointDOM{}
	add := func(weights map[string]any, source string) {
		for arn, c := range colourOf {
			n, _ := weights[arn].(int)
			if f, ok := weights[arn].(float64); ok {
				n = int(f)
			}
			want[c] = append(want[c], pointDOM{Weight: float64(n), Source: source})
		}
	}
	add(map[string]any{w.topo.Stacks["blue"].TargetGroup: 100}, "detect")
	for _, e := range events[*engine.StepFinished](w) {
		if e.Kind == "aws.elbv2.set-weights" {
			add(e.Outputs["weights"].(map[string]any), "step")
		}
	}
	for _, e := range events[*engine.UndoApplied](w) {
		if e.Undo.Kind == "aws.elbv2.set-weights" {
			add(e.Undo.Params["weights"].(map[string]any), "undo")
		}
	}
	return want
}

// checkReport opens a run's report in Chromium and checks what every
// report must hold; it returns the page for run-specific checks.
func checkReport(t *testing.T, w *world, path string) *browsertest.Page {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(sentinel)) {
		t.Fatal("the report file holds the sensitive input's value")
	}
	// The store keeps what it takes to render the report again, identically.
	runID := strings.TrimSuffix(filepath.Base(path), ".html")
	tl, err := report.Load(context.Background(), w.store, w.key, runID)
	if err != nil || tl == nil {
		t.Fatalf("timeline of %s: %v (nil: %v)", runID, err, tl == nil)
	}
	var again bytes.Buffer
	if err := report.Render(&again, tl); err != nil {
		t.Fatal(err)
	}
	if enc, err := tl.Encode(); err == nil {
		t.Logf("run %s: %d events, timeline %d bytes stored (gzipped), report %d bytes", runID, len(tl.Events), len(enc), len(raw))
	}
	if !bytes.Equal(again.Bytes(), raw) {
		t.Error("the report rendered again from the store differs from the one the run wrote")
	}
	page := browsertest.Open(t, "file://"+path)
	if errs := page.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
	var dom string
	page.Eval(t, `document.documentElement.outerHTML`, &dom)
	if strings.Contains(dom, sentinel) {
		t.Error("the DOM holds the sensitive input's value")
	}
	var masked string
	page.Eval(t, `Array.from(document.querySelectorAll('#inputs tr')).filter(r => r.querySelector('th').textContent === 'api_token').map(r => r.querySelector('td').textContent).join()`, &masked)
	if masked != steps.Redaction {
		t.Errorf("api_token shown as %q, want %q", masked, steps.Redaction)
	}
	var got []seriesDOM
	page.Eval(t, seriesJS, &got)
	want := wantSeries(w)
	if len(got) != 2 || len(want) != 2 {
		t.Fatalf("series %+v, want one per colour (blue, green)", got)
	}
	for _, s := range got {
		if !reflect.DeepEqual(s.Points, want[s.Colour]) {
			t.Errorf("series %s: points %+v, want %+v", s.Colour, s.Points, want[s.Colour])
		}
	}
	if dir := os.Getenv("BLUEGREEN_REPORT_SCREENSHOTS"); dir != "" {
		page.Screenshot(t, filepath.Join(dir, t.Name()+".png"))
		_ = os.WriteFile(filepath.Join(dir, t.Name()+".html"), raw, 0o644)
	}
	return page
}

func TestReportOfASwapInChromium(t *testing.T) {
	w, written := reportWorld(t)
	w.mustSucceed(map[string]string{"api_token": sentinel}, "green")
	if *written == "" {
		t.Fatal("no report written")
	}
	page := checkReport(t, w, *written)
	var status, final string
	page.Eval(t, `document.getElementById('status').textContent`, &status)
	page.Eval(t, `document.getElementById('final').textContent`, &final)
	if status != "succeeded" || !strings.Contains(final, "green 100%") || !strings.Contains(final, "blue 0%") {
		t.Errorf("status %q, final %q", status, final)
	}
	var rollbacks, polls int
	page.Eval(t, `document.querySelectorAll('rect.rollback').length`, &rollbacks)
	page.Eval(t, `document.querySelectorAll('#polls circle').length`, &polls)
	gates := len(events[*engine.GateEvaluated](w))
	if rollbacks != 0 || polls != gates {
		t.Errorf("%d rollback bands (want 0), %d gate polls drawn for %d evaluated", rollbacks, polls, gates)
	}
}

func TestReportOfARolledBackRunInChromium(t *testing.T) {
	w, written := reportWorld(t)
	var once sync.Once
	w.onEvent = func(e engine.Event) {
		if f, ok := e.(*engine.StepFinished); ok && f.Kind == "aws.elbv2.set-weights" {
			once.Do(func() {
				if err := w.topo.PutErrors(context.Background(), "green", 6); err != nil {
					t.Error(err)
				}
			})
		}
	}
	w.mustRollBack(map[string]string{"bake": "2s", "error_threshold": "5", "api_token": sentinel}, "sum > inputs.error_threshold")
	page := checkReport(t, w, *written)
	var status, expr, values string
	var rollbacks, fails int
	page.Eval(t, `document.getElementById('status').textContent`, &status)
	page.Eval(t, `document.getElementById('failure-expression').textContent`, &expr)
	page.Eval(t, `document.getElementById('failure-values').textContent`, &values)
	page.Eval(t, `document.querySelectorAll('rect.rollback').length`, &rollbacks)
	page.Eval(t, `document.querySelectorAll('#polls circle[data-verdict=fail]').length`, &fails)
	if status != "rolled-back" || expr != "sum > inputs.error_threshold" || !strings.Contains(values, "sum6") {
		t.Errorf("status %q, failure expression %q, values %q", status, expr, values)
	}
	if rollbacks != 1 || fails != 1 {
		t.Errorf("%d rollback bands and %d failed polls, want 1 and 1", rollbacks, fails)
	}
	var journal string
	page.Eval(t, `document.getElementById('journal').textContent`, &journal)
	if !strings.Contains(journal, "undone") {
		t.Errorf("journal does not show the undos' outcome: %q", journal)
	}
}
