package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// flow is one shipped runbook's full-run benchmark and the API calls the
// flow cannot do without, by "service:Operation" (Octopus calls as
// "octopus:METHOD_path"): what a release of that flow needs if nothing
// else changes the resources while it runs. They are the yardstick of
// issue 14's "API calls at most 1.2x the minimum", reasoned from what the
// flow does (each has its reason), not measured. extra says why the run
// makes more of a call than the minimum.
type flow struct {
	bench, name string
	min         map[string]need
	extra       map[string]string
}

type need struct {
	n   int
	why string
}

// The reasons common to several flows.
const (
	whyPreflightCred  = "preflight's credentials probe (read-only, before anything changes)"
	whyASGExtra       = "preflight checks that both groups exist (2); the scale-down reads the old group again just before changing it, so its undo restores the capacity of that moment (1)"
	whyTHExtra        = "preflight checks that the idle target group exists (1)"
	whyMetricExtra    = "a fail-only gate polls until its timeout: with bake = poll = 1 ms a bake can poll twice (timing, varies from run to run)"
	needASG           = "the live group's capacity (to size the idle group; the scale-down's undo) and the idle group's (the scale-up's undo)"
	needASGUpdate     = "scale the idle group up, then the old group to 0"
	needTH            = "one poll of the idle target group's health"
	needMetric        = "one 5xx read per bake (three weights)"
	needWeightChanges = "one change per weight (10, 50, 100)"
)

// shiftMin and shiftExtra are what the two weighted flows share: they
// scale the same two groups, poll the idle group's health once and bake
// each of three weights on the 5xx metric.
var (
	shiftMin = map[string]need{
		"autoscaling:DescribeAutoScalingGroups":     {2, needASG},
		"autoscaling:UpdateAutoScalingGroup":        {2, needASGUpdate},
		"elasticloadbalancing:DescribeTargetHealth": {1, needTH},
		"monitoring:GetMetricData":                  {3, needMetric},
		"sts:GetCallerIdentity":                     {0, "not needed by the flow"},
	}
	shiftExtra = map[string]string{
		"autoscaling:DescribeAutoScalingGroups":     whyASGExtra,
		"elasticloadbalancing:DescribeTargetHealth": whyTHExtra,
		"monitoring:GetMetricData":                  whyMetricExtra,
		"sts:GetCallerIdentity":                     whyPreflightCred,
	}
)

// plus adds what the weighted flows share (shiftMin, shiftExtra) to a
// flow's own entries.
func plus[V any](own, shared map[string]V) map[string]V {
	maps.Copy(own, shared)
	return own
}

var flows = []flow{
	{
		bench: "BenchmarkWeightedDNSRun", name: "weighted-dns",
		min: plus(map[string]need{
			"route53:ListResourceRecordSets":   {1, "detect reads the weighted records once: the live colour and the weights the first change's undo restores"},
			"route53:ChangeResourceRecordSets": {3, needWeightChanges},
		}, shiftMin),
		extra: plus(map[string]string{
			"route53:ListResourceRecordSets": "the `records` step reads again what detect read (1: the runbook cannot read detect's outputs); each weight change reads the records first to journal its undo (3); the run reads them at the end to report the live colour from the world (1)",
		}, shiftExtra),
	},
	{
		bench: "BenchmarkALBWeightedRun", name: "alb-weighted",
		min: plus(map[string]need{
			"elasticloadbalancing:DescribeListeners": {1, "detect reads the listener once: the live colour and the weights the first change's undo restores"},
			"elasticloadbalancing:ModifyListener":    {3, needWeightChanges},
		}, shiftMin),
		extra: plus(map[string]string{
			"elasticloadbalancing:DescribeListeners": "each weight change reads the listener first to journal its undo (3) and reads it back after to check it holds the new weights (3); the run reads it at the end to report the live colour from the world (1)",
		}, shiftExtra),
	},
	{
		bench: "BenchmarkEnvSwapRun", name: "env-swap",
		min: map[string]need{
			"route53:ListResourceRecordSets":            {1, "detect reads which stack the production name points at"},
			"route53:ChangeResourceRecordSets":          {1, "both names swapped in one change batch"},
			"elasticloadbalancing:DescribeTargetHealth": {1, "one poll of the idle stack's health"},
			"sts:GetCallerIdentity":                     {0, "not needed by the flow"},
			"octopus:GET_/api/spaces/all":               {1, "resolve the space"},
			"octopus:GET_/api/{id}/projects/Web":        {1, "find the project by name"},
			"octopus:GET_/api/{id}/environments":        {1, "the two environments' ids"},
			"octopus:GET_/api/{id}/machines":            {1, "the targets of both colours"},
			"octopus:PUT_/api/{id}/machines/{id}":       {2, "move each target (one per colour here)"},
			"octopus:GET_/api/{id}/variables/{id}":      {1, "the project's variable set, to change one variable"},
			"octopus:PUT_/api/{id}/variables/{id}":      {1, "write BlueGreen.Live"},
		},
		extra: map[string]string{
			"route53:ListResourceRecordSets":            "the swap reads the records of both names first to journal its undo (2); the run reads the production name at the end to report the live colour from the world (1)",
			"elasticloadbalancing:DescribeTargetHealth": whyTHExtra,
			"sts:GetCallerIdentity":                     whyPreflightCred,
			"octopus:GET_/api/":                         "go-octopusdeploy reads the API root when it connects: once, the run's probes and steps sharing one connection",
			"octopus:GET_/api":                          "the API root again, without the slash (bluegreen's check that the URL is an Octopus server, before go-octopusdeploy's set-up), once per run",
			"octopus:GET_/api/{id}":                     "the space's root document (go-octopusdeploy's set-up), once per run",
			"octopus:GET_/api/spaces/all":               "once per connection; more than one means more than one connection in the process (before the probes and the steps shared one, each connected)",
			"octopus:GET_/api/{id}/projects/Web":        "once per connection, which remembers the project; more means more than one connection (before, preflight's own and the steps')",
			"octopus:GET_/api/{id}/environments":        "once per connection, which remembers them (and lists them again only for a name not among them); before, each probe and each step listed them",
			"octopus:GET_/api/{id}/projects":            "go-octopusdeploy's lookup by name asks for the project by id first (GET projects/Web, a 404 for a name), then reads the project list; once, the connection remembers what it found",
			"octopus:GET_/api/{id}/projects/{id}":       "the variable step reads the project's document for where it keeps its variables (database or Git)",
			"octopus:GET_/api/{id}/machines":            "preflight checks that each colour's role has targets (2); each move lists its role's targets again when it runs (2), so that it moves the targets there are then (one registered since preflight included)",
			"octopus:GET_/api/{id}/machines/{id}":       "each target is read again just before it is written, so that only the field we own (its environments) changes on the current resource",
		},
	},
	{
		bench: "BenchmarkSameHostRun", name: "same-host",
		min: map[string]need{},
	},
}

// fullRunTables reports the four full runs and, for each flow, every API
// call it made beside the minimum the flow needs.
func fullRunTables(w io.Writer, gb goBench) {
	var rows []string
	for _, f := range flows {
		r := gb[f.bench]
		if r == nil {
			continue
		}
		act, least := total(r), 0
		for _, n := range f.min {
			least += n.n
		}
		ratio := "no API calls"
		if least > 0 {
			ratio = fmt.Sprintf("%.0f / %d = %.2fx", act, least, act/float64(least))
		}
		rows = append(rows, fmt.Sprintf("| %s | %.0f ms | %.0f ms | %.1f MiB | %.0f | %s |", f.name,
			r["wall-ms/op"], r["non-wait-ms/op"], r["peak-rss-MiB"], act, ratio))
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w, "### Full runs, every configured wait made negligible (the real binary as a child process)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "From `go test ./test/e2e_aws ./runbooks/envswap ./runbooks/samehost -run '^$' -bench 'Run$'`: each run is `bluegreen run` "+
		"of the shipped runbook, every phase in one go, on a fresh world (moto; for env-swap also two databases on PostgreSQL and "+
		"octopustest; for same-host real nginx and two copies of the test app). Waits are 1 ms (bake, poll, scale-down delay, "+
		"drain). \"Outside configured waits\" is the wall time less the gates' waiting before their deciding poll (from the run's "+
		"log) and the pauses; for same-host the gates wait for the new copy to listen and answer, which is the app's start-up, "+
		"not bluegreen's. Peak memory is the child's ru_maxrss (the copies same-host starts are separate processes). "+
		"API calls are counted by the proxy in front of moto (SDK retries included) and by octopustest.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| runbook | wall | outside configured waits | peak RSS | API calls | calls vs the minimum |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Fprintln(w, r)
	}
	fmt.Fprintln(w)
	for _, f := range flows {
		r := gb[f.bench]
		if r == nil || len(f.min) == 0 {
			continue
		}
		fmt.Fprintf(w, "API calls of one %s run, per call, beside the minimum the flow needs:\n\n", f.name)
		fmt.Fprintln(w, "| call | minimum | why the flow needs it | made | extra calls, and why |")
		fmt.Fprintln(w, "|---|---|---|---|---|")
		act := calls(r)
		keys := slices.Sorted(maps.Keys(act))
		for k := range f.min {
			if _, ok := act[k]; !ok {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			n, why := f.min[k].n, f.min[k].why
			if why == "" {
				why = "not needed by the flow"
			}
			extra := "none"
			if act[k] > float64(n) {
				extra = f.extra[k]
				if extra == "" {
					extra = "(not explained)"
				}
			}
			fmt.Fprintf(w, "| %s | %d | %s | %.0f | %s |\n", strings.ReplaceAll(k, "_", " "), n, why, act[k], extra)
		}
		fmt.Fprintln(w)
	}
}

// calls returns a benchmark's per-call counts ("calls:K/op" metrics).
func calls(r map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for unit, v := range r {
		if k, ok := strings.CutPrefix(unit, "calls:"); ok {
			out[strings.TrimSuffix(k, "/op")] = v
		}
	}
	return out
}

func total(r map[string]float64) float64 {
	n := 0.0
	for _, v := range calls(r) {
		n += v
	}
	return n
}

// swapTable reports one swap's Octopus variable and target updates
// (BenchmarkSwapUpdates in steps/octopus), the first time and unchanged.
func swapTable(w io.Writer, gb goBench) {
	type sw struct{ bench, label string }
	var rows, lists []string
	for _, s := range []sw{
		{"BenchmarkSwapUpdates/retag", "weighted-dns, alb-weighted: BlueGreen.Live set, both colours' targets retagged (live/idle)"},
		{"BenchmarkSwapUpdates/move-environment", "env-swap: both colours' targets moved between environments, BlueGreen.Live set"},
	} {
		r := gb[s.bench]
		if r == nil {
			continue
		}
		rows = append(rows, fmt.Sprintf("| %s | %.1f ms | %.0f | %.0f | %.1f ms | %.0f | %.0f |", s.label,
			r["first-ms"], r["first-calls"], r["first-writes"], r["unchanged-ms"], r["unchanged-calls"], r["unchanged-writes"]))
		var parts []string
		c := calls(r)
		for _, k := range slices.Sorted(maps.Keys(c)) {
			parts = append(parts, fmt.Sprintf("%s %.0f", strings.ReplaceAll(strings.TrimPrefix(k, "octopus:"), "_", " "), c[k]))
		}
		lists = append(lists, fmt.Sprintf("- %s: %s", strings.TrimPrefix(s.bench, "BenchmarkSwapUpdates/"), strings.Join(parts, "; ")))
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w, "### Octopus: one swap's variable and target updates (from `go test ./steps/octopus -bench SwapUpdates`, against octopustest)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "The steps run as the engine runs them (one client for the process) on a project with two targets per colour and "+
		"BlueGreen.Live blue; then the same swap runs again with nothing left to change (a write there fails the benchmark).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| swap | first time | API calls | writes | unchanged | API calls | writes |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Fprintln(w, r)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Calls of the first time, by kind (ids as {id}):")
	fmt.Fprintln(w)
	for _, l := range lists {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w)
}
