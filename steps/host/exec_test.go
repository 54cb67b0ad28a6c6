package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestExec(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name       string
		params     map[string]any
		wantCode   int
		wantStdout string // exact, unless wantInOut is set
		wantInOut  string
		wantErr    string // substring; "" means success
	}{
		{name: "stdout", params: map[string]any{"command": []any{"echo", "hello"}}, wantStdout: "hello\n"},
		{name: "no shell expansion", params: map[string]any{"command": []any{"echo", "$HOME", "*"}}, wantStdout: "$HOME *\n"},
		{name: "dir", params: map[string]any{"command": []any{"pwd"}, "dir": dir}, wantStdout: dir + "\n"},
		{name: "env added", params: map[string]any{"command": []any{"sh", "-c", "echo $BG_TEST_VAR"}, "env": map[string]any{"BG_TEST_VAR": "green"}}, wantStdout: "green\n"},
		{name: "env keeps PATH", params: map[string]any{"command": []any{"sh", "-c", "test -n \"$PATH\" && echo ok"}, "env": map[string]any{"X": "1"}}, wantStdout: "ok\n"},
		{name: "non-zero exit", params: map[string]any{"command": []any{"sh", "-c", "echo partial; echo boom >&2; exit 3"}},
			wantCode: 3, wantStdout: "partial\n", wantErr: `"sh" exited with code 3: boom`},
		{name: "missing program", params: map[string]any{"command": []any{"/nonexistent/bg-no-such-program"}},
			wantCode: -1, wantErr: `start "/nonexistent/bg-no-such-program"`},
		{name: "empty program", params: map[string]any{"command": []any{""}}, wantCode: -1, wantErr: "needs at least the program name"},
		{name: "output bounded", params: map[string]any{"command": []any{"sh", "-c", "head -c 200000 /dev/zero | tr '\\0' a"}},
			wantInOut: "bytes truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(t, "host.exec", tt.params, nil)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
			}
			if out == nil {
				if tt.wantStdout != "" || tt.wantInOut != "" {
					t.Fatalf("no outputs")
				}
				return
			}
			if out["exit_code"] != tt.wantCode {
				t.Errorf("exit_code = %v, want %d", out["exit_code"], tt.wantCode)
			}
			stdout := out["stdout"].(string)
			if tt.wantInOut != "" {
				if !strings.Contains(stdout, tt.wantInOut) || len(stdout) > outputLimit+100 {
					t.Errorf("stdout has %d bytes, want at most %d with a marker %q", len(stdout), outputLimit, tt.wantInOut)
				}
			} else if stdout != tt.wantStdout {
				t.Errorf("stdout = %q, want %q", stdout, tt.wantStdout)
			}
		})
	}
}

// TestExecTimeoutKillsProcessGroup checks that a timed-out command's
// children die with it: a leftover child would hold the port of the copy
// the command was meant to stop.
func TestExecTimeoutKillsProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	_, err := run(t, "host.exec", map[string]any{
		"command": []any{"sh", "-c", "sleep 60 & echo $! > " + pidFile + "; wait"},
		"timeout": "300ms",
	}, nil)
	if err == nil || !strings.Contains(err.Error(), "timed out after 300ms") {
		t.Fatalf("error = %v, want a timeout", err)
	}
	pid := readPID(t, pidFile)
	waitGone(t, pid)
}

func TestExecCancelKillsProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancel once the child has written its pid, i.e. is running.
		for {
			if b, _ := os.ReadFile(pidFile); len(b) > 0 && b[len(b)-1] == '\n' {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	_, err := runCtx(ctx, t, "host.exec", map[string]any{
		"command": []any{"sh", "-c", "sleep 60 & echo $! > " + pidFile + "; wait"},
	}, nil, false)
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	waitGone(t, readPID(t, pidFile))
}

// TestExecBackgroundChild checks that a start script that leaves a server
// running in the background (holding the output pipe) still succeeds.
func TestExecBackgroundChild(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "bg.pid")
	out, err := run(t, "host.exec", map[string]any{
		"command": []any{"sh", "-c", "sleep 60 & echo $! > " + pidFile + "; echo started"},
	}, nil)
	pid := readPID(t, pidFile)
	defer syscall.Kill(pid, syscall.SIGKILL)
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if out["stdout"] != "started\n" || out["exit_code"] != 0 {
		t.Errorf("outputs = %v", out)
	}
	if syscall.Kill(pid, 0) != nil {
		t.Errorf("background child %d was killed; a start command must be allowed to leave it running", pid)
	}
}

func TestExecUndo(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	params := map[string]any{
		"command": []any{"touch", marker},
		"undo":    []any{"rm", "-f", marker},
		"dir":     dir,
		"env":     map[string]any{"A": "b"},
		"timeout": "7s",
	}

	t.Run("journaled before running", func(t *testing.T) {
		l := &undoLog{}
		if _, err := run(t, "host.exec", params, l); err != nil {
			t.Fatal(err)
		}
		if len(l.undos) != 1 {
			t.Fatalf("journaled %d undos, want 1", len(l.undos))
		}
		u := l.undos[0]
		if u.Kind != "host.exec" || u.Params["dir"] != dir || u.Params["timeout"] != "7s" {
			t.Errorf("undo = %+v", u)
		}
		// The journaled undo must itself be a valid host.exec call that
		// does what it says.
		if _, err := run(t, "host.exec", u.Params, nil); err != nil {
			t.Fatalf("run journaled undo: %v", err)
		}
		if _, err := os.Stat(marker); !os.IsNotExist(err) {
			t.Errorf("undo did not remove %s", marker)
		}
	})

	t.Run("journal failure stops the command", func(t *testing.T) {
		l := &undoLog{err: errors.New("disk full")}
		_, err := run(t, "host.exec", params, l)
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Fatalf("error = %v, want the journal error", err)
		}
		if _, err := os.Stat(marker); !os.IsNotExist(err) {
			t.Errorf("command ran although its undo could not be journaled")
		}
	})

	t.Run("an undo run journals nothing", func(t *testing.T) {
		l := &undoLog{}
		if _, err := runCtx(context.Background(), t, "host.exec", params, l, true); err != nil {
			t.Fatal(err)
		}
		if len(l.undos) != 0 {
			t.Errorf("journaled %v while undoing", l.undos)
		}
	})

	t.Run("no undo param journals nothing", func(t *testing.T) {
		l := &undoLog{}
		if _, err := run(t, "host.exec", map[string]any{"command": []any{"true"}}, l); err != nil {
			t.Fatal(err)
		}
		if len(l.undos) != 0 {
			t.Errorf("journaled %v", l.undos)
		}
	})
}

func readPID(t *testing.T, file string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid file %q: %v", b, err)
	}
	return pid
}

// waitGone waits until pid no longer exists. SIGKILL is delivered
// asynchronously and the orphan must be reaped by init, so allow a moment;
// the bound is generous and only guards against hanging forever.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		if isZombie(pid) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	t.Fatalf("child %d still runs after its command was killed", pid)
}

// isZombie reports a process that has died but not yet been reaped.
func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && len(s) > i+2 {
		return s[i+2] == 'Z'
	}
	return false
}
