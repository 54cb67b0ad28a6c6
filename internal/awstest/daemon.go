package awstest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// StartDetached starts moto_server on 127.0.0.1:port in the background, in
// its own session so that it outlives this process (make demo-env returns
// and leaves it running), with its request log in logPath. It waits until
// the server answers and returns its process id, which is also its process
// group: stopping the group stops any child the pyenv shim started.
func StartDetached(ctx context.Context, port int, logPath string) (pid int, url string, err error) {
	argv, err := command()
	if err != nil {
		return 0, "", err
	}
	// A server already on the port (a demo environment still running)
	// would answer the readiness probe below and be taken for ours.
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return 0, "", fmt.Errorf("port %d on 127.0.0.1 is in use (a demo environment still running? `make demo-env-stop`, or choose another with PORT=...): %w", port, err)
	}
	l.Close()
	logf, err := os.Create(logPath)
	if err != nil {
		return 0, "", err
	}
	defer logf.Close()
	args := append(append([]string{}, argv[1:]...), "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd := exec.Command(argv[0], args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, "", fmt.Errorf("start %s: %w", argv[0], err)
	}
	pid = cmd.Process.Pid
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	url = fmt.Sprintf("http://127.0.0.1:%d", port)
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := client.Get(url + "/moto-api/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return pid, url, nil
			}
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(logPath)
			return 0, "", fmt.Errorf("moto_server on port %d exited before answering: %s", port, b)
		case <-ctx.Done():
			_ = syscall.Kill(-pid, syscall.SIGTERM)
			return 0, "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(-pid, syscall.SIGTERM)
			return 0, "", fmt.Errorf("moto_server on port %d did not answer within 60s (log: %s)", port, logPath)
		}
	}
}

// Require skips the test when moto is not installed, or fails it when
// CI=true, for tests that start moto themselves (through make demo-env).
func Require(tb testing.TB) {
	tb.Helper()
	if _, err := command(); err != nil {
		skipOrFail(tb, err)
	}
}
