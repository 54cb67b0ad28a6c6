package e2e_aws

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
)

// docRunbook writes alb-weighted.yaml with its shift step replaced by the
// comparison-gated shift shown in docs/strategies.md, so the example the
// docs give is the one tested.
func docRunbook(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	doc, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "docs", "strategies.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(doc), "<!-- preview-compare-example")
	if !ok {
		t.Fatal("docs/strategies.md has no preview-compare-example block")
	}
	_, after, _ = strings.Cut(after, "```yaml\n")
	snippet, _, ok := strings.Cut(after, "```")
	if !ok {
		t.Fatal("the example block is not closed")
	}
	book, err := os.ReadFile(runbookPath("alb-weighted.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(book), "  - id: shift\n")
	end := strings.Index(string(book), "  - id: live_variable\n")
	if start < 0 || end < start {
		t.Fatal("alb-weighted.yaml no longer has a shift step before live_variable")
	}
	out := string(book[:start]) + snippet + "\n" + string(book[end:])
	path := filepath.Join(t.TempDir(), "alb-weighted-compare.yaml")
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// traffic publishes six busy minutes for both target groups: 1000
// requests a minute each, with the given 5xx counts a minute.
func traffic(t *testing.T, topo *awstest.Topology, errs map[string]float64) {
	t.Helper()
	ctx, now := context.Background(), time.Now()
	for i := 1; i <= 6; i++ {
		at := now.Add(-time.Duration(i) * time.Minute)
		for colour, e := range errs {
			if err := topo.PutTargetGroupMetric(ctx, colour, "RequestCount", 1000, at); err != nil {
				t.Fatal(err)
			}
			if err := topo.PutTargetGroupMetric(ctx, colour, "HTTPCode_Target_5XX_Count", e, at); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestDocsCompareGate runs the documented comparison-gated shift with the
// preview phase: equal error rates release, idle at five times live's
// rate rolls back with the verdict.
func TestDocsCompareGate(t *testing.T) {
	path := docRunbook(t)
	t.Run("equal rates release", func(t *testing.T) {
		w := newWorld(t, "alb-weighted.yaml", awstest.Options{SharedALB: true})
		w.path = path
		smoke := newSmokeServer(t, w.topo, 200)
		traffic(t, w.topo, map[string]float64{"blue": 5, "green": 5})
		w.mustSucceed(map[string]string{"weights": "[50, 100]", "preview": "true", "preview_url": smoke.URL}, "green")
		w.expect(map[string]int{"blue": 0, "green": 100}, map[string]int{"blue": 0, "green": 2})
		if got := listenerRules(t, w.topo); len(got) != 0 {
			t.Fatalf("rules after the release: %v", got)
		}
	})
	t.Run("idle at 5x live rolls back", func(t *testing.T) {
		w := newWorld(t, "alb-weighted.yaml", awstest.Options{SharedALB: true})
		w.path = path
		traffic(t, w.topo, map[string]float64{"blue": 10, "green": 50})
		w.mustRollBack(map[string]string{"weights": "[50, 100]"}, "verdict == 'fail'")
		w.expect(map[string]int{"blue": 100, "green": 0}, map[string]int{"blue": 2, "green": 0})
	})
}
