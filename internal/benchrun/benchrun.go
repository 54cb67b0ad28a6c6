// Package benchrun runs the bluegreen binary for the full-run benchmarks
// (issue 14, item 2): a whole release, as Octopus runs it, in a child
// process, so that its peak memory is the real binary's maximum resident
// set (getrusage's ru_maxrss) and not the test process's, which holds moto
// clients, the topology and the benchmark itself.
package benchrun

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// EnvBin names a bluegreen binary to measure instead of building one;
// `make bench` sets it to the binary `make build` made.
const EnvBin = "BLUEGREEN_BENCH_BIN"

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// Binary returns the binary to run: $BLUEGREEN_BENCH_BIN, or one built
// once per test process as `make build` builds it (static, CGO off).
// Remove deletes a built one; the benchmarks' TestMain calls it.
func Binary(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv(EnvBin); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			tb.Fatal(err)
		}
		return abs
	}
	binOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		binDir, binErr = os.MkdirTemp("", "bluegreen-bench-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "bluegreen")
		build := exec.Command("go", "build", "-trimpath", "-o", binPath, "./cmd/bluegreen")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		build.Dir = filepath.Join(filepath.Dir(file), "..", "..")
		if out, err := build.CombinedOutput(); err != nil {
			binErr = errors.New(string(out))
		}
	})
	if binErr != nil {
		tb.Fatalf("go build: %v", binErr)
	}
	return binPath
}

// Remove deletes the binary Binary built, if any.
func Remove() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

// Result is one measured run of the binary.
type Result struct {
	// Wall is the child's time from start to exit.
	Wall time.Duration
	// MaxRSS is the child's peak resident set in bytes (ru_maxrss).
	MaxRSS int64
	// GateWait is the time the run's gates spent before their deciding
	// poll: for each gate, the elapsed time its last poll reports. It is
	// the configured poll interval times the polls that did not yet pass
	// (plus those polls' own, short, time).
	GateWait time.Duration
	// Stdout is the result object (`-o json`); Log the JSON log lines.
	Stdout, Log string
}

// Run runs `bluegreen run BOOK` with the inputs (written to a JSON file,
// so lists and numbers keep their types) and a state directory of its
// own, and returns the measurements. extra are more arguments (--phase).
// A run that does not succeed is an error: a benchmark of a failed
// release measures nothing.
func Run(ctx context.Context, bin, book, dir string, inputs map[string]any, extra ...string) (Result, error) {
	b, err := json.Marshal(inputs)
	if err != nil {
		return Result{}, err
	}
	in := filepath.Join(dir, "inputs.json")
	if err := os.WriteFile(in, b, 0o600); err != nil {
		return Result{}, err
	}
	args := append([]string{"run", book, "--inputs", in, "--state", filepath.Join(dir, "state"),
		"--log-format", "json", "--progress", "never", "-o", "json"}, extra...)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	r := Result{Wall: wall, Stdout: stdout.String(), Log: stderr.String()}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.MaxRSS = ru.Maxrss * 1024 // KiB on Linux
		}
	}
	if err != nil {
		return r, fmt.Errorf("bluegreen run %s: %v\nstdout: %s\nlog (last 4000 bytes): %s", book, err, r.Stdout, tail(r.Log, 4000))
	}
	// Steps that set Octopus output variables print service messages
	// before the result object; the object starts on a line of its own.
	obj := stdout.Bytes()
	if i := bytes.Index(obj, []byte("\n{")); i >= 0 && !bytes.HasPrefix(obj, []byte("{")) {
		obj = obj[i+1:]
	}
	var res struct{ Status string }
	if err := json.Unmarshal(obj, &res); err != nil || (res.Status != "succeeded" && res.Status != "phase-done") {
		return r, fmt.Errorf("bluegreen run %s: status %q (%v)\nstdout: %s", book, res.Status, err, r.Stdout)
	}
	r.GateWait, err = gateWait(r.Log)
	return r, err
}

// gateWait sums, over the gates in a JSON log, the elapsed time of each
// gate's last poll.
func gateWait(log string) (time.Duration, error) {
	last := map[string]time.Duration{}
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		var l struct {
			Message string `json:"message"`
			Step    string `json:"step"`
			Elapsed string `json:"elapsed"`
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil || !strings.HasPrefix(l.Message, "gate ") || l.Elapsed == "" {
			continue
		}
		d, err := time.ParseDuration(l.Elapsed)
		if err != nil {
			return 0, fmt.Errorf("gate %s: elapsed %q: %v", l.Step, l.Elapsed, err)
		}
		last[l.Step] = d
	}
	var sum time.Duration
	for _, d := range last {
		sum += d
	}
	return sum, sc.Err()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
