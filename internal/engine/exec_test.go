package engine

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// recorder collects events for assertions.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) sink(e Event) { r.mu.Lock(); r.events = append(r.events, e); r.mu.Unlock() }

func (r *recorder) gates(path string) []*GateEvaluated {
	var out []*GateEvaluated
	for _, e := range r.events {
		if g, ok := e.(*GateEvaluated); ok && (path == "" || g.Path == path) {
			out = append(out, g)
		}
	}
	return out
}

func (r *recorder) undos() []*UndoApplied {
	var out []*UndoApplied
	for _, e := range r.events {
		if u, ok := e.(*UndoApplied); ok {
			out = append(out, u)
		}
	}
	return out
}

type harness struct {
	t     *testing.T
	w     *world
	reg   *steps.Registry
	store state.Store
	dir   string
	rec   *recorder
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	st, err := state.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld()
	return &harness{t: t, w: w, reg: testRegistry(w), store: st, dir: dir, rec: &recorder{}}
}

func (h *harness) load(src string) *Runbook {
	h.t.Helper()
	rb, err := Parse("test.yaml", []byte(src), h.reg)
	if err != nil {
		h.t.Fatalf("parse: %v", err)
	}
	return rb
}

func (h *harness) exec(phase string) *Executor {
	return &Executor{Registry: h.reg, Store: h.store, Phase: phase, Sinks: []Sink{h.rec.sink}, UndoBackoff: time.Millisecond}
}

func (h *harness) runFile(path string, inputs map[string]any) (*Result, error) {
	h.t.Helper()
	rb, err := Load(path, h.reg)
	if err != nil {
		h.t.Fatalf("load: %v", err)
	}
	return h.exec("").Run(context.Background(), rb, inputs)
}

func TestRunHappyPathSwapsAndSwapsBack(t *testing.T) {
	h := newHarness(t)
	h.w.healthAfter["web-green"] = 3 // three polls report unhealthy first
	res, err := h.runFile("testdata/weighted.yaml", nil)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if res.Live != "green" || res.Status != state.StatusSucceeded {
		t.Fatalf("result = %+v, want green live and succeeded", res)
	}
	if got := h.w.weightsMap(); got["green"] != 100 || got["blue"] != 0 {
		t.Fatalf("weights = %v", got)
	}
	if h.w.size("web-green") != 3 || h.w.size("web-blue") != 0 {
		t.Fatalf("sizes = %v", h.w.sizes)
	}
	// The health gate passed on the 4th poll, after three waits.
	g := h.rec.gates("idle-healthy")
	if len(g) != 4 || g[3].Verdict != VerdictPass || g[0].Verdict != VerdictWait {
		t.Fatalf("gate evaluations = %d, last %+v", len(g), g[len(g)-1])
	}
	if g[0].Values["healthy"] != 0 || g[0].Values["total"] != 3 {
		t.Fatalf("gate values = %v", g[0].Values)
	}
	// Foreach ran three weights, each with a bake gate.
	var applied []map[string]any
	for _, e := range h.rec.events {
		if f, ok := e.(*StepFinished); ok && f.Kind == "test.set-weights" {
			applied = append(applied, f.Outputs["applied"].(map[string]any))
		}
	}
	want := []map[string]any{{"green": 10, "blue": 90}, {"green": 50, "blue": 50}, {"green": 100, "blue": 0}}
	if !reflect.DeepEqual(applied, want) {
		t.Fatalf("applied = %v, want %v", applied, want)
	}
	// Running again swaps back.
	h.rec.events = nil
	res, err = h.runFile("testdata/weighted.yaml", nil)
	if err != nil || res.Live != "blue" {
		t.Fatalf("second run: %v %+v", err, res)
	}
	if h.w.size("web-green") != 0 || h.w.size("web-blue") != 3 {
		t.Fatalf("sizes after swap back = %v", h.w.sizes)
	}
}

func TestGateFailRollsBackInReverse(t *testing.T) {
	h := newHarness(t)
	// The metric is fine during the first weight and bad during the second.
	h.w.metrics = []float64{0, 0, 0, 0, 0, 0, 0, 9}
	_, err := h.runFile("testdata/weighted.yaml", nil)
	var fe *RunFailedError
	if !errors.As(err, &fe) || !fe.RolledBack {
		t.Fatalf("err = %v, want a rolled-back RunFailedError", err)
	}
	if !strings.Contains(err.Error(), "value > inputs.limit") || !strings.Contains(err.Error(), "value=9") {
		t.Fatalf("error should name the gate and its values: %v", err)
	}
	if got := h.w.weightsMap(); got["blue"] != 100 || got["green"] != 0 {
		t.Fatalf("weights after rollback = %v", got)
	}
	if h.w.size("web-green") != 0 || h.w.size("web-blue") != 3 {
		t.Fatalf("sizes after rollback = %v", h.w.sizes)
	}
	// Undos ran newest first with the params recorded before each change.
	u := h.rec.undos()
	if len(u) < 3 {
		t.Fatalf("undos = %d", len(u))
	}
	for i := 1; i < len(u); i++ {
		if u[i].Seq >= u[i-1].Seq {
			t.Fatalf("undo order: %d after %d", u[i].Seq, u[i-1].Seq)
		}
	}
	last := u[len(u)-1]
	if last.Undo.Kind != "test.scale" || last.Undo.Params["desired"] != 0 {
		t.Fatalf("last undo = %+v, want scale back to 0", last.Undo)
	}
	rec, _ := loadApp(t, h.store, "web-weighted")
	if rec.Run.Status != state.StatusRolledBack || rec.Live != "" {
		t.Fatalf("record = %+v", rec.Run)
	}
	for _, e := range rec.Run.Journal {
		if e.State != state.EntryUndone {
			t.Fatalf("journal entry %d state %s", e.Seq, e.State)
		}
	}
}

const gateRunbook = `
version: 1
name: gates
inputs:
  wait: {type: duration, default: 200ms}
colours: {blue: {asg: web-blue}, green: {asg: web-green}}
steps:
  - id: scale
    uses: test.scale
    with: {group: web-green, desired: 2}
  - id: wait
    uses: test.health
    with: {group: web-green}
    gate: {until: "healthy == total", every: 1ms, timeout: "${{ inputs.wait }}", passes: 3}
`

func TestGatePassesNeedsConsecutiveTrues(t *testing.T) {
	h := newHarness(t)
	h.w.healthAfter["web-green"] = 2
	if _, err := h.exec("").Run(context.Background(), h.load(gateRunbook), nil); err != nil {
		t.Fatal(err)
	}
	g := h.rec.gates("wait")
	if len(g) != 5 {
		t.Fatalf("polls = %d, want 2 waits then 3 passes", len(g))
	}
	if g[2].Passes != 1 || g[3].Passes != 2 || g[4].Verdict != VerdictPass {
		t.Fatalf("passes = %d %d %s", g[2].Passes, g[3].Passes, g[4].Verdict)
	}
}

func TestGateTimeoutRollsBack(t *testing.T) {
	h := newHarness(t)
	h.w.healthAfter["web-green"] = 1 << 30
	_, err := h.exec("").Run(context.Background(), h.load(gateRunbook), nil)
	if err == nil || !strings.Contains(err.Error(), "timed out after 200ms") || !strings.Contains(err.Error(), "healthy=0") {
		t.Fatalf("err = %v", err)
	}
	if h.w.size("web-green") != 0 {
		t.Fatalf("scale not undone: %v", h.w.sizes)
	}
}

func TestGateErrorsAreRetriedThenMaxErrors(t *testing.T) {
	h := newHarness(t)
	h.w.fail["health"] = 2 // two failed polls, then fine
	if _, err := h.exec("").Run(context.Background(), h.load(gateRunbook), nil); err != nil {
		t.Fatalf("transient errors inside a gate must be retried: %v", err)
	}
	if g := h.rec.gates("wait"); g[0].Verdict != VerdictError || g[1].Verdict != VerdictError {
		t.Fatalf("first polls = %s %s", g[0].Verdict, g[1].Verdict)
	}
	h2 := newHarness(t)
	h2.w.fail["health"] = -1
	src := strings.Replace(gateRunbook, "passes: 3}", "passes: 3, max_errors: 4}", 1)
	_, err := h2.exec("").Run(context.Background(), h2.load(src), nil)
	if err == nil || !strings.Contains(err.Error(), "gave up after 4 consecutive errors") {
		t.Fatalf("err = %v", err)
	}
	if n := len(h2.rec.gates("wait")); n != 4 {
		t.Fatalf("polls = %d, want 4", n)
	}
}

func TestStepErrorOutsideGateFails(t *testing.T) {
	h := newHarness(t)
	h.w.fail["scale"] = 1
	_, err := h.exec("").Run(context.Background(), h.load(gateRunbook), nil)
	var fe *RunFailedError
	if !errors.As(err, &fe) || fe.Step != "scale" {
		t.Fatalf("err = %v", err)
	}
}

func TestOnFailureStopKeepsJournalThenRollback(t *testing.T) {
	h := newHarness(t)
	h.w.healthAfter["web-green"] = 1 << 30
	src := strings.Replace(gateRunbook, "steps:", "on_failure: stop\nsteps:", 1)
	rb := h.load(src)
	_, err := h.exec("").Run(context.Background(), rb, nil)
	var fe *RunFailedError
	if !errors.As(err, &fe) || fe.RolledBack {
		t.Fatalf("err = %v", err)
	}
	if h.w.size("web-green") != 2 {
		t.Fatal("on_failure: stop must leave the change in place")
	}
	rec, _ := loadApp(t, h.store, "gates")
	if rec.Run.Status != state.StatusFailed || len(rec.Run.Journal) != 1 || rec.Run.Journal[0].State != state.EntryApplied {
		t.Fatalf("record = %+v", rec.Run)
	}
	// A new run refuses to start over an unfinished one.
	if _, err := h.exec("").Run(context.Background(), rb, nil); !isInvalid(err) || !strings.Contains(err.Error(), "did not finish") {
		t.Fatalf("second run err = %v", err)
	}
	if _, err := h.exec("").Rollback(context.Background(), rb, nil); err != nil {
		t.Fatal(err)
	}
	if h.w.size("web-green") != 0 {
		t.Fatalf("rollback did not restore: %v", h.w.sizes)
	}
}

func isInvalid(err error) bool { var ie *InvalidError; return errors.As(err, &ie) }

func TestLockHeldByAnotherRun(t *testing.T) {
	h := newHarness(t)
	rb := h.load(gateRunbook)
	key, _, err := rb.StateKey(mustInputs(t, rb, nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.Acquire(context.Background(), key, state.Holder{Host: "other-host", PID: 1, RunID: "r1", Since: time.Now()}); err != nil {
		t.Fatal(err)
	}
	_, err = h.exec("").Run(context.Background(), rb, nil)
	var le *state.LockedError
	if !errors.As(err, &le) || le.Holder.RunID != "r1" {
		t.Fatalf("err = %v", err)
	}
	if len(h.w.calls) != 0 {
		t.Fatalf("steps ran while locked: %v", h.w.calls)
	}
}

const phaseRunbook = `
version: 1
name: phased
colours: {blue: {asg: web-blue}, green: {asg: web-green}}
steps:
  - id: scale
    uses: test.scale
    with: {group: "${{ idle.asg }}", desired: 4}
    phase: prepare
  - uses: test.set-weights
    with: {weights: {"${{ idle.name }}": 100, "${{ live.name }}": 0}}
    phase: promote
  - uses: test.scale
    with: {group: "${{ live.asg }}", desired: 0}
  - uses: test.scale
    if: "steps.scale != nil"
    with: {group: "${{ live.asg }}", desired: 0}
    phase: cleanup
`

func TestPhasesRunSeparately(t *testing.T) {
	h := newHarness(t)
	rb := h.load(phaseRunbook)
	if _, err := h.exec("promote").Run(context.Background(), rb, nil); !isInvalid(err) || !strings.Contains(err.Error(), `needs phase "prepare"`) {
		t.Fatalf("promote first: %v", err)
	}
	if _, err := h.exec("prepare").Run(context.Background(), rb, nil); err != nil {
		t.Fatal(err)
	}
	if h.w.size("web-green") != 4 || h.w.weightsMap()["green"] != 0 {
		t.Fatalf("prepare did too much or too little: %v %v", h.w.sizes, h.w.weights)
	}
	res, err := h.exec("promote").Run(context.Background(), rb, nil)
	if err != nil || res.Status != state.StatusPhaseDone {
		t.Fatalf("promote: %v %+v", err, res)
	}
	if h.w.weightsMap()["green"] != 100 || h.w.size("web-blue") != 0 {
		t.Fatalf("promote: %v %v", h.w.sizes, h.w.weights)
	}
	if _, err := h.exec("promote").Run(context.Background(), rb, nil); !isInvalid(err) {
		t.Fatalf("promote twice: %v", err)
	}
	res, err = h.exec("cleanup").Run(context.Background(), rb, nil)
	if err != nil || res.Status != state.StatusSucceeded || res.Live != "green" {
		t.Fatalf("cleanup: %v %+v", err, res)
	}
}

func TestInterruptKeepsJournalThenResume(t *testing.T) {
	h := newHarness(t)
	h.w.healthAfter["web-green"] = 1 << 30
	rb := h.load(gateRunbook)
	ctx, cancel := context.WithCancel(context.Background())
	h.exec("").Sinks = nil
	x := h.exec("")
	x.Sinks = []Sink{func(e Event) {
		if g, ok := e.(*GateEvaluated); ok && g.Attempt == 2 {
			cancel()
		}
	}}
	_, err := x.Run(ctx, rb, nil)
	var ie *InterruptedError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v", err)
	}
	rec, _ := loadApp(t, h.store, "gates")
	if rec.Run.Status != state.StatusInterrupted || len(rec.Run.Journal) != 1 {
		t.Fatalf("record after interrupt = %+v", rec.Run)
	}
	if h.w.size("web-green") != 2 {
		t.Fatal("an interrupt must not roll back by itself")
	}
	h.w.healthAfter["web-green"] = 0
	res, err := h.exec("").Resume(context.Background(), rb, nil)
	if err != nil || res.Status != state.StatusSucceeded {
		t.Fatalf("resume: %v %+v", err, res)
	}
	skipped := 0
	for _, e := range h.rec.events {
		if s, ok := e.(*StepSkipped); ok && s.Path == "scale" {
			skipped++
		}
	}
	if skipped != 1 {
		t.Fatal("resume must skip the completed scale step")
	}
}

// TestCrashBetweenJournalAndApply kills a child process right after it
// journaled an undo and before it applied the change, then rolls back from
// another process's point of view: the lock is taken over and the undo runs.
func TestCrashBetweenJournalAndApply(t *testing.T) {
	if os.Getenv("BLUEGREEN_CRASH_CHILD") != "" {
		crashChild()
		return
	}
	dir := t.TempDir()
	worldFile := filepath.Join(dir, "world.txt")
	if err := os.WriteFile(worldFile, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashBetweenJournalAndApply$")
	cmd.Env = append(os.Environ(), "BLUEGREEN_CRASH_CHILD="+dir)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child should die by SIGKILL, got %v\n%s", err, out)
	}
	st, _ := state.NewFileStore(filepath.Join(dir, "state"))
	rec, err := loadApp(t, st, "crash")
	if err != nil || rec == nil || rec.Run.Status != state.StatusRunning || len(rec.Run.Journal) != 2 || rec.Run.Journal[1].State != state.EntryPending {
		t.Fatalf("journal after crash = %+v (err %v)", rec, err)
	}
	if b, _ := os.ReadFile(worldFile); string(b) != "first" {
		t.Fatalf("world = %q: the second change must not have been applied", b)
	}
	reg := fileRegistry(worldFile, nil)
	rb, err := Parse("crash.yaml", []byte(crashRunbook), reg)
	if err != nil {
		t.Fatal(err)
	}
	x := &Executor{Registry: reg, Store: st}
	if _, err := x.Run(context.Background(), rb, nil); !isInvalid(err) {
		t.Fatalf("run over a crashed run must be refused: %v", err)
	}
	if _, err := x.Rollback(context.Background(), rb, nil); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if b, _ := os.ReadFile(worldFile); string(b) != "old" {
		t.Fatalf("world after rollback = %q, want old", b)
	}
}

const crashRunbook = `
version: 1
name: crash
colours: {blue: {}, green: {}}
steps:
  - uses: test.write
    with: {value: first}
  - uses: test.write
    with: {value: second}
`

// fileRegistry has one mutating step that writes a file; kill, if set, is
// called between journaling and writing for the value "second".
func fileRegistry(path string, kill func()) *steps.Registry {
	r := steps.NewRegistry()
	r.Register(steps.Spec{
		Kind: "test.write", Title: "Write", Summary: "Writes a file.", Mutates: true,
		Params: []steps.Param{{Name: "value", Type: steps.String, Doc: "Content.", Required: true}},
		New: func() steps.Step {
			return steps.StepFunc(func(ctx context.Context, c *steps.Call) (steps.Outputs, error) {
				old, _ := os.ReadFile(path)
				if err := c.BeforeChange(steps.Undo{Kind: "test.write", Params: map[string]any{"value": string(old)}}); err != nil {
					return nil, err
				}
				if kill != nil && c.Params.String("value") == "second" {
					kill()
				}
				return nil, os.WriteFile(path, []byte(c.Params.String("value")), 0o644)
			})
		},
	})
	return r
}

func crashChild() {
	dir := os.Getenv("BLUEGREEN_CRASH_CHILD")
	reg := fileRegistry(filepath.Join(dir, "world.txt"), func() { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL) })
	rb, err := Parse("crash.yaml", []byte(crashRunbook), reg)
	if err != nil {
		panic(err)
	}
	st, _ := state.NewFileStore(filepath.Join(dir, "state"))
	_, _ = (&Executor{Registry: reg, Store: st}).Run(context.Background(), rb, nil)
	panic("not killed")
}

func TestSensitiveInputsNeverReachEventsOrJournal(t *testing.T) {
	h := newHarness(t)
	src := `
version: 1
name: secret
inputs:
  token: {type: string, sensitive: true}
colours: {blue: {}, green: {}}
steps:
  - uses: test.set-weights
    with: {weights: {blue: 1}, name: "token=${{ inputs.token }}"}
  - uses: test.metric
    with: {name: "${{ inputs.token }}", secret: "${{ inputs.token }}"}
  - uses: test.scale
    with: {group: "g-${{ inputs.token }}", desired: 1}
  - uses: test.health
    with: {group: "${{ inputs.token }}"}
    gate: {until: "false", every: 1ms, timeout: 5ms}
`
	const secret = "s3cr3t-value-123"
	_, err := h.exec("").Run(context.Background(), h.load(src), map[string]any{"token": secret})
	if err == nil {
		t.Fatal("the gate should time out")
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), secret) {
			t.Fatalf("secret in error chain: %v", e)
		}
	}
	for _, e := range h.rec.events {
		if s := strings.ToLower(strings.ReplaceAll(reflectString(e), " ", "")); strings.Contains(s, secret) {
			t.Fatalf("secret in event %T: %s", e, s)
		}
	}
	b, _ := os.ReadFile(appFile(t, h.dir, "secret"))
	if len(b) == 0 || strings.Contains(string(b), secret) {
		t.Fatalf("journal missing or holds the secret: %s", b)
	}
}

func reflectString(v any) string { return strings.TrimSpace(strings.ReplaceAll(fmtAny(v), "\n", " ")) }

func fmtAny(v any) string { return sprintf("%+v", v) }

func TestRecoverRollbackThenRun(t *testing.T) {
	h := newHarness(t)
	h.w.healthAfter["web-green"] = 1 << 30
	src := strings.Replace(gateRunbook, "steps:", "on_failure: stop\nsteps:", 1)
	rb := h.load(src)
	if _, err := h.exec("").Run(context.Background(), rb, nil); err == nil {
		t.Fatal("first run should fail")
	}
	h.w.healthAfter["web-green"] = 0
	h.w.setSize("web-green", 5) // the failed run left 2; make the undo observable
	x := h.exec("")
	x.Recover = RecoverRollback
	res, err := x.Run(context.Background(), rb, nil)
	if err != nil || res.Status != state.StatusSucceeded {
		t.Fatalf("recover rollback: %v %+v", err, res)
	}
	var undone bool
	for _, e := range h.rec.events {
		if u, ok := e.(*UndoApplied); ok && steps.FormatValue(u.Undo.Params["desired"]) == "0" && u.Error == "" {
			undone = true
		}
	}
	if !undone {
		t.Fatal("the unfinished run was not rolled back first")
	}
	if h.w.size("web-green") != 2 {
		t.Fatalf("new run did not scale: %v", h.w.sizes)
	}
}

func TestPanickingStepFailsAndRollsBack(t *testing.T) {
	h := newHarness(t)
	h.reg.Register(steps.Spec{
		Kind: "test.panic", Title: "Panic", Summary: "Panics.",
		New: func() steps.Step {
			return steps.StepFunc(func(ctx context.Context, c *steps.Call) (steps.Outputs, error) {
				var m map[string]int
				m["boom"]++
				return nil, nil
			})
		},
	})
	src := strings.Replace(gateRunbook, "  - id: wait", "  - uses: test.panic\n  - id: wait", 1)
	_, err := h.exec("").Run(context.Background(), h.load(src), nil)
	var fe *RunFailedError
	if !errors.As(err, &fe) || !fe.RolledBack || !strings.Contains(err.Error(), "step panicked") {
		t.Fatalf("err = %v", err)
	}
	if h.w.size("web-green") != 0 {
		t.Fatalf("the scale before the panic was not undone: %v", h.w.sizes)
	}
}

// A full run must not start over a release that stopped between phases:
// the earlier phase's changes would drop out of the journal.
func TestRunBetweenPhasesIsNotAbandoned(t *testing.T) {
	h := newHarness(t)
	rb := h.load(phaseRunbook)
	if _, err := h.exec("prepare").Run(context.Background(), rb, nil); err != nil {
		t.Fatal(err)
	}
	_, err := h.exec("").Run(context.Background(), rb, nil)
	if !isInvalid(err) || !strings.Contains(err.Error(), "stopped between phases (done: prepare)") || !strings.Contains(err.Error(), "--phase promote") {
		t.Fatalf("full run over a phase-done run: %v", err)
	}
	x := h.exec("")
	x.Recover = RecoverRollback
	res, err := x.Run(context.Background(), rb, nil)
	if err != nil || res.Status != state.StatusSucceeded {
		t.Fatalf("with --recover rollback: %v %+v", err, res)
	}
	var undone int
	for _, e := range h.rec.events {
		if u, ok := e.(*UndoApplied); ok && u.Path == "scale" && u.Error == "" {
			undone++
		}
	}
	if undone != 1 {
		t.Fatalf("the prepare phase's change was not rolled back first (%d undos)", undone)
	}
}
