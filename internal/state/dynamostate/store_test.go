package dynamostate_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/internal/state/dynamostate"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// TestDynamoStore runs the DynamoDB store against moto_server: DynamoDB's
// conditional writes are what make the lock safe between machines, so
// they are exercised for real, not through a fake.
func TestDynamoStore(t *testing.T) {
	if testing.Short() {
		t.Skip("moto integration test skipped in -short mode")
	}
	m := awstest.Start(t)
	ctx := context.Background()
	cfg := awstest.Config(m.URL)
	if err := dynamostate.CreateTable(ctx, cfg, "bluegreen-state"); err != nil {
		t.Fatal(err)
	}
	// A second create of the same table is harmless.
	if err := dynamostate.CreateTable(ctx, cfg, "bluegreen-state"); err != nil {
		t.Fatal(err)
	}
	st := dynamostate.NewWithConfig(cfg, "bluegreen-state")
	host, _ := os.Hostname()
	holder := func(run string, pid int) state.Holder {
		return state.Holder{Host: host, PID: pid, RunID: run, Since: time.Now().UTC().Truncate(time.Millisecond)}
	}

	t.Run("missing table says how to create it", func(t *testing.T) {
		missing := dynamostate.NewWithConfig(cfg, "no-such-table")
		_, err := missing.Acquire(ctx, "web", holder("r0", os.Getpid()))
		if err == nil || !strings.Contains(err.Error(), "aws dynamodb create-table --table-name no-such-table") {
			t.Fatalf("Acquire on a missing table: %v", err)
		}
	})

	t.Run("record round trip", func(t *testing.T) {
		rec, err := st.Load(ctx, "web")
		if err != nil || rec != nil {
			t.Fatalf("missing record: %v, %v", rec, err)
		}
		in := &state.Record{Live: "green", Run: &state.Run{
			ID: "r1", Runbook: "web", Status: state.StatusRolledBack, Live: "blue", Idle: "green",
			Journal: []state.Entry{{Seq: 1, Step: "shift[0].0", Kind: "aws.route53.set-weights", State: state.EntryUndone,
				Undo: steps.Undo{Kind: "aws.route53.set-weights", Params: map[string]any{"weights": map[string]any{"blue": 100.0}}}}},
		}}
		for i := 0; i < state.MaxHistory+5; i++ {
			in.History = append(in.History, state.Summary{ID: fmt.Sprintf("h%d", i), Status: state.StatusSucceeded})
		}
		if err := st.Save(ctx, "web", in); err != nil {
			t.Fatal(err)
		}
		out, err := st.Load(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		if out.Live != "green" || out.Run.Journal[0].Undo.Params["weights"].(map[string]any)["blue"] != 100.0 {
			t.Fatalf("loaded %+v", out)
		}
		if len(out.History) != state.MaxHistory || out.History[0].ID != "h5" || len(in.History) != state.MaxHistory+5 {
			t.Fatalf("history: kept %d starting at %s; the caller's record must not change", len(out.History), out.History[0].ID)
		}
	})

	t.Run("lock", func(t *testing.T) {
		a, b := holder("run-a", os.Getpid()), holder("run-b", os.Getpid())
		if tk, err := st.Acquire(ctx, "web", a); err != nil || tk != nil {
			t.Fatalf("acquire free lock: %v %v", tk, err)
		}
		if _, err := st.Acquire(ctx, "web", a); err != nil {
			t.Fatalf("the holder asking again must succeed: %v", err)
		}
		_, err := st.Acquire(ctx, "web", b)
		var le *state.LockedError
		if !errors.As(err, &le) || !errors.Is(err, state.ErrLocked) || le.Holder.RunID != "run-a" || le.Holder.PID != os.Getpid() || !le.Holder.Since.Equal(a.Since) {
			t.Fatalf("second run: %v", err)
		}
		if h, err := st.Holder(ctx, "web"); err != nil || h.RunID != "run-a" {
			t.Fatalf("holder %v %v", h, err)
		}
		if err := st.Release(ctx, "web", "run-b"); err == nil || !strings.Contains(err.Error(), "held by run run-a") {
			t.Fatalf("release by another run: %v", err)
		}
		if err := st.Release(ctx, "web", "run-a"); err != nil {
			t.Fatal(err)
		}
		if err := st.Release(ctx, "web", "run-a"); err != nil {
			t.Fatalf("second release: %v", err)
		}
		if h, err := st.Holder(ctx, "web"); err != nil || h != nil {
			t.Fatalf("holder after release %v %v", h, err)
		}
		// Keys are independent.
		if _, err := st.Acquire(ctx, "web", b); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Acquire(ctx, "api", a); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("one winner among concurrent runs", func(t *testing.T) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		won, locked := 0, 0
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				// Other hosts: none can prove another stale.
				h := state.Holder{Host: fmt.Sprintf("worker-%d", i), PID: 100 + i, RunID: fmt.Sprintf("run-%d", i), Since: time.Now()}
				_, err := st.Acquire(ctx, "race", h)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case errors.Is(err, state.ErrLocked):
					locked++
				default:
					t.Error(err)
				}
			}(i)
		}
		wg.Wait()
		if won != 1 || locked != 7 {
			t.Fatalf("%d won, %d locked out; want exactly one winner", won, locked)
		}
	})

	t.Run("stale lock on this host is taken over", func(t *testing.T) {
		dead := exec.Command("true")
		if err := dead.Run(); err != nil {
			t.Fatal(err)
		}
		gone := holder("run-crashed", dead.Process.Pid)
		if _, err := st.Acquire(ctx, "stale", gone); err != nil {
			t.Fatal(err)
		}
		tk, err := st.Acquire(ctx, "stale", holder("run-new", os.Getpid()))
		if err != nil || tk == nil || tk.Previous.RunID != "run-crashed" || !strings.Contains(tk.Reason, "no longer exists") {
			t.Fatalf("takeover %+v, %v", tk, err)
		}
		if h, _ := st.Holder(ctx, "stale"); h.RunID != "run-new" {
			t.Fatalf("holder after takeover %v", h)
		}
	})

	t.Run("lock of another host is never stale", func(t *testing.T) {
		other := state.Holder{Host: "some-other-worker", PID: 1 << 30, RunID: "run-remote", Since: time.Now()}
		if _, err := st.Acquire(ctx, "remote", other); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Acquire(ctx, "remote", holder("run-local", os.Getpid())); !errors.Is(err, state.ErrLocked) {
			t.Fatalf("err %v, want locked", err)
		}
	})

	t.Run("missing table names the table and the call", func(t *testing.T) {
		_, err := dynamostate.NewWithConfig(cfg, "no-such-table").Load(ctx, "web")
		if err == nil || !strings.Contains(err.Error(), "dynamodb:GetItem on table no-such-table") {
			t.Fatalf("err %v", err)
		}
	})
}

// TestOpenBuildsDynamoStore checks that the package registers
// dynamodb://TABLE with state.Open, refuses bad table names quoting the
// value, and that the unknown-backend error lists it as before the move.
func TestOpenBuildsDynamoStore(t *testing.T) {
	for _, spec := range []string{"dynamodb://bluegreen-state", "DynamoDB://bluegreen-state"} {
		st, err := state.Open(spec, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if ds, ok := st.(*dynamostate.Store); !ok || ds.String() != "dynamodb://bluegreen-state" {
			t.Fatalf("Open(%q) returned %T %v", spec, st, st)
		}
	}
	for _, spec := range []string{"dynamodb://", "dynamodb://ab", "dynamodb://a/b", "dynamodb://t t"} {
		_, err := state.Open(spec, "x")
		if err == nil || !strings.Contains(err.Error(), "expected dynamodb://TABLE with a table name of 3 to 255") {
			t.Errorf("Open(%q) = %v; want the table name rule", spec, err)
		} else if !strings.Contains(err.Error(), spec) {
			t.Errorf("Open(%q): error %q does not quote the value", spec, err)
		}
	}
	_, err := state.Open("s3://bucket", "x")
	if want := `state "s3://bucket": unknown backend "s3" (expected a directory, file://DIR or dynamodb://TABLE)`; err == nil || err.Error() != want {
		t.Errorf("Open(s3://bucket) = %v; want %s", err, want)
	}
}
