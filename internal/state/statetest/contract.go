// Package statetest holds the contracts every state store must keep, so
// that each store's tests (the file store in internal/state, the DynamoDB
// store in internal/state/dynamostate) run the same checks.
package statetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
)

// StoreContract runs the lease, fencing, break and format rules against a
// store; the file store and the DynamoDB store (on moto) must both keep
// them. writeRaw stores a record exactly as given (JSON text), bypassing
// the store, to plant records of other formats.
func StoreContract(t *testing.T, st state.Store, writeRaw func(key, record string)) {
	ctx := context.Background()
	host := "worker-a.example"
	other := "worker-b.example"
	now := time.Now().UTC()

	t.Run("expired lease is taken over from another host", func(t *testing.T) {
		old := state.Holder{Host: other, PID: 424242, RunID: "old", Since: now.Add(-time.Minute), Expires: time.Now().Add(150 * time.Millisecond)}
		if _, err := st.Acquire(ctx, "lease", old); err != nil {
			t.Fatal(err)
		}
		me := state.Holder{Host: host, PID: os.Getpid(), RunID: "new", Since: now, Expires: time.Now().Add(time.Minute)}
		// Still within its lease: held, and the error names the holder.
		_, err := st.Acquire(ctx, "lease", me)
		var locked *state.LockedError
		if !errors.As(err, &locked) || locked.Holder.RunID != "old" || locked.Holder.Host != other {
			t.Fatalf("Acquire within the lease = %v; want a LockedError naming run old on %s", err, other)
		}
		if err := st.SaveHeld(ctx, "lease", "old", &state.Record{Live: "blue"}); err != nil {
			t.Fatalf("SaveHeld by the holder: %v", err)
		}
		time.Sleep(250 * time.Millisecond)
		tk, err := st.Acquire(ctx, "lease", me)
		if err != nil || tk == nil || tk.Previous.RunID != "old" || !strings.Contains(tk.Reason, "lease expired") {
			t.Fatalf("Acquire after the lease = %+v, %v; want a takeover naming the expired lease", tk, err)
		}
		// The old holder wakes up: it can neither write nor renew.
		err = st.SaveHeld(ctx, "lease", "old", &state.Record{Live: "green"})
		var lost *state.LeaseLostError
		if !errors.As(err, &lost) || lost.Holder == nil || lost.Holder.RunID != "new" {
			t.Fatalf("SaveHeld by the old holder = %v; want a LeaseLostError naming run new", err)
		}
		if err := st.Renew(ctx, "lease", "old", time.Now().Add(time.Hour)); !errors.Is(err, state.ErrLeaseLost) {
			t.Fatalf("Renew by the old holder = %v; want ErrLeaseLost", err)
		}
		if rec, err := st.Load(ctx, "lease"); err != nil || rec.Live != "blue" {
			t.Fatalf("record after the old holder's write = %+v, %v; want it unchanged (live blue)", rec, err)
		}
		// The new holder renews and writes.
		until := time.Now().Add(2 * time.Minute)
		if err := st.Renew(ctx, "lease", "new", until); err != nil {
			t.Fatal(err)
		}
		if h, _ := st.Holder(ctx, "lease"); h == nil || !h.Expires.Equal(until.UTC()) {
			t.Fatalf("holder after Renew = %v, want lease until %s", h, until)
		}
		if err := st.SaveHeld(ctx, "lease", "new", &state.Record{Live: "green"}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("renewed lease is not taken over", func(t *testing.T) {
		h := state.Holder{Host: other, PID: 1, RunID: "renewer", Since: now, Expires: time.Now().Add(200 * time.Millisecond)}
		if _, err := st.Acquire(ctx, "renewed", h); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 4; i++ {
			time.Sleep(100 * time.Millisecond)
			if err := st.Renew(ctx, "renewed", "renewer", time.Now().Add(200*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
		}
		_, err := st.Acquire(ctx, "renewed", state.Holder{Host: host, PID: 2, RunID: "taker", Since: now, Expires: time.Now().Add(time.Minute)})
		if !errors.Is(err, state.ErrLocked) {
			t.Fatalf("Acquire of a renewed lease = %v, want ErrLocked", err)
		}
	})

	t.Run("break names the holder and frees the lock", func(t *testing.T) {
		h := state.Holder{Host: other, PID: 7, RunID: "stuck", Since: now}
		if _, err := st.Acquire(ctx, "broken", h); err != nil {
			t.Fatal(err)
		}
		got, err := st.Break(ctx, "broken")
		if err != nil || got == nil || got.RunID != "stuck" || got.Host != other {
			t.Fatalf("Break = %v, %v; want the holder run stuck on %s", got, err, other)
		}
		if err := st.SaveHeld(ctx, "broken", "stuck", &state.Record{}); !errors.Is(err, state.ErrLeaseLost) {
			t.Fatalf("SaveHeld after Break = %v, want ErrLeaseLost", err)
		}
		if got, err := st.Break(ctx, "broken"); got != nil || err != nil {
			t.Fatalf("Break of a free lock = %v, %v; want nil, nil", got, err)
		}
		if _, err := st.Acquire(ctx, "broken", state.Holder{Host: host, PID: 8, RunID: "next", Since: now}); err != nil {
			t.Fatalf("Acquire after Break: %v", err)
		}
	})

	t.Run("newer format and unknown status are refused and kept", func(t *testing.T) {
		newer := `{"format": 2, "live": "green", "run": {"id": "r9", "status": "running"}}`
		writeRaw("newer", newer)
		if _, err := st.Load(ctx, "newer"); !errors.Is(err, state.ErrFormat) || !strings.Contains(err.Error(), "format 2") {
			t.Fatalf("Load of a format-2 record = %v, want a FormatError naming format 2", err)
		}
		if err := st.Save(ctx, "newer", &state.Record{Live: "blue"}); !errors.Is(err, state.ErrFormat) {
			t.Fatalf("Save over a format-2 record = %v, want ErrFormat", err)
		}
		writeRaw("status", `{"format": 1, "run": {"id": "r8", "status": "paused-for-approval", "journal": [{"seq": 1, "state": "applied"}]}}`)
		if _, err := st.Load(ctx, "status"); !errors.Is(err, state.ErrFormat) || !strings.Contains(err.Error(), "paused-for-approval") {
			t.Fatalf("Load of an unknown status = %v, want a FormatError naming it", err)
		}
	})

	t.Run("unknown fields survive a save", func(t *testing.T) {
		writeRaw("extra", `{"format": 1, "live": "blue", "owner": {"team": "payments"},
			"run": {"id": "r1", "status": "succeeded", "approved_by": "ana",
				"journal": [{"seq": 1, "state": "undone", "ticket": "CHG-1"}]},
			"history": [{"id": "r0", "status": "succeeded", "region": "eu-west-1"}]}`)
		rec, err := st.Load(ctx, "extra")
		if err != nil {
			t.Fatal(err)
		}
		rec.Live = "green"
		if err := st.Save(ctx, "extra", rec); err != nil {
			t.Fatal(err)
		}
		again, err := st.Load(ctx, "extra")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(again)
		for _, want := range []string{`"owner":{"team":"payments"}`, `"approved_by":"ana"`, `"ticket":"CHG-1"`, `"region":"eu-west-1"`, `"live":"green"`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("record after a save lost %s: %s", want, b)
			}
		}
	})
}

// TimelineContract is what every store must do with run timelines.
func TimelineContract(t *testing.T, st state.Timelines) {
	ctx := context.Background()
	if b, err := st.GetTimeline(ctx, "app", "20260101T000000Z-aaaa"); err != nil || b != nil {
		t.Fatalf("missing timeline: %q, %v; want nil, nil", b, err)
	}
	data := []byte{0x1f, 0x8b, 0, 1, 2, 255}
	if err := st.PutTimeline(ctx, "app", "20260101T000000Z-aaaa", data); err != nil {
		t.Fatal(err)
	}
	if err := st.PutTimeline(ctx, "other", "20260101T000000Z-aaaa", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if b, err := st.GetTimeline(ctx, "app", "20260101T000000Z-aaaa"); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("timeline %v, %v; want %v", b, err, data)
	}
	for _, bad := range []string{"", "../x", "a/b", ".hidden"} {
		if err := st.PutTimeline(ctx, "app", bad, data); err == nil {
			t.Errorf("run id %q accepted", bad)
		}
	}
}
