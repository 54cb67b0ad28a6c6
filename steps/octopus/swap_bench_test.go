package octopus

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/benchrun"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/octopustest"
	"github.com/bluegreen-deploy/bluegreen/steps/steptest"
)

// swapCall is one step of a swap's Octopus updates.
type swapCall struct {
	kind string
	with map[string]any
}

// swaps are the Octopus updates of one swap (green becomes live), as the
// shipped runbooks make them: weighted-dns and alb-weighted retag the
// targets and set BlueGreen.Live; env-swap moves the targets between
// environments and sets BlueGreen.Live in production.
var swaps = []struct {
	name  string
	calls []swapCall
}{
	{"retag", []swapCall{
		{"octopus.variables.set", map[string]any{"project": "Web", "name": "BlueGreen.Live", "value": "green", "environment": "Production"}},
		{"octopus.targets.retag", map[string]any{"role": "web-green", "add_roles": []any{"web-live"}, "remove_roles": []any{"web-idle"}}},
		{"octopus.targets.retag", map[string]any{"role": "web-blue", "add_roles": []any{"web-idle"}, "remove_roles": []any{"web-live"}}},
	}},
	{"move-environment", []swapCall{
		{"octopus.targets.move-environment", map[string]any{"role": "web-green", "from": "Pre-Production", "to": "Production"}},
		{"octopus.targets.move-environment", map[string]any{"role": "web-blue", "from": "Production", "to": "Pre-Production"}},
		{"octopus.variables.set", map[string]any{"project": "Web", "name": "BlueGreen.Live", "value": "green", "environment": "Production"}},
	}},
}

// BenchmarkSwapUpdates measures one swap's Octopus variable and target
// updates against octopustest (issue 14, item 6): the steps run as one
// `bluegreen run` process runs them (connecting once, then sharing the
// client), on a project whose two colours have two targets each and
// whose BlueGreen.Live is blue. The same swap then runs again, as a new
// process, with nothing left to change, which must write nothing (the
// benchmark fails if it writes: a write there is a wrong result, not
// noise). Reported per swap: time, API calls and writes, the first time
// and unchanged, and the first time's calls by kind as
// "calls:octopus:METHOD_path/op".
func BenchmarkSwapUpdates(b *testing.B) {
	for _, sw := range swaps {
		b.Run(sw.name, func(b *testing.B) {
			var first, again time.Duration
			var firstN, firstW, againN, againW int
			perCall := map[string]int{}
			for i := 0; i < b.N; i++ {
				srv, proj := swapServer(b)
				t0 := time.Now()
				runSwap(b, sw.calls)
				t1 := time.Now()
				reqs := srv.Requests()
				runSwap(b, sw.calls)
				again += time.Since(t1)
				first += t1.Sub(t0)
				all := srv.Requests()
				firstN += len(reqs)
				firstW += writes(reqs)
				againN += len(all) - len(reqs)
				againW += writes(all[len(reqs):])
				for k, v := range benchrun.OctopusCalls(reqs) {
					perCall[k] += v
				}
				if w := writes(all[len(reqs):]); w != 0 {
					b.Fatalf("the unchanged swap wrote %d time(s)", w)
				}
				if l := srv.Variables(octopustest.DefaultSpaceID, proj); len(l) != 1 || l[0].Value != "green" {
					b.Fatalf("BlueGreen.Live after the swap: %+v", l)
				}
			}
			n := float64(b.N)
			b.ReportMetric(float64(first.Microseconds())/1e3/n, "first-ms")
			b.ReportMetric(float64(firstN)/n, "first-calls")
			b.ReportMetric(float64(firstW)/n, "first-writes")
			b.ReportMetric(float64(again.Microseconds())/1e3/n, "unchanged-ms")
			b.ReportMetric(float64(againN)/n, "unchanged-calls")
			b.ReportMetric(float64(againW)/n, "unchanged-writes")
			for _, k := range slices.Sorted(maps.Keys(perCall)) {
				b.ReportMetric(float64(perCall[k])/n, "calls:"+k+"/op")
			}
		})
	}
}

// swapServer is newFixture's project for a benchmark: blue's two targets
// live in Production, green's idle in Pre-Production, BlueGreen.Live blue.
func swapServer(b *testing.B) (*octopustest.Server, string) {
	srv := octopustest.New(b)
	b.Setenv(octopus.EnvURL, srv.URL)
	b.Setenv(octopus.EnvAPIKey, srv.APIKey)
	b.Setenv(octopus.EnvSpace, "")
	space := octopustest.DefaultSpaceID
	proj := srv.AddProject(space, "Web")
	prod, preprod := srv.AddEnvironment(space, "Production"), srv.AddEnvironment(space, "Pre-Production")
	for i := 1; i <= 2; i++ {
		srv.AddMachine(space, octopustest.Machine{Name: fmt.Sprintf("web-blue-%d", i), Roles: []string{"web-blue", "web-live"}, EnvironmentIDs: []string{prod}})
		srv.AddMachine(space, octopustest.Machine{Name: fmt.Sprintf("web-green-%d", i), Roles: []string{"web-green", "web-idle"}, EnvironmentIDs: []string{preprod}})
	}
	srv.SetVariables(space, proj, []octopustest.Variable{{Name: "BlueGreen.Live", Value: "blue", Environments: []string{prod}}})
	return srv, proj
}

// runSwap runs a swap's steps as one `bluegreen run` process runs them:
// it starts without a connection (the cache is emptied, as a new process
// has it) and its steps then share one.
func runSwap(b *testing.B, calls []swapCall) {
	clients.Clear()
	for _, c := range calls {
		if r := steptest.Run(context.Background(), b, c.kind, c.with, steptest.Options{}); r.Err != nil {
			b.Fatalf("%s: %v", c.kind, r.Err)
		}
	}
}

// writes counts the requests that change something.
func writes(reqs []octopustest.Request) int {
	n := 0
	for _, r := range reqs {
		if r.Method != "GET" && r.Method != "HEAD" {
			n++
		}
	}
	return n
}
