package e2e_aws

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
)

// TestCLI runs weighted-dns through the bluegreen binary, as Octopus and
// `make demo` do: inputs as --set flags, AWS through the environment, and
// the documented exit codes.
func TestCLI(t *testing.T) {
	w := newWorld(t, "weighted-dns.yaml", awstest.Options{})
	bin := binary(t)
	m, _ := awstest.Shared(t)
	env := os.Environ()
	for k, v := range awstest.Env(m.URL) {
		env = append(env, k+"="+v)
	}
	stateDir := t.TempDir()
	cli := func(over map[string]string) (string, int) {
		args := []string{"run", runbookPath("weighted-dns.yaml"), "--state", stateDir, "--log-format", "json"}
		for k, v := range w.inputs(over) {
			args = append(args, "--set", k+"="+v.(string))
		}
		return runBinary(t, bin, env, args...)
	}

	if out, code := cli(map[string]string{"weights": "[50, 100]"}); code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	w.expect(map[string]int{"blue": 0, "green": 100}, map[string]int{"blue": 0, "green": 2})

	// Blue, idle now, cannot become healthy: exit 1, rolled back.
	if _, err := w.topo.AddStoppedTarget(context.Background(), "blue"); err != nil {
		t.Fatal(err)
	}
	out, code := cli(map[string]string{"health_timeout": "500ms"})
	if code != 1 || !strings.Contains(out, "idle_healthy") {
		t.Fatalf("exit %d, want 1 naming the health gate:\n%s", code, out)
	}
	w.expect(map[string]int{"blue": 0, "green": 100}, map[string]int{"blue": 0, "green": 2})

	// A mistyped input is refused before any AWS call: exit 2.
	if out, code := cli(map[string]string{"error_threshold": "five"}); code != 2 {
		t.Fatalf("exit %d, want 2:\n%s", code, out)
	}
}
