package report

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

//go:embed report.html.tmpl
var files embed.FS

var page = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
	"f1":  func(f float64) string { return fmt.Sprintf("%.1f", f) },
	"pct": pct,
	"num": func(f float64) string { return steps.FormatValue(f) },
}).ParseFS(files, "report.html.tmpl"))

// Render writes the timeline's report as one self-contained HTML page.
func Render(w io.Writer, t *Timeline) error {
	v, err := build(t)
	if err != nil {
		return err
	}
	return page.Execute(w, v)
}

func typeName(e engine.Event) string { return reflect.TypeOf(e).Elem().Name() }

// describe says in one line what an event means.
func describe(e engine.Event) string {
	switch ev := e.(type) {
	case *engine.RunStarted:
		s := fmt.Sprintf("%s of %s: live %s, idle %s", ev.Mode, ev.Runbook, ev.Live, ev.Idle)
		if ev.Phase != "" {
			s += ", phase " + ev.Phase
		}
		return s
	case *engine.StepStarted:
		return fmt.Sprintf("%s (%s) started", ev.Path, ev.Kind)
	case *engine.StepSkipped:
		return fmt.Sprintf("%s skipped: %s", ev.Path, ev.Reason)
	case *engine.StepFinished:
		return fmt.Sprintf("%s finished in %s", ev.Path, ev.Duration.Round(time.Millisecond))
	case *engine.StepFailed:
		return fmt.Sprintf("%s failed: %s", ev.Path, ev.Error)
	case *engine.GateEvaluated:
		parts := []string{}
		for _, p := range sortedKV(ev.Values) {
			parts = append(parts, p.Key+"="+p.Value)
		}
		s := fmt.Sprintf("%s poll %d: %s %s", ev.Path, ev.Attempt, ev.Verdict, strings.Join(parts, ", "))
		if ev.Error != "" {
			s += ": " + ev.Error
		}
		return s
	case *engine.ChangeRecorded:
		return fmt.Sprintf("undo %d journaled for %s: %s", ev.Seq, ev.Path, ev.Undo.Note)
	case *engine.ChangeApplied:
		return fmt.Sprintf("%s changed", ev.Path)
	case *engine.UndoApplied:
		if ev.Error != "" {
			return fmt.Sprintf("undo %d of %s failed: %s", ev.Seq, ev.Path, ev.Error)
		}
		return fmt.Sprintf("undo %d of %s applied (%s)", ev.Seq, ev.Path, ev.Undo.Note)
	case *engine.Message:
		return ev.Level + ": " + ev.Text
	case *engine.TrafficChanged:
		parts := []string{}
		for _, p := range sortedKV(toAny(ev.Shares)) {
			parts = append(parts, p.Key+" "+p.Value+"%")
		}
		return fmt.Sprintf("traffic after %s %s: %s", ev.Source, ev.Path, strings.Join(parts, ", "))
	case *engine.RunFinished:
		s := fmt.Sprintf("%s, live %s, after %s", ev.Status, ev.Live, ev.Duration.Round(time.Millisecond))
		if ev.Error != "" {
			s += ": " + ev.Error
		}
		return s
	}
	return ""
}

func toAny(m map[string]float64) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = fmt.Sprintf("%.1f", v)
	}
	return out
}
