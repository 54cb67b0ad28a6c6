package state_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// The tests re-execute the test binary to get real, separate processes:
// with helperEnv set, TestMain runs a helper instead of the tests.
const helperEnv = "BLUEGREEN_STATE_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "acquire":
		os.Exit(helperAcquire())
	case "save-loop":
		os.Exit(helperSaveLoop())
	case "exit":
		os.Exit(0)
	default:
		fmt.Fprintln(os.Stderr, "unknown helper", os.Getenv(helperEnv))
		os.Exit(2)
	}
}

// helperAcquire says "ready", waits for a line on stdin, tries the lock once,
// prints the outcome as JSON, then keeps running (and holding whatever it
// won) until stdin closes. It exits without releasing, as a crashed run would.
func helperAcquire() int {
	st, err := state.NewFileStore(os.Getenv("STATE_DIR"))
	if err != nil {
		fmt.Println(err)
		return 1
	}
	host, _ := os.Hostname()
	in := bufio.NewReader(os.Stdin)
	fmt.Println("ready")
	if _, err := in.ReadString('\n'); err != nil {
		return 1
	}
	res := acquireResult{PID: os.Getpid()}
	_, err = st.Acquire(context.Background(), "web", state.Holder{Host: host, PID: os.Getpid(), RunID: os.Getenv("RUN_ID"), Since: time.Now()})
	var locked *state.LockedError
	switch {
	case err == nil:
		res.Won = true
	case errors.As(err, &locked):
		res.Holder = &locked.Holder
	default:
		res.Error = err.Error()
	}
	b, _ := json.Marshal(res)
	fmt.Println(string(b))
	_, _ = io.Copy(io.Discard, in)
	return 0
}

type acquireResult struct {
	PID    int           `json:"pid"`
	Won    bool          `json:"won"`
	Holder *state.Holder `json:"holder,omitempty"`
	Error  string        `json:"error,omitempty"`
}

// helperSaveLoop saves ever newer records until it is killed.
func helperSaveLoop() int {
	st, err := state.NewFileStore(os.Getenv("STATE_DIR"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for i := 0; ; i++ {
		if err := st.Save(context.Background(), "web", bigRecord(i)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
}

// bigRecord is large enough (tens of kilobytes) that a write takes several
// system calls, so a kill lands mid-write often.
func bigRecord(n int) *state.Record {
	run := &state.Run{ID: "run-" + strconv.Itoa(n), Runbook: "web", Status: state.StatusRunning, Live: "blue", Idle: "green"}
	for i := 0; i < 200; i++ {
		run.Journal = append(run.Journal, state.Entry{
			Seq: i, Step: "shift[" + strconv.Itoa(i) + "]", Kind: "aws.route53.set-weights", State: state.EntryApplied,
			Undo: steps.Undo{Kind: "aws.route53.set-weights", Params: map[string]any{"weights": map[string]any{"blue": 100.0, "green": 0.0}}, Note: strings.Repeat("x", 100)},
		})
	}
	return &state.Record{Live: strconv.Itoa(n), Run: run}
}

func helper(t *testing.T, name string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), helperEnv+"="+name), env...)
	cmd.Stderr = os.Stderr
	return cmd
}

// deadPID returns the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := helper(t, "exit")
	if err := cmd.Run(); err != nil {
		t.Fatalf("run helper: %v", err)
	}
	return cmd.Process.Pid
}

func hostname(t *testing.T) string {
	t.Helper()
	h, err := os.Hostname()
	if err != nil {
		t.Fatalf("hostname: %v", err)
	}
	return h
}

func newStore(t *testing.T, dir string) *state.FileStore {
	t.Helper()
	st, err := state.NewFileStore(dir)
	if err != nil {
		t.Fatalf("NewFileStore(%q): %v", dir, err)
	}
	return st
}

func TestFileName(t *testing.T) {
	for _, key := range []string{"web", "web-weighted-dns", "Web_1.2"} {
		if got, err := state.FileName(key); err != nil || got != key {
			t.Errorf("FileName(%q) = %q, %v; want the key unchanged", key, got, err)
		}
	}
	if _, err := state.FileName(""); err == nil {
		t.Error("FileName(\"\") returned no error")
	}
	seen := map[string]string{}
	for _, key := range []string{"a/b", "a_b", "a\\b", "../etc/passwd", ".hidden", "..", "héllo wörld", "x:y", strings.Repeat("k", 300), strings.Repeat("k", 301)} {
		name, err := state.FileName(key)
		if err != nil {
			t.Fatalf("FileName(%q): %v", key, err)
		}
		if strings.ContainsAny(name, `/\: `) || strings.HasPrefix(name, ".") || name == "" || len(name) > 120 {
			t.Errorf("FileName(%q) = %q: not a safe file name", key, name)
		}
		if other, dup := seen[name]; dup {
			t.Errorf("FileName(%q) = FileName(%q) = %q", key, other, name)
		}
		seen[name] = key
	}
}

func TestNewFileStoreCreatesNothing(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state")
	st := newStore(t, dir)
	if rec, err := st.Load(ctx, "web"); rec != nil || err != nil {
		t.Errorf("Load on an empty store = %v, %v; want nil, nil", rec, err)
	}
	if h, err := st.Holder(ctx, "web"); h != nil || err != nil {
		t.Errorf("Holder on an empty store = %v, %v; want nil, nil", h, err)
	}
	if err := st.Release(ctx, "web", "run-1"); err != nil {
		t.Errorf("Release on an empty store: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reads created the store directory (stat: %v)", err)
	}
	if err := st.Save(ctx, "web", &state.Record{Live: "blue"}); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "web.json")); err != nil {
		t.Errorf("Save did not create web.json: %v", err)
	}
}

func TestNewFileStoreRejects(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"", "  ", file} {
		if _, err := state.NewFileStore(dir); err == nil {
			t.Errorf("NewFileStore(%q) returned no error", dir)
		}
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, t.TempDir())
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	want := &state.Record{
		Format: state.FormatVersion,
		Live:   "green",
		Run: &state.Run{
			ID: "r1", Runbook: "web", File: "runbooks/web.yaml", Status: state.StatusFailed,
			Started: at, Finished: at.Add(time.Minute), Live: "blue", Idle: "green",
			Inputs:  map[string]any{"record": "app.example.com", "weights": []any{10.0, 50.0}},
			Phases:  []string{"prepare"},
			Done:    []string{"scale-idle", "shift[0].0"},
			Outputs: map[string]map[string]any{"scale-idle": {"desired": 3.0}},
			Journal: []state.Entry{{Seq: 1, Step: "shift[0].0", Kind: "aws.route53.set-weights", State: state.EntryPending, At: at,
				Undo: steps.Undo{Kind: "aws.route53.set-weights", Params: map[string]any{"weights": map[string]any{"blue": 100.0, "green": 0.0}}, Note: "weights back to blue=100"}}},
			Error: "gate idle-healthy timed out",
		},
		History: []state.Summary{{ID: "r0", Status: state.StatusSucceeded, Started: at.Add(-time.Hour), Finished: at.Add(-50 * time.Minute), Live: "blue"}},
	}
	if err := st.Save(ctx, "web", want); err != nil {
		t.Fatalf("Save: %v", err)
	}
	got, err := st.Load(ctx, "web")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load after Save:\n got %+v\nwant %+v", got, want)
	}
	// Keys never share records.
	if other, err := st.Load(ctx, "web2"); other != nil || err != nil {
		t.Errorf("Load(web2) = %v, %v; want nil, nil", other, err)
	}
}

func TestLoadIgnoresLeftoverTempFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := newStore(t, dir)
	if err := st.Save(ctx, "web", &state.Record{Live: "blue"}); err != nil {
		t.Fatalf("Save: %v", err)
	}
	// A crash between writing the temp file and renaming it leaves this.
	tmp := filepath.Join(dir, ".web.json.tmp-4242")
	if err := os.WriteFile(tmp, []byte(`{"live": "gre`), 0o644); err != nil {
		t.Fatal(err)
	}
	if rec, err := st.Load(ctx, "web"); err != nil || rec == nil || rec.Live != "blue" {
		t.Fatalf("Load with a leftover temp file = %+v, %v; want live blue", rec, err)
	}
	if err := st.Save(ctx, "web", &state.Record{Live: "green"}); err != nil {
		t.Fatalf("Save after crash: %v", err)
	}
	if rec, err := st.Load(ctx, "web"); err != nil || rec == nil || rec.Live != "green" {
		t.Fatalf("Load = %+v, %v; want live green", rec, err)
	}
}

func TestLoadReportsDamagedRecord(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "web.json"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := newStore(t, dir).Load(context.Background(), "web")
	if err == nil || !strings.Contains(err.Error(), "web.json") {
		t.Errorf("Load of a damaged record: error %v, want one naming web.json", err)
	}
}

// TestSaveSurvivesKill kills a process that saves in a tight loop and checks
// that what is on disk is always a whole record: the old one or the new one.
func TestSaveSurvivesKill(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := newStore(t, dir)
	for round := 0; round < 3; round++ {
		cmd := helper(t, "save-loop", "STATE_DIR="+dir)
		if err := cmd.Start(); err != nil {
			t.Fatalf("start helper: %v", err)
		}
		// Let it write a number of records, then kill it mid-stream.
		deadline := time.Now().Add(time.Minute)
		for {
			rec, err := st.Load(ctx, "web")
			if err != nil {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("round %d: Load while another process saves: %v", round, err)
			}
			if n, _ := strconv.Atoi(recLive(rec)); rec != nil && n >= 20 {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("round %d: the helper wrote fewer than 20 records in a minute", round)
			}
			time.Sleep(time.Millisecond)
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("kill: %v", err)
		}
		cmd.Wait()
		rec, err := st.Load(ctx, "web")
		if err != nil || rec == nil || rec.Run == nil || len(rec.Run.Journal) != 200 {
			t.Fatalf("round %d: Load after kill = %v; want a whole record", round, err)
		}
		if rec.Run.ID != "run-"+rec.Live {
			t.Fatalf("round %d: record mixes two writes: live %s, run %s", round, rec.Live, rec.Run.ID)
		}
		// Start the next round from scratch so the counter check means something.
		if err := os.Remove(filepath.Join(dir, "web.json")); err != nil {
			t.Fatal(err)
		}
	}
}

func recLive(r *state.Record) string {
	if r == nil {
		return ""
	}
	return r.Live
}

func TestSaveBoundsHistory(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, t.TempDir())
	rec := &state.Record{Live: "blue"}
	for i := 0; i < state.MaxHistory+30; i++ {
		rec.History = append(rec.History, state.Summary{ID: fmt.Sprintf("r%03d", i), Status: state.StatusSucceeded})
	}
	if err := st.Save(ctx, "web", rec); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if len(rec.History) != state.MaxHistory+30 {
		t.Errorf("Save modified the caller's record: history has %d entries", len(rec.History))
	}
	got, err := st.Load(ctx, "web")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(got.History) != state.MaxHistory {
		t.Fatalf("history has %d entries, want %d", len(got.History), state.MaxHistory)
	}
	if first, last := got.History[0].ID, got.History[len(got.History)-1].ID; first != "r030" || last != fmt.Sprintf("r%03d", state.MaxHistory+29) {
		t.Errorf("history kept %s..%s; want the newest entries r030..r%03d", first, last, state.MaxHistory+29)
	}
}

func TestBoundHistory(t *testing.T) {
	h := []state.Summary{{ID: "a"}, {ID: "b"}, {ID: "c"}}
	for _, tc := range []struct {
		max  int
		want string
	}{{5, "abc"}, {3, "abc"}, {2, "bc"}, {1, "c"}, {0, ""}, {-1, ""}} {
		var got string
		for _, s := range state.BoundHistory(h, tc.max) {
			got += s.ID
		}
		if got != tc.want {
			t.Errorf("BoundHistory(abc, %d) = %q, want %q", tc.max, got, tc.want)
		}
	}
}

func TestAcquireRelease(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := newStore(t, dir)
	me := state.Holder{Host: hostname(t), PID: os.Getpid(), RunID: "run-1", Since: time.Now().UTC().Truncate(time.Second)}
	if tk, err := st.Acquire(ctx, "web", me); err != nil || tk != nil {
		t.Fatalf("Acquire = %v, %v; want nil, nil", tk, err)
	}
	// The lock file names its holder.
	b, err := os.ReadFile(filepath.Join(dir, "web.lock"))
	if err != nil {
		t.Fatalf("read lock file: %v", err)
	}
	var onDisk state.Holder
	if err := json.Unmarshal(b, &onDisk); err != nil || onDisk != me {
		t.Errorf("lock file holds %s (%v), want %+v", b, err, me)
	}
	if h, err := st.Holder(ctx, "web"); err != nil || h == nil || *h != me {
		t.Errorf("Holder = %v, %v; want %+v", h, err, me)
	}
	// The same holder asking again (a retried call) keeps the lock.
	if tk, err := st.Acquire(ctx, "web", me); err != nil || tk != nil {
		t.Errorf("re-Acquire by the holder = %v, %v; want nil, nil", tk, err)
	}
	// Another run in a live process is refused and told who holds it.
	other := state.Holder{Host: me.Host, PID: os.Getpid(), RunID: "run-2", Since: time.Now()}
	_, err = st.Acquire(ctx, "web", other)
	var locked *state.LockedError
	if !errors.As(err, &locked) || locked.Holder != me || locked.Key != "web" || !errors.Is(err, state.ErrLocked) {
		t.Fatalf("Acquire while held: %v; want a LockedError naming %+v", err, me)
	}
	if msg := err.Error(); !strings.Contains(msg, "run-1") || !strings.Contains(msg, strconv.Itoa(me.PID)) {
		t.Errorf("LockedError %q does not name the run and pid", msg)
	}
	// Another key is independent.
	if _, err := st.Acquire(ctx, "api", other); err != nil {
		t.Errorf("Acquire of another key: %v", err)
	}
	// Only the holder may release.
	if err := st.Release(ctx, "web", "run-2"); err == nil {
		t.Error("Release by a run that does not hold the lock returned no error")
	}
	if h, _ := st.Holder(ctx, "web"); h == nil || h.RunID != "run-1" {
		t.Fatalf("Release by another run removed the lock (holder now %v)", h)
	}
	if err := st.Release(ctx, "web", "run-1"); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if h, err := st.Holder(ctx, "web"); h != nil || err != nil {
		t.Errorf("Holder after Release = %v, %v; want nil, nil", h, err)
	}
	if err := st.Release(ctx, "web", "run-1"); err != nil {
		t.Errorf("second Release: %v", err)
	}
	if _, err := st.Acquire(ctx, "web", other); err != nil {
		t.Errorf("Acquire after Release: %v", err)
	}
}

func TestAcquireConcurrentGoroutines(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	host := hostname(t)
	const n = 16
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, n)
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := newStore(t, dir) // separate stores share nothing but the directory
			<-start
			_, errs[i] = st.Acquire(ctx, "web", state.Holder{Host: host, PID: os.Getpid(), RunID: fmt.Sprintf("run-%d", i), Since: time.Now()})
		}()
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err == nil {
			if winner >= 0 {
				t.Fatalf("runs %d and %d both acquired the lock", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("no run acquired the lock: %v", errs)
	}
	for i, err := range errs {
		if i == winner {
			continue
		}
		var locked *state.LockedError
		if !errors.As(err, &locked) || locked.Holder.RunID != fmt.Sprintf("run-%d", winner) {
			t.Errorf("run %d: %v; want a LockedError naming run-%d", i, err, winner)
		}
	}
}

// TestAcquireConcurrentProcesses races separate processes for one lock,
// then lets them all exit without releasing: the winner's lock is then
// stale and the next Acquire takes it over.
func TestAcquireConcurrentProcesses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const n = 6
	type child struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   *bufio.Scanner
	}
	children := make([]child, n)
	for i := range children {
		cmd := helper(t, "acquire", "STATE_DIR="+dir, fmt.Sprintf("RUN_ID=proc-%d", i))
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start helper: %v", err)
		}
		children[i] = child{cmd, stdin, bufio.NewScanner(stdout)}
		defer func() { stdin.Close(); cmd.Wait() }()
	}
	// Wait until every process is up, then release them all at once.
	for i, c := range children {
		if !c.out.Scan() || c.out.Text() != "ready" {
			t.Fatalf("helper %d did not start: %q %v", i, c.out.Text(), c.out.Err())
		}
	}
	for _, c := range children {
		io.WriteString(c.stdin, "go\n")
	}
	results := make([]acquireResult, n)
	winner := -1
	for i, c := range children {
		if !c.out.Scan() {
			t.Fatalf("helper %d gave no result: %v", i, c.out.Err())
		}
		if err := json.Unmarshal(c.out.Bytes(), &results[i]); err != nil {
			t.Fatalf("helper %d: %q: %v", i, c.out.Text(), err)
		}
		if results[i].Error != "" {
			t.Fatalf("helper %d: %s", i, results[i].Error)
		}
		if results[i].Won {
			if winner >= 0 {
				t.Fatalf("processes %d and %d both acquired the lock", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("no process acquired the lock: %+v", results)
	}
	for i, r := range results {
		if i != winner && (r.Holder == nil || r.Holder.RunID != fmt.Sprintf("proc-%d", winner) || r.Holder.PID != results[winner].PID) {
			t.Errorf("process %d was refused with holder %+v; want proc-%d (pid %d)", i, r.Holder, winner, results[winner].PID)
		}
	}
	st := newStore(t, dir)
	h, err := st.Holder(ctx, "web")
	if err != nil || h == nil || h.RunID != fmt.Sprintf("proc-%d", winner) {
		t.Fatalf("Holder = %v, %v; want proc-%d", h, err, winner)
	}
	// While the winner runs, this process is refused too.
	me := state.Holder{Host: hostname(t), PID: os.Getpid(), RunID: "after", Since: time.Now()}
	if _, err := st.Acquire(ctx, "web", me); !errors.Is(err, state.ErrLocked) {
		t.Fatalf("Acquire while the winner runs: %v; want ErrLocked", err)
	}
	for _, c := range children {
		c.stdin.Close()
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("helper: %v", err)
		}
	}
	tk, err := st.Acquire(ctx, "web", me)
	if err != nil {
		t.Fatalf("Acquire after the holder exited: %v", err)
	}
	if tk == nil || tk.Previous.RunID != fmt.Sprintf("proc-%d", winner) || !strings.Contains(tk.Reason, strconv.Itoa(results[winner].PID)) {
		t.Errorf("Takeover = %+v; want one naming proc-%d and its pid", tk, winner)
	}
}

func TestStaleLockTakeover(t *testing.T) {
	ctx := context.Background()
	host := hostname(t)
	dead := deadPID(t)
	me := state.Holder{Host: host, PID: os.Getpid(), RunID: "new", Since: time.Now()}
	for _, tc := range []struct {
		name     string
		previous state.Holder
		takeover bool
	}{
		{"dead process on this host", state.Holder{Host: host, PID: dead, RunID: "old"}, true},
		{"live process on this host", state.Holder{Host: host, PID: os.Getppid(), RunID: "old"}, false},
		{"process on another host", state.Holder{Host: host + "-elsewhere", PID: dead, RunID: "old"}, false},
		{"unknown pid", state.Holder{Host: host, PID: 0, RunID: "old"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newStore(t, t.TempDir())
			if _, err := st.Acquire(ctx, "web", tc.previous); err != nil {
				t.Fatalf("Acquire for the previous holder: %v", err)
			}
			tk, err := st.Acquire(ctx, "web", me)
			if !tc.takeover {
				var locked *state.LockedError
				if !errors.As(err, &locked) || locked.Holder.RunID != "old" {
					t.Fatalf("Acquire = %v, %v; want a LockedError naming run old", tk, err)
				}
				return
			}
			if err != nil || tk == nil || tk.Previous.RunID != "old" || tk.Reason == "" {
				t.Fatalf("Acquire = %+v, %v; want a takeover of run old", tk, err)
			}
			if h, _ := st.Holder(ctx, "web"); h == nil || h.RunID != "new" {
				t.Errorf("holder after takeover = %v, want run new", h)
			}
		})
	}
}

func TestDamagedLockTakenOver(t *testing.T) {
	ctx := context.Background()
	for _, content := range []string{"", "{", `{"host":"x"}`} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "web.lock"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		st := newStore(t, dir)
		tk, err := st.Acquire(ctx, "web", state.Holder{Host: hostname(t), PID: os.Getpid(), RunID: "new"})
		if err != nil || tk == nil || tk.Reason == "" {
			t.Errorf("Acquire over a lock file holding %q = %+v, %v; want a takeover", content, tk, err)
		}
	}
}

func TestCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	st := newStore(t, t.TempDir())
	if _, err := st.Acquire(ctx, "web", state.Holder{RunID: "r"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Acquire: %v, want context.Canceled", err)
	}
	if err := st.Save(ctx, "web", &state.Record{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Save: %v, want context.Canceled", err)
	}
	if _, err := st.Load(ctx, "web"); !errors.Is(err, context.Canceled) {
		t.Errorf("Load: %v, want context.Canceled", err)
	}
}

func TestSaveRejects(t *testing.T) {
	st := newStore(t, t.TempDir())
	if err := st.Save(context.Background(), "web", nil); err == nil {
		t.Error("Save(nil) returned no error")
	}
	if err := st.Save(context.Background(), "", &state.Record{}); err == nil {
		t.Error("Save with an empty key returned no error")
	}
}

// FuzzFileName checks the file-name invariants for any key: no path
// separator, no leading dot, bounded length, and the name is stable.
func FuzzFileName(f *testing.F) {
	for _, k := range []string{"web", "a/b", "..", ".x", "é", strings.Repeat("z", 200)} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		name, err := state.FileName(key)
		if key == "" {
			if err == nil {
				t.Fatal("empty key accepted")
			}
			return
		}
		if err != nil {
			t.Fatalf("FileName(%q): %v", key, err)
		}
		if name == "" || strings.ContainsAny(name, "/\\\x00") || strings.HasPrefix(name, ".") || len(name) > 120 {
			t.Fatalf("FileName(%q) = %q: not a safe file name", key, name)
		}
		if again, _ := state.FileName(key); again != name {
			t.Fatalf("FileName(%q) is not stable: %q then %q", key, name, again)
		}
	})
}
