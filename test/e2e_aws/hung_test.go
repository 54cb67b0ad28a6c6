package e2e_aws

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
)

// bakeRunbook is a bake gate alone: a CloudWatch read polled every 500ms
// that fails the release when the gate's 3s run out.
const bakeRunbook = `version: 1
name: hung-bake
colours: {blue: {}, green: {}}
steps:
  - id: bake
    uses: aws.cloudwatch.metric
    with: {namespace: AWS/ApplicationELB, metric: HTTPCode_Target_5XX_Count, stat: Sum}
    gate: {until: "datapoints > 1000", every: 500ms, timeout: 3s}
`

// buildCLI builds the bluegreen binary once per test.
func buildCLI(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(t.TempDir(), "bluegreen")
	build := exec.Command("go", "build", "-o", bin, "./cmd/bluegreen")
	build.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// blackHole accepts connections and never answers them.
func blackHole(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never read or written
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return "http://" + l.Addr().String()
}

// TestHungEndpointFailsTheGate is defect 4's AWS half: with the endpoint
// accepting connections and never answering, a bake with a 3s timeout
// must fail (exit 1) once its time is up, not sit in GetMetricData for
// minutes.
func TestHungEndpointFailsTheGate(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	bin := buildCLI(t)
	dir := t.TempDir()
	rb := filepath.Join(dir, "bake.yaml")
	if err := os.WriteFile(rb, []byte(bakeRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	env := os.Environ()
	for k, v := range awstest.Env(blackHole(t)) {
		env = append(env, k+"="+v)
	}
	cmd := exec.Command(bin, "run", rb, "--state", filepath.Join(dir, "state"), "--log-format", "json")
	cmd.Env = env
	start := time.Now()
	done := make(chan error, 1)
	var out []byte
	go func() {
		var err error
		out, err = cmd.CombinedOutput()
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("the run hung for a minute behind an endpoint that never answers")
	}
	took := time.Since(start)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1 (the gate failed):\n%s", err, out)
	}
	if !strings.Contains(string(out), "gate timed out after 3s") || !strings.Contains(string(out), "no answer within") {
		t.Fatalf("the failure does not say the gate timed out on a poll with no answer:\n%s", out)
	}
	t.Logf("hung endpoint: the 3s bake gate failed the run after %s", took.Round(time.Millisecond))
}
