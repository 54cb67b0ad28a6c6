package e2e_aws

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
)

// TestPreflightOctopusNotConfigured is the reproduction: with
// octopus_project set and no Octopus configured, alb-weighted used to
// shift 10/50/100 % and then undo it all. Now it stops before the first
// change, as invalid, naming the Octopus steps.
func TestPreflightOctopusNotConfigured(t *testing.T) {
	t.Setenv(octopus.EnvURL, "")
	t.Setenv(octopus.EnvAPIKey, "")
	w := newWorld(t, "alb-weighted.yaml", awstest.Options{SharedALB: true})
	w.cnt.Reset()
	start := time.Now()
	_, err := w.run(map[string]string{"octopus_project": "Web"})
	took := time.Since(start)
	var inv *engine.InvalidError
	if !errors.As(err, &inv) {
		w.dump()
		t.Fatalf("run error %v (%T), want *engine.InvalidError (exit 2)", err, err)
	}
	for _, want := range []string{"step live_variable", "preflight", "set OCTOPUS_URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if took > 5*time.Second {
		t.Fatalf("took %s, want under 5s", took)
	}
	w.expect(map[string]int{"blue": 100, "green": 0}, map[string]int{"blue": 2, "green": 0})
	if n := len(events[*engine.ChangeRecorded](w)); n != 0 {
		t.Fatalf("%d changes recorded", n)
	}
	t.Logf("exit 2 after %s, %d AWS API calls (all reads): %v", took.Round(time.Millisecond), w.cnt.Total(), err)
}

// TestPreflightCLIWrongRegionOrEndpoint runs the binary with AWS pointed at
// the wrong region, then at an endpoint where nothing listens: both exit 2
// in under 5 seconds and change nothing.
func TestPreflightCLIWrongRegionOrEndpoint(t *testing.T) {
	w := newWorld(t, "alb-weighted.yaml", awstest.Options{SharedALB: true})
	bin := binary(t)
	m, _ := awstest.Shared(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	for _, c := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"wrong region", map[string]string{"AWS_REGION": "ap-southeast-2"}, "in region ap-southeast-2"},
		{"unreachable endpoint", map[string]string{"AWS_ENDPOINT_URL": closed}, "sts:GetCallerIdentity"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := os.Environ()
			for k, v := range awstest.Env(m.URL) {
				env = append(env, k+"="+v)
			}
			for k, v := range c.env {
				env = append(env, k+"="+v)
			}
			args := []string{"run", runbookPath("alb-weighted.yaml"), "--state", t.TempDir(), "--log-format", "json"}
			for k, v := range w.inputs(nil) {
				args = append(args, "--set", k+"="+v.(string))
			}
			cmd := exec.Command(bin, args...)
			cmd.Env = env
			start := time.Now()
			out, err := cmd.CombinedOutput()
			took := time.Since(start)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("exit %v, want 2:\n%s", err, out)
			}
			if !strings.Contains(string(out), c.want) || !strings.Contains(string(out), "preflight") {
				t.Fatalf("output lacks %q:\n%s", c.want, out)
			}
			if took > 5*time.Second {
				t.Fatalf("took %s, want under 5s", took)
			}
			t.Logf("%s: exit 2 after %s", c.name, took.Round(time.Millisecond))
			w.expect(map[string]int{"blue": 100, "green": 0}, map[string]int{"blue": 2, "green": 0})
		})
	}
}
