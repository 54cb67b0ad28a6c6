package e2e_aws

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
	"github.com/bluegreen-deploy/bluegreen/internal/faultproxy"
)

// snapshot is what a strategy run must leave right: the traffic split and
// each group's size.
type snapshot struct {
	weights map[string]int
	desired map[string]int
}

func (w *world) snapshot(t *testing.T) snapshot {
	t.Helper()
	ctx := context.Background()
	s := snapshot{desired: map[string]int{}}
	var err error
	if w.topo.Listener != "" {
		s.weights, err = w.topo.ListenerWeights(ctx)
	} else {
		s.weights, err = w.topo.DNSWeights(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range awstest.Colours {
		g, err := w.topo.Group(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if g.Desired != len(g.Instances) {
			s.desired[c] = -1 // a group still changing is never a right end state
		} else {
			s.desired[c] = g.Desired
		}
	}
	return s
}

func (s snapshot) String() string { return fmt.Sprintf("weights %v, groups %v", s.weights, s.desired) }

func (s snapshot) equal(o snapshot) bool {
	for _, c := range awstest.Colours {
		if s.weights[c] != o.weights[c] || s.desired[c] != o.desired[c] {
			return false
		}
	}
	return true
}

// swapped is s after a completed release: the idle colour serves all
// traffic with the live colour's capacity, and the old colour is empty.
func (s snapshot) swapped() snapshot {
	live, idle := "blue", "green"
	if s.weights["green"] > s.weights["blue"] {
		live, idle = idle, live
	}
	return snapshot{
		weights: map[string]int{idle: 100, live: 0},
		desired: map[string]int{idle: s.desired[live], live: 0},
	}
}

// TestStrategiesBehindFaults releases weighted-dns and alb-weighted through
// the bluegreen binary with every AWS call passing a proxy that throttles,
// fails, resets, loses answers and black-holes connections. Whatever the
// faults do, each run must end right: exit 0 with the colours swapped, or
// exit 1 with everything as it was. Any other end is a wrong end state.
func TestStrategiesBehindFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	m, _ := awstest.Shared(t)
	proxy, err := faultproxy.New(m.URL, faultproxy.Options{Seed: 9, Hold: 2 * time.Second, Rates: faultproxy.Rates{
		Throttle: 0.12, Server500: 0.05, Reset: 0.03, Lost: 0.03, BlackHole: 0.005,
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	bin := binary(t)
	env := envFor(proxy.URL)
	runs, succeeded, rolledBack, wrong := 0, 0, 0, 0
	for _, tc := range []struct {
		book string
		o    awstest.Options
	}{
		{"weighted-dns.yaml", awstest.Options{}},
		{"alb-weighted.yaml", awstest.Options{SharedALB: true}},
	} {
		w := newWorld(t, tc.book, tc.o)
		stateDir := t.TempDir()
		for i := 0; i < 2; i++ {
			before := w.snapshot(t)
			args := []string{"run", runbookPath(tc.book), "--state", filepath.Join(stateDir)}
			for k, v := range w.inputs(map[string]string{"health_timeout": "90s", "bake": "4s", "weights": "[50, 100]"}) {
				args = append(args, "--set", k+"="+v.(string))
			}
			r := runCLI(bin, env, args...)
			after := w.snapshot(t)
			runs++
			switch {
			case r.code == 0 && after.equal(before.swapped()):
				succeeded++
			case r.code == 1 && after.equal(before):
				rolledBack++
				t.Logf("%s run %d rolled back: %s", tc.book, i+1, lastError(r.out))
			default:
				wrong++
				t.Errorf("%s run %d: exit %d left %s (before: %s)\n%s", tc.book, i+1, r.code, after, before, tail(r.out))
			}
			if err := w.topo.DeregisterGone(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("strategies behind faults: %d runs (%d succeeded, %d rolled back), faults %s (%d injected); wrong end states: %d",
		runs, succeeded, rolledBack, proxy, proxy.Injected(), wrong)
}

// lastError is the "error: " line a failed run printed.
func lastError(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "error: ") {
			return lines[i]
		}
	}
	return "(no error line)"
}
