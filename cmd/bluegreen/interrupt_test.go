package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pauseRunbook makes a journaled change, then waits in a pause until a
// signal comes, then (once resumed) leaves a second marker.
const pauseRunbook = `version: 1
name: cli-pause
inputs:
  wait: {type: duration, default: 1h}
colours:
  blue: {}
  green: {}
steps:
  - id: before
    uses: host.exec
    with:
      command: [touch, "%DIR%/before"]
      undo: [rm, -f, "%DIR%/before"]
  - uses: flow.pause
    with: {duration: "${{ inputs.wait }}", reason: waiting for a signal}
  - uses: host.exec
    with: {command: [touch, "%DIR%/after"]}
`

// TestInterrupt runs the real binary, stops it with SIGINT or SIGTERM while
// it pauses, and checks the contract: exit 128+signal, the run recorded as
// interrupted with its journal kept, and resume finishing it.
func TestInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "bluegreen")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	assertStatic(t, bin)
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{
		{syscall.SIGINT, 130},
		{syscall.SIGTERM, 143},
	} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			rb := writeRunbook(t, dir, "pause.yaml", pauseRunbook)
			st := filepath.Join(dir, "state")

			cmd := exec.Command(bin, "run", rb, "--state", st, "--log-format", "json")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			// The first step's marker means the run is under way and its
			// signal handler installed (Main installs it before running).
			if !waitFor(filepath.Join(dir, "before"), done) {
				t.Fatalf("the run ended before its first step finished\nstderr:\n%s", stderr.String())
			}
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			var err error
			select {
			case err = <-done:
			case <-time.After(time.Minute):
				_ = cmd.Process.Kill()
				t.Fatalf("no exit within a minute of %s\nstderr:\n%s", tc.sig, stderr.String())
			}
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) || exitErr.ExitCode() != tc.code {
				t.Fatalf("exit %v, want code %d\nstderr:\n%s", err, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), "interrupted") {
				t.Errorf("stderr does not say the run was interrupted:\n%s", stderr.String())
			}
			if exists(t, filepath.Join(dir, "after")) {
				t.Fatal("the step after the pause ran")
			}
			if !exists(t, filepath.Join(dir, "before")) {
				t.Fatal("an interrupt rolled back; it must keep the change and the journal")
			}

			s := bg(t, "status", rb, "--state", st)
			s.wantCode(t, ExitOK)
			for _, want := range []string{"interrupted", "lock:     free", "1 not undone"} {
				if !strings.Contains(s.stdout, want) {
					t.Errorf("status lacks %q:\n%s", want, s.stdout)
				}
			}

			// A new run is refused while the interrupted one is unfinished.
			bg(t, "run", rb, "--state", st).wantCode(t, ExitInvalid)

			r := bg(t, "resume", rb, "--state", st, "--set", "wait=0s")
			r.wantCode(t, ExitOK)
			if !exists(t, filepath.Join(dir, "after")) {
				t.Error("resume did not run the steps after the pause")
			}
			s = bg(t, "status", rb, "--state", st)
			if !strings.Contains(s.stdout, "succeeded") {
				t.Errorf("status after resume:\n%s", s.stdout)
			}
		})
	}
}

// waitFor waits until path exists, or returns false when the process ends
// first (its exit is put back for the caller).
func waitFor(path string, done chan error) bool {
	for {
		if _, err := os.Stat(path); err == nil {
			return true
		}
		select {
		case err := <-done:
			done <- err
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
}
