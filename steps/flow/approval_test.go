package flow

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestApprovalDecisions(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		consume       bool
		wantErr       string
		wantNote      string
	}{
		{"empty file approves", "", true, "", ""},
		{"text approves", "approved by ann\n", true, "", "approved by ann"},
		{"kept when not consumed", "ok", false, "", "ok"},
		{"reject with reason", "REJECT 5xx rate\ntoo high\n", true, "flow.approval: rejected: 5xx rate too high", "REJECT 5xx rate too high"},
		{"reject alone", "reject", true, "flow.approval: rejected: no reason given", "reject"},
		{"rejected is not reject", "rejected-by-mistake? no, approve", true, "", "rejected-by-mistake? no, approve"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "approve")
			if err := os.WriteFile(file, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := run(context.Background(), t, "flow.approval", map[string]any{"file": file, "consume": tc.consume}, nil)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Fatalf("flow.approval = %v; want error %q", err, tc.wantErr)
			}
			if out["note"] != tc.wantNote {
				t.Errorf("note = %q, want %q", out["note"], tc.wantNote)
			}
			if _, ok := out["waited"].(time.Duration); !ok {
				t.Errorf("waited = %#v, want a time.Duration", out["waited"])
			}
			_, statErr := os.Stat(file)
			if exists := statErr == nil; exists == tc.consume {
				t.Errorf("file exists after the step: %v; consume was %v", exists, tc.consume)
			}
		})
	}
}

// TestApprovalWaits starts the wait before the file exists, as an operator
// would see it, and approves from another goroutine.
func TestApprovalWaits(t *testing.T) {
	file := filepath.Join(t.TempDir(), "approve")
	type result struct {
		note any
		err  error
	}
	done := make(chan result, 1)
	go func() {
		out, err := run(context.Background(), t, "flow.approval", map[string]any{"file": file, "every": "5ms", "timeout": "10m"}, nil)
		done <- result{out["note"], err}
	}()
	select {
	case r := <-done:
		t.Fatalf("flow.approval returned before the file existed: %v", r.err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := os.WriteFile(file, []byte("go ahead"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.note != "go ahead" {
		t.Errorf("flow.approval = %v, %v; want approved with note \"go ahead\"", r.note, r.err)
	}
}

func TestApprovalTimeoutAndCancel(t *testing.T) {
	file := filepath.Join(t.TempDir(), "never")
	_, err := run(context.Background(), t, "flow.approval", map[string]any{"file": file, "every": "1ms", "timeout": "20ms"}, nil)
	if err == nil || !strings.Contains(err.Error(), "no decision in 20ms") || !strings.Contains(err.Error(), file) {
		t.Errorf("flow.approval without a file = %v; want a timeout naming the file", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := run(ctx, t, "flow.approval", map[string]any{"file": file}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("flow.approval after cancel = %v; want context.Canceled", err)
	}
}

// TestApprovalWaitsForTheWriter creates the file empty and writes the
// rejection a moment later, as a shell redirect does: the step must not take
// the empty file for an approval.
func TestApprovalWaitsForTheWriter(t *testing.T) {
	file := filepath.Join(t.TempDir(), "approve")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := run(context.Background(), t, "flow.approval", map[string]any{"file": file, "every": "50ms", "timeout": "10m"}, nil)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if _, err := f.WriteString("reject canary errors"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := <-done; err == nil || !strings.Contains(err.Error(), "rejected: canary errors") {
		t.Errorf("flow.approval over a file written late = %v; want the rejection", err)
	}
}
