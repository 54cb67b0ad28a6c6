package e2e_aws

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
)

// listenerRules describes the shared listener's rules other than the
// default one, as "header NAME=VALUE -> TARGET GROUP" lines.
func listenerRules(t testing.TB, topo *awstest.Topology) []string {
	t.Helper()
	rules, err := topo.ListenerRules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rules {
		if awssdk.ToBool(r.IsDefault) {
			continue
		}
		var conds, tgs []string
		for _, c := range r.Conditions {
			if c.HttpHeaderConfig != nil {
				conds = append(conds, fmt.Sprintf("header %s=%s", awssdk.ToString(c.HttpHeaderConfig.HttpHeaderName), strings.Join(c.HttpHeaderConfig.Values, "|")))
			} else {
				conds = append(conds, awssdk.ToString(c.Field)+" "+strings.Join(c.Values, "|"))
			}
		}
		for _, a := range r.Actions {
			if a.ForwardConfig != nil {
				for _, tg := range a.ForwardConfig.TargetGroups {
					for colour, s := range topo.Stacks {
						if s.TargetGroup == awssdk.ToString(tg.TargetGroupArn) {
							tgs = append(tgs, colour)
						}
					}
				}
			}
		}
		sort.Strings(conds)
		out = append(out, strings.Join(conds, " & ")+" -> "+strings.Join(tgs, ","))
	}
	sort.Strings(out)
	return out
}

// smokeServer stands in for the public entry point: moto's load balancer
// does not serve HTTP. It answers a request with the preview header as the
// idle colour's new release would ("release 43 <colour>"), and records the
// listener's rules at the moment each smoke check arrives.
type smokeServer struct {
	*httptest.Server
	mu     sync.Mutex
	seen   [][]string // rules at each check
	hits   chan string
	status int
}

func newSmokeServer(t *testing.T, topo *awstest.Topology, status int) *smokeServer {
	s := &smokeServer{hits: make(chan string, 100), status: status}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rules := listenerRules(t, topo)
		s.mu.Lock()
		s.seen = append(s.seen, rules)
		s.mu.Unlock()
		colour := r.Header.Get("X-Preview")
		select {
		case s.hits <- colour:
		default:
		}
		if colour == "" {
			http.Error(w, "no preview header", http.StatusNotFound)
			return
		}
		w.WriteHeader(s.status)
		fmt.Fprintf(w, "release 43 %s\n", colour)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *smokeServer) rulesSeen() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]string(nil), s.seen...)
}

// TestALBWeightedPreview: the preview rule exists, with the header
// condition and the idle target group, while the smoke check runs through
// the entry point, and is gone after a successful release and after a
// smoke check that fails (rolled back); the default action is only ever
// moved by the shift.
func TestALBWeightedPreview(t *testing.T) {
	w := newWorld(t, "alb-weighted.yaml", awstest.Options{SharedALB: true})
	smoke := newSmokeServer(t, w.topo, http.StatusOK)
	in := map[string]string{"preview": "true", "preview_url": smoke.URL + "/health", "preview_expect_body": "release 43"}

	w.mustSucceed(in, "green")
	seen := smoke.rulesSeen()
	if len(seen) == 0 {
		t.Fatal("the smoke check never reached the entry point")
	}
	if want := []string{"header X-Preview=green -> green"}; fmt.Sprint(seen[0]) != fmt.Sprint(want) {
		t.Fatalf("rules during the smoke check: %v, want %v", seen[0], want)
	}
	if got := listenerRules(t, w.topo); len(got) != 0 {
		t.Fatalf("rules after the release: %v, want none", got)
	}
	w.expect(map[string]int{"blue": 0, "green": 100}, map[string]int{"blue": 0, "green": 2})
	if err := w.topo.DeregisterGone(context.Background()); err != nil {
		t.Fatal(err)
	}

	// The new release on blue does not serve the expected text: the gate
	// fails, the release rolls back, the preview rule goes with it.
	in["preview_expect_body"], in["preview_timeout"] = "release 44", "500ms"
	w.mustRollBack(in, "preview_check")
	last := smoke.rulesSeen()
	if want := []string{"header X-Preview=blue -> blue"}; fmt.Sprint(last[len(last)-1]) != fmt.Sprint(want) {
		t.Fatalf("rules during the failing smoke check: %v, want %v", last[len(last)-1], want)
	}
	if got := listenerRules(t, w.topo); len(got) != 0 {
		t.Fatalf("rules after the rollback: %v, want none", got)
	}
	w.expect(map[string]int{"blue": 0, "green": 100}, map[string]int{"green": 2})
}

// TestALBWeightedPreviewKilled kills the bluegreen process (SIGKILL: no
// handler runs) while the preview route is open; `bluegreen rollback`
// removes the rule from the journal.
func TestALBWeightedPreviewKilled(t *testing.T) {
	w := newWorld(t, "alb-weighted.yaml", awstest.Options{SharedALB: true})
	// 503 keeps the smoke-check gate polling until the process is killed.
	smoke := newSmokeServer(t, w.topo, http.StatusServiceUnavailable)
	bin := binary(t)
	m, _ := awstest.Shared(t)
	env := os.Environ()
	for k, v := range awstest.Env(m.URL) {
		env = append(env, k+"="+v)
	}
	stateDir := t.TempDir()
	args := func(verb string) []string {
		a := []string{verb, runbookPath("alb-weighted.yaml"), "--state", stateDir, "--log-format", "json"}
		for k, v := range w.inputs(map[string]string{"preview": "true", "preview_url": smoke.URL, "preview_timeout": "1m"}) {
			a = append(a, "--set", k+"="+v.(string))
		}
		return a
	}

	run := exec.Command(bin, args("run")...)
	run.Env = env
	var out bytes.Buffer
	run.Stdout, run.Stderr = &out, &out
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-smoke.hits:
	case <-time.After(90 * time.Second):
		_ = run.Process.Kill()
		_ = run.Wait()
		t.Fatalf("the smoke check never arrived:\n%s", out.String())
	}
	if err := run.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = run.Wait()
	if got := listenerRules(t, w.topo); fmt.Sprint(got) != fmt.Sprint([]string{"header X-Preview=green -> green"}) {
		t.Fatalf("rules after the kill: %v, want the preview rule still there", got)
	}

	rb := exec.Command(bin, args("rollback")...)
	rb.Env = env
	if b, err := rb.CombinedOutput(); err != nil {
		t.Fatalf("rollback: %v\n%s", err, b)
	}
	if got := listenerRules(t, w.topo); len(got) != 0 {
		t.Fatalf("rules after the rollback: %v, want none", got)
	}
	w.expect(map[string]int{"blue": 100, "green": 0}, map[string]int{"blue": 2, "green": 0})
}
