package e2e_aws

import (
	"errors"
	"os/exec"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/benchrun"
)

// binary returns the bluegreen binary the tests run: the one the full-run
// benchmarks of this package run too, built once per test process as make
// build builds it (benchrun.Binary), rather than a second build of it.
func binary(t *testing.T) string {
	t.Helper()
	return benchrun.Binary(t)
}

// runBinary runs the built binary with env and returns what it printed and
// its exit code; a failure to start it fails the test.
func runBinary(t *testing.T, bin string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}
