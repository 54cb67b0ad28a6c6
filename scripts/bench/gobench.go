package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// goBench holds `go test -bench -benchmem` results by benchmark name
// (without the -GOMAXPROCS suffix): unit ("ns/op", "B/op", ...) to value.
type goBench map[string]map[string]float64

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+\d+\s+(.*)$`)

// readGoBench parses the output `make bench` saved from go test.
func readGoBench(path string) (goBench, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := goBench{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		fields := strings.Fields(m[3])
		vals := map[string]float64{}
		for i := 0; i+1 < len(fields); i += 2 {
			if v, err := strconv.ParseFloat(fields[i], 64); err == nil {
				vals[fields[i+1]] = v
			}
		}
		out[m[1]] = vals
	}
	return out, sc.Err()
}

// engineTables reports the engine's figures from the Go benchmarks:
// gate evaluation beside compiling at every evaluation, interpolation, and
// how loading a runbook grows from 100 to 10,000 steps.
func engineTables(w io.Writer, gb goBench) {
	fmt.Fprintln(w, "### Engine (from `go test ./internal/engine -bench`)")
	fmt.Fprintln(w)
	once, each := gb["BenchmarkGateEval"], gb["BenchmarkGateCompileEachEval"]
	if once != nil && each != nil {
		fmt.Fprintln(w, "| gate condition `healthy == total && total > 0` | ns/op | B/op | allocs/op | ratio |")
		fmt.Fprintln(w, "|---|---|---|---|---|")
		fmt.Fprintf(w, "| bluegreen: compiled once at load, evaluated | %.0f | %.0f | %.0f | **%.1fx faster** |\n",
			once["ns/op"], once["B/op"], once["allocs/op"], each["ns/op"]/once["ns/op"])
		fmt.Fprintf(w, "| compiled at every evaluation (Argo Rollouts' way) | %.0f | %.0f | %.0f | 1.0x |\n",
			each["ns/op"], each["B/op"], each["allocs/op"])
		fmt.Fprintln(w)
	}
	if r := gb["BenchmarkGateRatio"]; r != nil {
		fmt.Fprintf(w, "The same two timed in alternation (BenchmarkGateRatio, one of each per iteration, so both see the same load): "+
			"%.0f ns vs %.0f ns per evaluation, **%.1fx faster** compiled once.\n\n",
			r["once-ns/eval"], r["compile-each-ns/eval"], r["ratio"])
	}
	if in := gb["BenchmarkInterpolate"]; in != nil {
		fmt.Fprintf(w, "Interpolating a `with:` string holding four `${{ }}` expressions: %.0f ns/op, %.0f B/op, %.0f allocs/op.\n\n",
			in["ns/op"], in["B/op"], in["allocs/op"])
	}
	var rows []string
	var base map[string]float64
	for _, n := range []int{100, 1000, 2000, 4000, 10000} {
		r := gb[fmt.Sprintf("BenchmarkParse/steps=%d", n)]
		if r == nil {
			continue
		}
		if base == nil {
			base = r
		}
		perStepNs, perStepB := r["ns/op"]/float64(n), r["B/op"]/float64(n)
		growthNs := perStepNs / (base["ns/op"] / 100)
		growthB := perStepB / (base["B/op"] / 100)
		rows = append(rows, fmt.Sprintf("| %d | %.1f ms | %.1f MiB | %.0f | %.1f µs | %.1f KiB | %.2fx | %.2fx |",
			n, r["ns/op"]/1e6, r["B/op"]/(1<<20), r["allocs/op"], perStepNs/1e3, perStepB/1024, growthNs, growthB))
	}
	if len(rows) > 0 {
		fmt.Fprintln(w, "Loading and validating a runbook (`engine.Parse`: YAML, validation, compiling every expression):")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| steps | time | memory allocated | allocs | time per step | memory per step | time per step vs 100 | memory per step vs 100 |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
		for _, r := range rows {
			fmt.Fprintln(w, r)
		}
		fmt.Fprintln(w)
	}
	if r := gb["BenchmarkSyncAllTemplates"]; r != nil {
		fmt.Fprintln(w, "### Octopus: `octopus sync` of every step template (from `go test ./internal/octopus/publish -bench`, against octopustest)")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| sync | templates | time | API calls | of which writes |")
		fmt.Fprintln(w, "|---|---|---|---|---|")
		fmt.Fprintf(w, "| into an empty space | %.0f | %.1f ms | %.0f | %.0f |\n", r["templates"], r["first-ms"], r["first-calls"], r["first-writes"])
		fmt.Fprintf(w, "| again, nothing changed | %.0f | %.1f ms | %.0f | %.0f |\n", r["templates"], r["unchanged-ms"], r["unchanged-calls"], r["unchanged-writes"])
		fmt.Fprintln(w)
	}
	swapTable(w, gb)
}
