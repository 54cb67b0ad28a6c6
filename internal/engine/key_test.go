package engine

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
)

// sharedRunbook is one runbook that serves many applications: the app
// input names the groups and the record the run works on.
const sharedRunbook = `version: 1
name: shared
inputs:
  app: {type: string}
colours:
  blue: {group: "${{ inputs.app }}-blue"}
  green: {group: "${{ inputs.app }}-green"}
on_failure: stop
steps:
  - uses: test.scale
    with: {group: "${{ idle.group }}", desired: 3}
  - uses: test.set-weights
    with: {zone: "${{ inputs.app }}", weights: {"${{ idle.name }}": 100, "${{ live.name }}": 0}}
  - uses: test.scale
    with: {group: "${{ live.group }}", desired: 0}
`

// crashA leaves application a's release unfinished: the weight change is
// journaled, then fails, and on_failure: stop keeps the journal.
func crashA(t *testing.T, h *harness, x *Executor, rb *Runbook) {
	t.Helper()
	h.w.setSize("a-blue", 2)
	h.w.fail["set-weights"] = 1
	if _, err := x.Run(context.Background(), rb, map[string]any{"app": "a"}); err == nil {
		t.Fatal("a's release should stop on the injected failure")
	}
}

func TestTwoApplicationsOfOneRunbookHaveSeparateRecords(t *testing.T) {
	h := newHarness(t)
	rb := h.load(sharedRunbook)
	x := h.exec("")
	crashA(t, h, x, rb)
	keyA, _, _ := rb.StateKey(mustInputs(t, rb, map[string]any{"app": "a"}))
	keyB, _, _ := rb.StateKey(mustInputs(t, rb, map[string]any{"app": "b"}))
	if keyA == keyB || !strings.HasPrefix(keyA, "shared-") {
		t.Fatalf("keys of a and b = %q, %q; want two different shared-<digest> keys", keyA, keyB)
	}
	fileA := filepath.Join(h.dir, keyA+".json")
	before, err := os.ReadFile(fileA)
	if err != nil {
		t.Fatal(err)
	}
	// b's release with --recover resume finds nothing of its own to
	// recover and releases b; a's unfinished run is left for a.
	x.Recover = RecoverResume
	res, err := x.Run(context.Background(), rb, map[string]any{"app": "b"})
	if err != nil || res.Status != state.StatusSucceeded {
		t.Fatalf("b's run = %+v, %v", res, err)
	}
	if after, _ := os.ReadFile(fileA); !bytes.Equal(before, after) {
		t.Fatalf("a's record changed by b's run:\nbefore %s\nafter %s", before, after)
	}
	if h.w.size("a-green") != 3 || h.w.size("a-blue") != 2 || h.w.size("b-green") != 3 || h.w.size("b-blue") != 0 {
		t.Fatalf("sizes %v: a must be left as its crash left it, b released", h.w.sizes)
	}
	recA, err := h.store.Load(context.Background(), keyA)
	if err != nil || recA.Run.Status != state.StatusFailed {
		t.Fatalf("a's run after b's release = %+v, %v; want still failed (unfinished)", recA.Run, err)
	}
	// a resumes with its journaled inputs only.
	if _, err := x.Resume(context.Background(), rb, map[string]any{"app": "a"}); err != nil {
		t.Fatalf("resume a: %v", err)
	}
	if h.w.size("a-blue") != 0 {
		t.Fatalf("a not finished: %v", h.w.sizes)
	}
}

func TestRecoverWithAnotherApplicationsInputsIsRefused(t *testing.T) {
	for _, mode := range []string{"run --recover resume", "run --recover rollback", "resume", "rollback"} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t)
			rb := h.load(sharedRunbook)
			x := h.exec("")
			x.Key = "one-record" // both applications forced into one record
			crashA(t, h, x, rb)
			file := filepath.Join(h.dir, "one-record.json")
			before, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			calls := len(h.w.calls)
			b := map[string]any{"app": "b"}
			switch mode {
			case "run --recover resume":
				x.Recover = RecoverResume
				_, err = x.Run(context.Background(), rb, b)
			case "run --recover rollback":
				x.Recover = RecoverRollback
				_, err = x.Run(context.Background(), rb, b)
			case "resume":
				_, err = x.Resume(context.Background(), rb, b)
			case "rollback":
				_, err = x.Rollback(context.Background(), rb, b)
			}
			if !isInvalid(err) || !strings.Contains(err.Error(), "application") {
				t.Fatalf("%s with b's inputs = %v; want an InvalidError about the application", mode, err)
			}
			if after, _ := os.ReadFile(file); !bytes.Equal(before, after) {
				t.Fatalf("the record changed:\nbefore %s\nafter %s", before, after)
			}
			if len(h.w.calls) != calls || h.w.size("b-green") != 0 || h.w.size("a-green") != 3 {
				t.Fatalf("steps ran: calls %v, sizes %v", h.w.calls[calls:], h.w.sizes)
			}
			// With its own inputs (or none: they are journaled) a recovers.
			if _, err := x.Resume(context.Background(), rb, nil); err != nil {
				t.Fatalf("resume a with its journaled inputs: %v", err)
			}
		})
	}
}

func TestDeclaredKey(t *testing.T) {
	h := newHarness(t)
	rb := h.load(strings.Replace(sharedRunbook, "on_failure: stop", `key: "app/${{ inputs.app }}/${{ colours.blue.group }}"`, 1))
	key, _, err := rb.StateKey(mustInputs(t, rb, map[string]any{"app": "x"}))
	if err != nil || key != "app/x/x-blue" {
		t.Fatalf("key = %q, %v; want app/x/x-blue", key, err)
	}
	if _, err := h.exec("").Run(context.Background(), rb, map[string]any{"app": "x"}); err != nil {
		t.Fatal(err)
	}
	if rec, err := h.store.Load(context.Background(), "app/x/x-blue"); err != nil || rec == nil || rec.Run.Status != state.StatusSucceeded {
		t.Fatalf("record under the declared key = %+v, %v", rec, err)
	}
	// A key that is not text is refused when the runbook is loaded.
	_, err = Parse("k.yaml", []byte(strings.Replace(sharedRunbook, "on_failure: stop", "key: [a, b]", 1)), h.reg)
	if err == nil || !strings.Contains(err.Error(), "key: expected a string") {
		t.Fatalf("list key: %v", err)
	}
	_, err = Parse("k.yaml", []byte(strings.Replace(sharedRunbook, "on_failure: stop", `key: "${{ inputs.nope }}"`, 1)), h.reg)
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("key over an unknown input: %v", err)
	}
}

// TestLostLeaseStopsTheRun: a run whose lock is taken over while it waits
// in a gate stops before its next change and writes nothing more.
func TestLostLeaseStopsTheRun(t *testing.T) {
	h := newHarness(t)
	rb := h.load(`version: 1
name: lease
colours: {blue: {group: web-blue}, green: {group: web-green}}
steps:
  - uses: test.scale
    with: {group: "${{ idle.group }}", desired: 3}
  - uses: test.health
    with: {group: "${{ idle.group }}"}
    gate: {until: "healthy > 100", every: 50ms, timeout: 1m}
  - uses: test.scale
    with: {group: "${{ live.group }}", desired: 0}
`)
	key, _, _ := rb.StateKey(mustInputs(t, rb, nil))
	h.w.setSize("web-blue", 2)
	x := h.exec("")
	x.Lease = 300 * time.Millisecond
	taken := make(chan error, 1)
	go func() {
		// Another worker breaks the lock and takes it while the run waits.
		time.Sleep(200 * time.Millisecond)
		if _, err := h.store.Break(context.Background(), key); err != nil {
			taken <- err
			return
		}
		_, err := h.store.Acquire(context.Background(), key, state.Holder{Host: "worker-b", PID: 9, RunID: "b-run", Since: time.Now(), Expires: time.Now().Add(time.Hour)})
		taken <- err
	}()
	start := time.Now()
	_, err := x.Run(context.Background(), rb, nil)
	if terr := <-taken; terr != nil {
		t.Fatal(terr)
	}
	// The run notices at its next renewal: between the break and the
	// other worker's acquire (no holder yet) or after it (naming it).
	var lost *state.LeaseLostError
	if !errors.As(err, &lost) || lost.Holder != nil && lost.Holder.RunID != "b-run" {
		t.Fatalf("run = %v; want a LeaseLostError (naming run b-run if it names a holder)", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the run noticed the lost lease after %s", d)
	}
	if h.w.size("web-blue") != 2 {
		t.Fatalf("the run changed the live group after losing its lease: %v", h.w.sizes)
	}
	rec, _ := h.store.Load(context.Background(), key)
	if rec.Run.Status != state.StatusRunning {
		t.Fatalf("record status %s; the run must not have written after losing the lease", rec.Run.Status)
	}
	if hd, _ := h.store.Holder(context.Background(), key); hd == nil || hd.RunID != "b-run" {
		t.Fatalf("holder after the run = %v; the new holder's lock must be left alone", hd)
	}
}
