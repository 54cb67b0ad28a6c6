package e2e_aws

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// binary builds the bluegreen binary once for every test that runs it, as
// make build does (static, CGO off), and returns its path. TestMain
// removes it.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		binDir, binErr = os.MkdirTemp("", "bluegreen-e2e-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "bluegreen")
		build := exec.Command("go", "build", "-o", binPath, "./cmd/bluegreen")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		build.Dir = filepath.Join(filepath.Dir(file), "..", "..")
		if out, err := build.CombinedOutput(); err != nil {
			binErr = errors.New(string(out))
		}
	})
	if binErr != nil {
		t.Fatalf("go build: %v", binErr)
	}
	return binPath
}

// removeBinary deletes what binary built.
func removeBinary() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
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
