package engine

import (
	"sort"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// TrafficChanged is sent when a step, an undo or detect reported where
// production traffic goes (a kind whose Spec names a Traffic output). It is
// what a run report draws the colours' traffic shares from: the weights the
// run actually set, not the ones it asked for.
type TrafficChanged struct {
	Base
	Path   string `json:"path,omitempty"`
	Kind   string `json:"kind"`
	Source string `json:"source"` // detect, step or undo
	// Weights holds the weight of each colour, and of any key that names
	// no colour, as the step reported it.
	Weights map[string]float64 `json:"weights"`
	// Shares holds the same as percentages of the total (all zero when the
	// total is zero).
	Shares map[string]float64 `json:"shares"`
}

// Traffic sources.
const (
	TrafficDetect = "detect"
	TrafficStep   = "step"
	TrafficUndo   = "undo"
)

// emitTraffic sends a TrafficChanged for a step's outputs when its kind
// declares a Traffic output that holds something.
func (rc *runCtx) emitTraffic(path string, spec *steps.Spec, out steps.Outputs, source string) {
	if spec == nil || spec.Traffic == "" || out == nil {
		return
	}
	if rc.colours == nil {
		// A rollback in a process of its own has not evaluated the
		// colours; without them no key could be mapped to a colour.
		_ = rc.evalColours()
	}
	w := rc.trafficWeights(out[spec.Traffic])
	if len(w) == 0 {
		return
	}
	rc.x.emit(rc, &TrafficChanged{Path: path, Kind: spec.Kind, Source: source, Weights: w, Shares: Shares(w)})
}

// trafficWeights turns a Traffic output into weights by colour. Every
// colour of the runbook is present (zero when the output does not name it),
// so that a report draws one series per colour from the first point on.
func (rc *runCtx) trafficWeights(v any) map[string]float64 {
	w := map[string]float64{}
	switch t := steps.Normalize(v).(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			n, ok := number(t[k])
			if !ok {
				continue
			}
			w[rc.colourOf(k)] += n
		}
	case string, int, int64, float64:
		key := steps.FormatValue(t)
		if key == "" || key == "0" {
			return nil
		}
		w[rc.colourOf(key)] = 100
	default:
		return nil
	}
	if len(w) == 0 {
		return nil
	}
	for _, c := range rc.rb.Colours {
		if _, ok := w[c.Name]; !ok {
			w[c.Name] = 0
		}
	}
	return w
}

// colourOf maps a traffic key to a colour: the colour's own name, or a
// colour attribute whose value is the key (a target group ARN, a record's
// set identifier, a folder, a port). A key that names no colour is kept as it is
// (scrubbed of secrets).
func (rc *runCtx) colourOf(key string) string {
	for _, c := range rc.rb.Colours {
		if c.Name == key {
			return c.Name
		}
	}
	for _, c := range rc.rb.Colours {
		attrs, _ := rc.colours[c.Name].(map[string]any)
		names := make([]string, 0, len(attrs))
		for k := range attrs {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			switch a := attrs[k].(type) {
			case string, int, int64, float64:
				if s := steps.FormatValue(a); s != "" && s == key {
					return c.Name
				}
			}
		}
	}
	return rc.scrub(key)
}

// Shares converts weights to percentages of their total.
func Shares(w map[string]float64) map[string]float64 {
	total := 0.0
	for _, v := range w {
		total += v
	}
	out := make(map[string]float64, len(w))
	for k, v := range w {
		if total > 0 {
			out[k] = v * 100 / total
		} else {
			out[k] = 0
		}
	}
	return out
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}
