package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// This file is the view model: what the report's template draws (the
// traffic chart, the step rows, the plan, the journal) and the small
// formatting helpers it needs. build (view.go) fills it from a timeline.

// Chart geometry, in SVG user units.
const (
	chartW   = 1000.0
	plotL    = 60.0
	plotR    = 150.0 // room on the right for the final shares
	plotTop  = 20.0
	plotH    = 180.0
	rowH     = 16.0
	rowsTop  = plotTop + plotH + 40
	axisText = 14.0
)

// palette gives colours named like a colour their own hue; anything else
// gets the next of the others.
var named = map[string]string{"blue": "#1f6fd1", "green": "#1a9c4a", "red": "#d23b3b", "black": "#333333", "orange": "#e08a00", "purple": "#8a4fd1", "yellow": "#c9a400"}
var others = []string{"#8a4fd1", "#e08a00", "#00a3a3", "#b5446e", "#6b6b6b"}

type kv struct{ Key, Value string }

type point struct {
	X, Y          float64
	Share, Weight float64
	Time, Source  string
	Path, Kind    string
	Title         string
}

type series struct {
	Colour, Stroke, Path string
	Points               []point
	Final                float64
	FinalY               float64
}

type span struct {
	X, Y, W float64
	Label   string
	Class   string
	Title   string
	TextX   float64
}

type poll struct {
	X, Y           float64
	Verdict, Title string
	Path           string
}

type band struct {
	X, W  float64
	Title string
}

type tick struct {
	X     float64
	Label string
}

type chart struct {
	W, H, PlotL, PlotTop, PlotH, PlotW, PlotBottom float64
	Series                                         []series
	Spans                                          []span
	Polls                                          []poll
	Rollbacks                                      []band
	Undos                                          []poll
	Ticks                                          []tick
	YTicks                                         []tick
	FinalX                                         float64
	Assumed                                        bool
}

type planRow struct {
	Path, Label, Kind, Phase, Outcome, Duration string
	Params                                      []kv
}

type journalRow struct {
	Seq                                int
	Step, Kind, UndoKind, Note, Params string
	State, Error                       string
}

type failure struct {
	Step, Kind, Error, Expression, Verdict string
	Values                                 []kv
}

type eventRow struct{ At, Type, Text string }

type view struct {
	Dropped                                                int
	RunID, Runbook, Status, Live, Started, Duration, Error string
	Chart                                                  chart
	Failure                                                *failure
	Plan                                                   []planRow
	Inputs                                                 []kv
	Outputs                                                []kv
	Journal                                                []journalRow
	Events                                                 []eventRow
	Final                                                  []kv
}

func sortedKV(m map[string]any) []kv {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]kv, len(keys))
	for i, k := range keys {
		out[i] = kv{k, steps.FormatValue(m[k])}
	}
	return out
}

func pct(f float64) string {
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", f), "0"), ".") + "%"
}

func strokeFor(name string, i int) string {
	if s, ok := named[strings.ToLower(name)]; ok {
		return s
	}
	return others[i%len(others)]
}
