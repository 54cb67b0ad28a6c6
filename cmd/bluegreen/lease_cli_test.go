package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
)

// leaseRunbook changes something, pauses, and changes something else that
// names the worker that made it.
const leaseRunbook = `version: 1
name: cli-lease
inputs:
  wait: {type: duration, default: 1h}
  who: {type: string, default: a}
colours:
  blue: {}
  green: {}
steps:
  - uses: host.exec
    with:
      command: [touch, "%DIR%/before"]
      undo: [rm, -f, "%DIR%/before"]
  - uses: flow.pause
    with: {duration: "${{ inputs.wait }}", reason: waiting}
  - uses: host.exec
    with:
      command: [touch, "%DIR%/after-${{ inputs.who }}"]
      undo: [rm, -f, "%DIR%/after-${{ inputs.who }}"]
`

func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "bluegreen")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func exitOf(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestPausedHolderLosesItsLease is defect 6 and its fencing: worker A is
// frozen (SIGSTOP) past its lease in the middle of a release; worker B
// takes the lock over, naming A, and finishes the release; A is thawed
// (SIGCONT) and must change nothing, write nothing and exit non-zero.
func TestPausedHolderLosesItsLease(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	rb := writeRunbook(t, dir, "lease.yaml", leaseRunbook)
	st := filepath.Join(dir, "state")

	a := exec.Command(bin, "run", rb, "--state", st, "--lease", "1s", "--log-format", "json")
	var aerr bytes.Buffer
	a.Stdout, a.Stderr = &aerr, &aerr
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Wait() }()
	if !waitFor(filepath.Join(dir, "before"), done) {
		t.Fatalf("A ended before its first change:\n%s", aerr.String())
	}
	time.Sleep(100 * time.Millisecond) // A is in the pause
	if err := a.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	defer a.Process.Kill()

	// While A's lease runs, B is refused (exit 3, naming A).
	b := bg(t, "run", rb, "--state", st, "--recover", "resume", "--set", "wait=0s", "--set", "who=b")
	b.wantCode(t, ExitLocked)
	if !strings.Contains(b.stderr, "pid "+itoa(a.Process.Pid)) {
		t.Fatalf("B's refusal does not name A (pid %d):\n%s", a.Process.Pid, b.stderr)
	}
	// Past the lease B takes over and finishes A's release.
	var took time.Duration
	for {
		b = bg(t, "run", rb, "--state", st, "--recover", "resume", "--set", "wait=0s", "--set", "who=b")
		if b.code != ExitLocked {
			took = time.Since(stopped)
			break
		}
		if time.Since(stopped) > 10*time.Second {
			t.Fatalf("B could not take over 10s after A stopped:\n%s", b.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.wantCode(t, ExitOK)
	t.Logf("B took the lock over %s after A was stopped (lease 1s)", took.Round(time.Millisecond))
	if !strings.Contains(b.stderr, "took over the lock") || !strings.Contains(b.stderr, "pid "+itoa(a.Process.Pid)) || !strings.Contains(b.stderr, "lease expired") {
		t.Fatalf("B's log does not name the old holder and why it took over:\n%s", b.stderr)
	}
	if !exists(t, filepath.Join(dir, "after-b")) {
		t.Fatal("B did not finish the release")
	}
	recFile, _ := filepath.Glob(filepath.Join(st, "cli-lease-*.json"))
	if len(recFile) != 1 {
		t.Fatalf("records: %v", recFile)
	}
	before, _ := os.ReadFile(recFile[0])

	// A wakes up: no change, no write, a clear error, non-zero.
	if err := a.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("A did not exit after SIGCONT:\n%s", aerr.String())
	}
	if code := exitOf(err); code == 0 {
		t.Fatalf("A exited 0 after losing its lease:\n%s", aerr.String())
	}
	if !strings.Contains(aerr.String(), "lost the lock") {
		t.Fatalf("A's error does not say it lost the lock:\n%s", aerr.String())
	}
	if exists(t, filepath.Join(dir, "after-a")) {
		t.Fatal("A made its change after losing the lease")
	}
	if !exists(t, filepath.Join(dir, "before")) || !exists(t, filepath.Join(dir, "after-b")) {
		t.Fatal("A undid changes after losing the lease")
	}
	if after, _ := os.ReadFile(recFile[0]); !bytes.Equal(before, after) {
		t.Fatalf("A wrote the record after losing the lease:\nbefore %s\nafter %s", before, after)
	}
}

// TestTenRunsOfOneApplication: ten workers start the same release at once;
// exactly one proceeds, the other nine exit 3 naming the holder.
func TestTenRunsOfOneApplication(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	rb := writeRunbook(t, dir, "lease.yaml", leaseRunbook)
	st := filepath.Join(dir, "state")
	var wg sync.WaitGroup
	codes := make([]int, 10)
	outs := make([]string, 10)
	for i := range codes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cmd := exec.Command(bin, "run", rb, "--state", st, "--set", "wait=1500ms", "--log-format", "json")
			out, err := cmd.CombinedOutput()
			codes[i], outs[i] = exitOf(err), string(out)
		}(i)
	}
	wg.Wait()
	ok, locked := 0, 0
	for i, c := range codes {
		switch {
		case c == ExitOK:
			ok++
		case c == ExitLocked && strings.Contains(outs[i], "is locked by run "):
			locked++
		default:
			t.Errorf("worker %d exit %d:\n%s", i, c, outs[i])
		}
	}
	if ok != 1 || locked != 9 {
		t.Fatalf("%d succeeded and %d were refused naming the holder; want 1 and 9", ok, locked)
	}
}

func TestUnlockForce(t *testing.T) {
	dir := t.TempDir()
	rb := writeRunbook(t, dir, "lease.yaml", leaseRunbook)
	st := filepath.Join(dir, "state")
	key := appKey(t, rb, st)
	if !strings.HasPrefix(key, "cli-lease-") {
		t.Fatalf("status names key %q", key)
	}
	store, _ := state.NewFileStore(st)
	// A holder on another host without a lease: never taken over by itself.
	if _, err := store.Acquire(context.Background(), key, state.Holder{Host: "worker-9", PID: 4242, RunID: "stuck-run", Since: time.Now()}); err != nil {
		t.Fatal(err)
	}
	bg(t, "run", rb, "--state", st, "--set", "wait=0s").wantCode(t, ExitLocked)
	bg(t, "unlock", rb, "--state", st).wantCode(t, ExitInvalid)
	u := bg(t, "unlock", rb, "--state", st, "--force")
	u.wantCode(t, ExitOK)
	if !strings.Contains(u.stdout, "stuck-run") || !strings.Contains(u.stdout, "worker-9") {
		t.Fatalf("unlock does not name the holder:\n%s", u.stdout)
	}
	bg(t, "run", rb, "--state", st, "--set", "wait=0s").wantCode(t, ExitOK)
	u = bg(t, "unlock", rb, "--state", st, "--force")
	if u.code != ExitOK || !strings.Contains(u.stdout, "was free") {
		t.Fatalf("unlock of a free lock: %d %s", u.code, u.stdout)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// appKey asks status for the state key of the runbook's application.
func appKey(t *testing.T, rb, st string, args ...string) string {
	t.Helper()
	s := bg(t, append([]string{"status", rb, "--state", st}, args...)...)
	s.wantCode(t, ExitOK)
	for _, l := range strings.Split(s.stdout, "\n") {
		if strings.HasPrefix(l, "key:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "key:"))
		}
	}
	t.Fatalf("status names no key:\n%s", s.stdout)
	return ""
}
