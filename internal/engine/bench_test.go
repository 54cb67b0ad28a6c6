package engine

import (
	"testing"
	"time"

	"github.com/expr-lang/expr"
)

// gateBench loads the gate the gate benchmarks evaluate and the values a
// gate poll builds for it: the step's outputs at the top, elapsed and
// attempt, and the run's inputs, colours and earlier outputs.
func gateBench(b *testing.B) (*Expr, map[string]any) {
	rb, err := Load("testdata/weighted.yaml", testRegistry(newWorld()))
	if err != nil {
		b.Fatal(err)
	}
	until := rb.Steps[1].Gate.Until
	blue := map[string]any{"name": "blue", "asg": "web-blue"}
	green := map[string]any{"name": "green", "asg": "web-green"}
	vals := map[string]any{
		"healthy": 3, "total": 3, "elapsed": 42 * time.Second, "attempt": 5,
		"inputs":  map[string]any{"zone_id": "Z1", "weights": []any{10, 50, 100}, "bake": 30 * time.Second, "limit": 5.0},
		"colours": map[string]any{"blue": blue, "green": green},
		"live":    blue, "idle": green,
		"steps": map[string]any{"scale-idle": map[string]any{}},
		"run":   map[string]any{"id": "r1", "started": time.Unix(0, 0), "phase": "main"},
	}
	if ok, err := until.EvalBool(vals); err != nil || !ok {
		b.Fatalf("gate %q = %v, %v; want true", until.Source, ok, err)
	}
	return until, vals
}

// BenchmarkGateEval measures one evaluation of a typical gate condition,
// compiled once when the runbook was loaded.
func BenchmarkGateEval(b *testing.B) {
	until, vals := gateBench(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := until.EvalBool(vals); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGateValues is the other half of a gate poll's own work: the
// values of the names the condition reads, for the poll's event and the
// timeout message. It fills only those names, as EvalBool does.
func BenchmarkGateValues(b *testing.B) {
	until, vals := gateBench(b)
	b.ReportAllocs()
	for b.Loop() {
		if v := until.Values(vals); len(v) == 0 {
			b.Fatalf("gate %q read no values", until.Source)
		}
	}
}

// BenchmarkGateCompileEachEval is the alternative BenchmarkGateEval is
// compared with: compiling the condition at every evaluation, as Argo
// Rollouts' analysis does (expr.Compile with the values as environment,
// then expr.Run). BENCHMARKS.md reports the ratio of the two.
func BenchmarkGateCompileEachEval(b *testing.B) {
	until, vals := gateBench(b)
	b.ReportAllocs()
	for b.Loop() {
		prog, err := expr.Compile(until.Source, expr.Env(vals), expr.AsBool())
		if err != nil {
			b.Fatal(err)
		}
		out, err := expr.Run(prog, vals)
		if err != nil || out != true {
			b.Fatalf("gate %q = %v, %v; want true", until.Source, out, err)
		}
	}
}

// BenchmarkGateRatio times the two ways of BenchmarkGateEval and
// BenchmarkGateCompileEachEval in alternation, one of each per iteration,
// and reports the ratio: on a shared machine the load changes between two
// separate benchmarks, while alternating exposes both to the same load.
func BenchmarkGateRatio(b *testing.B) {
	until, vals := gateBench(b)
	var once, each time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := until.EvalBool(vals); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		prog, err := expr.Compile(until.Source, expr.Env(vals), expr.AsBool())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := expr.Run(prog, vals); err != nil {
			b.Fatal(err)
		}
		once, each = once+t1.Sub(t0), each+time.Since(t1)
	}
	b.ReportMetric(float64(once.Nanoseconds())/float64(b.N), "once-ns/eval")
	b.ReportMetric(float64(each.Nanoseconds())/float64(b.N), "compile-each-ns/eval")
	b.ReportMetric(float64(each)/float64(once), "ratio")
}

// interpBench is a step whose `with:` interpolates names of every kind a
// template reads: inputs, the idle colour and an earlier step's output.
const interpBench = `version: 1
name: interp
inputs:
  zone: {type: string, default: Z1}
colours:
  blue: {asg: web-blue}
  green: {asg: web-green}
steps:
  - id: check
    uses: test.health
    with: {group: web-blue}
  - id: again
    uses: test.health
    with: {group: "${{ idle.asg }}-${{ inputs.zone }}-${{ steps.check.healthy }}of${{ steps.check.total }}"}
`

// BenchmarkInterpolate measures evaluating a step's `with:` holding a
// string with four ${{ }} expressions, as the engine does before it runs
// the step.
func BenchmarkInterpolate(b *testing.B) {
	rb, err := Parse("interp.yaml", []byte(interpBench), testRegistry(newWorld()))
	if err != nil {
		b.Fatal(err)
	}
	with := rb.Steps[1].With
	blue := map[string]any{"name": "blue", "asg": "web-blue"}
	green := map[string]any{"name": "green", "asg": "web-green"}
	vals := map[string]any{
		"inputs":  map[string]any{"zone": "Z1"},
		"colours": map[string]any{"blue": blue, "green": green},
		"live":    blue, "idle": green,
		"steps": map[string]any{"check": map[string]any{"healthy": 2, "total": 3}},
		"run":   map[string]any{"id": "r1", "started": time.Unix(0, 0), "phase": "main"},
	}
	got, err := with.Eval(vals)
	if err != nil {
		b.Fatal(err)
	}
	if g := got.(map[string]any)["group"]; g != "web-green-Z1-2of3" {
		b.Fatalf("group = %v, want web-green-Z1-2of3", g)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := with.Eval(vals); err != nil {
			b.Fatal(err)
		}
	}
}
