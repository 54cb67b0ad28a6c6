package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// build turns a timeline into what the template draws.
func build(t *Timeline) (*view, error) {
	evs, err := t.Decoded()
	if err != nil {
		return nil, err
	}
	v := &view{RunID: t.RunID, Runbook: t.Runbook, Dropped: t.Dropped}
	if len(evs) == 0 {
		v.Status = "no events"
		return v, nil
	}
	t0, t1 := evs[0].Common().Time, evs[len(evs)-1].Common().Time
	if !t1.After(t0) {
		t1 = t0.Add(time.Second)
	}
	c := &v.Chart
	c.W, c.PlotL, c.PlotTop, c.PlotH = chartW, plotL, plotTop, plotH
	c.PlotW = chartW - plotL - plotR
	c.PlotBottom = plotTop + plotH
	c.FinalX = plotL + c.PlotW
	x := func(at time.Time) float64 {
		return plotL + float64(at.Sub(t0))/float64(t1.Sub(t0))*c.PlotW
	}
	y := func(share float64) float64 { return plotTop + plotH - share/100*plotH }
	// Times are shown relative to the start, rounded to what the run's
	// length makes meaningful.
	unit := time.Millisecond
	for _, u := range []time.Duration{10 * time.Millisecond, 100 * time.Millisecond, time.Second} {
		if t1.Sub(t0) >= 200*u {
			unit = u
		}
	}
	rel := func(at time.Time) string { return "+" + at.Sub(t0).Round(unit).String() }
	v.Started = t0.UTC().Format(time.RFC3339)
	v.Duration = t1.Sub(t0).Round(unit).String()

	// Series: one per colour (and per traffic key that names no colour).
	names := append([]string(nil), t.Colours...)
	pts := map[string][]point{}
	addName := func(n string) {
		for _, have := range names {
			if have == n {
				return
			}
		}
		names = append(names, n)
	}
	seenTraffic := false
	spanRow := map[string]int{}
	var spans []*span
	open := map[string]*span{}
	var rbStart *time.Time
	var lastFailed *engine.StepFailed
	gates := map[string]*engine.GateEvaluated{}
	var decidingGate *engine.GateEvaluated
	planIdx := map[string]int{}
	for _, e := range evs {
		at := e.Common().Time
		switch ev := e.(type) {
		case *engine.RunStarted:
			if v.Live == "" {
				v.Live = ev.Live
			}
			if v.Inputs == nil {
				in := map[string]any{}
				for k, val := range ev.Inputs {
					in[k] = val
				}
				for _, k := range t.Sensitive {
					in[k] = steps.Redaction
				}
				v.Inputs = sortedKV(in)
			}
			if !seenTraffic && ev.Live != "" && ev.Mode != "rollback" {
				// Until a step reports traffic, the live colour is
				// assumed to take it all.
				for _, n := range names {
					share := 0.0
					if n == ev.Live {
						share = 100
					}
					pts[n] = append(pts[n], point{X: x(at), Y: y(share), Share: share, Time: rel(at), Source: "assumed", Title: fmt.Sprintf("%s %s at the start (assumed: %s was live)", n, pct(share), ev.Live)})
				}
				c.Assumed = true
				seenTraffic = true
			}
			if ev.Mode == "rollback" && rbStart == nil {
				s := at
				rbStart = &s
			}
		case *engine.TrafficChanged:
			if ev.Source == engine.TrafficDetect && allAssumed(pts) {
				// What detect read replaces the assumption.
				pts = map[string][]point{}
				c.Assumed = false
			}
			seenTraffic = true
			for n := range ev.Shares {
				addName(n)
			}
			for _, n := range names {
				share, ok := ev.Shares[n]
				if !ok {
					continue
				}
				title := fmt.Sprintf("%s %s (weight %s) after %s %s (%s)", n, pct(share), steps.FormatValue(ev.Weights[n]), ev.Source, ev.Path, ev.Kind)
				pts[n] = append(pts[n], point{X: x(at), Y: y(share), Share: share, Weight: ev.Weights[n], Time: rel(at), Source: ev.Source, Path: ev.Path, Kind: ev.Kind, Title: title})
			}
		case *engine.StepStarted:
			sp := &span{X: x(at), Y: 0, Label: ev.Path, Class: "running", Title: fmt.Sprintf("%s (%s) started %s", ev.Path, ev.Kind, rel(at))}
			spanRow[ev.Path] = len(spans)
			spans = append(spans, sp)
			open[ev.Path] = sp
			planIdx[ev.Path] = len(v.Plan)
			v.Plan = append(v.Plan, planRow{Path: ev.Path, Label: ev.Label, Kind: ev.Kind, Phase: ev.Phase, Params: sortedKV(ev.Params), Outcome: "did not finish"})
		case *engine.StepFinished:
			if sp := open[ev.Path]; sp != nil {
				sp.W, sp.Class = x(at)-sp.X, "ok"
				sp.Title += fmt.Sprintf(", finished after %s", ev.Duration.Round(time.Millisecond))
				delete(open, ev.Path)
			}
			if i, ok := planIdx[ev.Path]; ok {
				v.Plan[i].Outcome, v.Plan[i].Duration = "succeeded", ev.Duration.Round(time.Millisecond).String()
			}
			if len(ev.Outputs) > 0 && ev.ID != "" {
				for _, o := range sortedKV(ev.Outputs) {
					v.Outputs = append(v.Outputs, kv{ev.Path + "." + o.Key, o.Value})
				}
			}
		case *engine.StepFailed:
			if sp := open[ev.Path]; sp != nil {
				sp.W, sp.Class = x(at)-sp.X, "failed"
				sp.Title += ", failed: " + ev.Error
				delete(open, ev.Path)
			}
			if i, ok := planIdx[ev.Path]; ok {
				v.Plan[i].Outcome = "failed: " + ev.Error
			}
			lastFailed = ev
			decidingGate = gates[ev.Path]
		case *engine.StepSkipped:
			v.Plan = append(v.Plan, planRow{Path: ev.Path, Label: ev.Label, Outcome: "skipped: " + ev.Reason})
		case *engine.GateEvaluated:
			g := ev
			gates[ev.Path] = g
			title := fmt.Sprintf("%s poll %d at %s: %s", ev.Path, ev.Attempt, rel(at), ev.Verdict)
			if len(ev.Values) > 0 {
				parts := []string{}
				for _, p := range sortedKV(ev.Values) {
					parts = append(parts, p.Key+"="+p.Value)
				}
				title += " (" + strings.Join(parts, ", ") + ")"
			}
			if ev.Expression != "" {
				title += " — " + ev.Expression
			}
			if ev.Error != "" {
				title += ": " + ev.Error
			}
			c.Polls = append(c.Polls, poll{X: x(at), Verdict: ev.Verdict, Title: title, Path: ev.Path})
		case *engine.Message:
			if strings.HasPrefix(ev.Text, "rolling back") && rbStart == nil {
				s := at
				rbStart = &s
			}
		case *engine.UndoApplied:
			if rbStart == nil {
				s := at
				rbStart = &s
			}
			title := fmt.Sprintf("undo %d of %s (%s): applied", ev.Seq, ev.Path, ev.Undo.Kind)
			verdict := "undone"
			if ev.Error != "" {
				title, verdict = fmt.Sprintf("undo %d of %s (%s) failed: %s", ev.Seq, ev.Path, ev.Undo.Kind, ev.Error), "undo-failed"
			}
			c.Undos = append(c.Undos, poll{X: x(at), Verdict: verdict, Title: title})
		case *engine.RunFinished:
			v.Status, v.Error = ev.Status, ev.Error
			if ev.Live != "" {
				v.Live = ev.Live
			}
			if rbStart != nil {
				c.Rollbacks = append(c.Rollbacks, band{X: x(*rbStart), W: x(at) - x(*rbStart), Title: "rollback, " + rel(*rbStart) + " to " + rel(at)})
				rbStart = nil
			}
		}
		v.Events = append(v.Events, eventRow{At: rel(at), Type: typeName(e), Text: describe(e)})
	}
	if rbStart != nil {
		c.Rollbacks = append(c.Rollbacks, band{X: x(*rbStart), W: x(t1) - x(*rbStart), Title: "rollback (unfinished)"})
	}
	for _, sp := range open {
		sp.W, sp.Class = x(t1)-sp.X, "open"
	}
	for i, sp := range spans {
		sp.Y = rowsTop + float64(i)*rowH
		if sp.W < 2 {
			sp.W = 2
		}
		sp.TextX = sp.X + sp.W + 4
		if sp.TextX > chartW-140 {
			sp.TextX = sp.X - 4
			sp.Class += " left"
		}
		c.Spans = append(c.Spans, *sp)
	}
	for i := range c.Polls {
		if r, ok := spanRow[c.Polls[i].Path]; ok {
			c.Polls[i].Y = rowsTop + float64(r)*rowH + rowH/2 - 2
		}
	}
	for i := range c.Undos {
		c.Undos[i].Y = plotTop + 8
	}
	c.H = rowsTop + float64(len(spans))*rowH + 10
	for i, n := range names {
		s := series{Colour: n, Stroke: strokeFor(n, i), Points: pts[n]}
		if len(s.Points) > 0 {
			var b strings.Builder
			for j, p := range s.Points {
				if j == 0 {
					fmt.Fprintf(&b, "M%.1f %.1f", p.X, p.Y)
				} else {
					fmt.Fprintf(&b, " H%.1f V%.1f", p.X, p.Y)
				}
			}
			fmt.Fprintf(&b, " H%.1f", c.FinalX)
			s.Path = b.String()
			last := s.Points[len(s.Points)-1]
			s.Final, s.FinalY = last.Share, last.Y
			v.Final = append(v.Final, kv{n, pct(last.Share)})
		}
		c.Series = append(c.Series, s)
	}
	for i := 0; i <= 4; i++ {
		share := float64(i * 25)
		c.YTicks = append(c.YTicks, tick{X: y(share), Label: pct(share)})
	}
	for i := 0; i <= 5; i++ {
		at := t0.Add(time.Duration(float64(t1.Sub(t0)) * float64(i) / 5))
		c.Ticks = append(c.Ticks, tick{X: x(at), Label: rel(at)})
	}
	if lastFailed != nil && v.Status != "succeeded" {
		f := &failure{Step: lastFailed.Path, Kind: lastFailed.Kind, Error: lastFailed.Error}
		if g := decidingGate; g != nil {
			f.Expression, f.Verdict, f.Values = g.Expression, g.Verdict, sortedKV(g.Values)
		}
		v.Failure = f
	}
	if t.Run != nil {
		for _, e := range t.Run.Journal {
			params := []string{}
			for _, p := range sortedKV(e.Undo.Params) {
				params = append(params, p.Key+"="+p.Value)
			}
			v.Journal = append(v.Journal, journalRow{Seq: e.Seq, Step: e.Step, Kind: e.Kind, UndoKind: e.Undo.Kind, Note: e.Undo.Note, Params: strings.Join(params, " "), State: e.State, Error: e.Error})
		}
		if len(t.Run.Inputs) > 0 && v.Inputs == nil {
			v.Inputs = sortedKV(t.Run.Inputs)
		}
	}
	return v, nil
}

func allAssumed(pts map[string][]point) bool {
	for _, ps := range pts {
		for _, p := range ps {
			if p.Source != "assumed" {
				return false
			}
		}
	}
	return true
}
