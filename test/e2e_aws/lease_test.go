package e2e_aws

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/internal/state/dynamostate"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// leaseRunbook changes something, pauses, and changes something that
// names the worker that made it.
const leaseRunbook = `version: 1
name: dynamo-lease
inputs:
  dir: {type: string}
  wait: {type: duration, default: 1h}
  who: {type: string, default: a}
colours: {blue: {}, green: {}}
steps:
  - uses: host.exec
    with: {command: [touch, "${{ inputs.dir }}/before"], undo: [rm, -f, "${{ inputs.dir }}/before"]}
  - uses: flow.pause
    with: {duration: "${{ inputs.wait }}", reason: waiting}
  - uses: host.exec
    with: {command: [touch, "${{ inputs.dir }}/after-${{ inputs.who }}"], undo: [rm, -f, "${{ inputs.dir }}/after-${{ inputs.who }}"]}
`

// TestFrozenWorkerLosesItsDynamoLease: worker A, holding the application's
// lease in the shared DynamoDB table, is frozen (SIGSTOP) past its lease;
// worker B takes the lock over, naming A, and finishes A's release; A is
// thawed (SIGCONT): it changes nothing, writes nothing and exits non-zero.
func TestFrozenWorkerLosesItsDynamoLease(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	m, _ := awstest.Shared(t)
	ctx := context.Background()
	cfg := awstest.Config(m.URL)
	createTable(t, cfg, "leases")
	bin := binary(t)
	dir := t.TempDir()
	rb := filepath.Join(dir, "lease.yaml")
	if err := os.WriteFile(rb, []byte(leaseRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	env := envFor(m.URL)
	base := []string{"run", rb, "--state", "dynamodb://leases", "--set", "dir=" + dir, "--lease", "2s"}

	a := exec.Command(bin, append(base, "--log-format", "json")...)
	a.Env = env
	var aout strings.Builder
	a.Stdout, a.Stderr = &aout, &aout
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	defer a.Process.Kill()
	done := make(chan error, 1)
	go func() { done <- a.Wait() }()
	for {
		if _, err := os.Stat(filepath.Join(dir, "before")); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("A ended before its first change: %v\n%s", err, aout.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	time.Sleep(200 * time.Millisecond)
	if err := a.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	pid := "pid " + strconv.Itoa(a.Process.Pid)

	b := runCLI(bin, env, append(base, "--recover", "resume", "--set", "wait=0s", "--set", "who=b")...)
	if b.code != 3 || !strings.Contains(b.out, pid) {
		t.Fatalf("B within A's lease: exit %d, want 3 naming A (%s):\n%s", b.code, pid, tail(b.out))
	}
	var took time.Duration
	for {
		time.Sleep(200 * time.Millisecond)
		b = runCLI(bin, env, append(base, "--recover", "resume", "--set", "wait=0s", "--set", "who=b")...)
		if b.code != 3 {
			took = time.Since(stopped)
			break
		}
		if time.Since(stopped) > 20*time.Second {
			t.Fatalf("B could not take over 20s after A was frozen:\n%s", tail(b.out))
		}
	}
	if b.code != 0 || !strings.Contains(b.out, "took over the lock") || !strings.Contains(b.out, pid) || !strings.Contains(b.out, "lease expired") {
		t.Fatalf("B after A's lease: exit %d, want 0 with a takeover naming A:\n%s", b.code, tail(b.out))
	}
	t.Logf("B took the DynamoDB lease over %s after A was frozen (lease 2s)", took.Round(time.Millisecond))
	store := dynamostate.NewWithConfig(cfg, "leases")
	book, err := engine.Load(rb, steps.Default)
	if err != nil {
		t.Fatal(err)
	}
	in, err := book.ResolveInputs(map[string]any{"dir": dir})
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := book.StateKey(in)
	if err != nil {
		t.Fatal(err)
	}
	keys := func() string {
		rec, err := store.Load(ctx, key)
		if err != nil || rec == nil || rec.Run == nil {
			t.Fatalf("record: %+v, %v", rec, err)
		}
		b, _ := json.Marshal(rec)
		return string(b)
	}
	before := keys()

	if err := a.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("A did not exit after SIGCONT:\n%s", aout.String())
	}
	if err == nil || !strings.Contains(aout.String(), "lost the lock") {
		t.Fatalf("A after SIGCONT: %v, want a non-zero exit saying it lost the lock:\n%s", err, aout.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "after-a")); err == nil {
		t.Fatal("A made its change after losing the lease")
	}
	for _, f := range []string{"before", "after-b"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("%s is gone: A undid B's release", f)
		}
	}
	if after := keys(); after != before {
		t.Fatalf("A wrote the record after losing the lease: %s, then %s", before, after)
	}
}
