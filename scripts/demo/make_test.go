package main

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// repoRoot is where the Makefile is.
const repoRoot = "../.."

// TestDemoSaysWhatItDoesBeforeBuilding: `make demo` prints what it is
// doing before the (possibly minutes-long, cold) build starts, builds with
// -v so each compiled package is listed, and stops when the build fails.
// A go on PATH that records its arguments and fails stands in for the
// toolchain so that the test does not depend on what the build cache holds.
func TestDemoSaysWhatItDoesBeforeBuilding(t *testing.T) {
	bin := t.TempDir()
	script := "#!/bin/sh\necho \"go-called $*\"\nexit 3\n"
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("make", "--no-print-directory", "demo")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("make demo succeeded although the build failed:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	first := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "== building bluegreen") {
			first = i
			break
		}
	}
	build := -1
	for i, l := range lines {
		if strings.Contains(l, "go-called build -v -o bin/bluegreen ./cmd/bluegreen") {
			build = i
			break
		}
	}
	if first < 0 || build < 0 || first > build {
		t.Fatalf("the demo must announce the build before it runs `go build -v`:\n%s", out)
	}
	if strings.Contains(string(out), "bluegreen-demo --bin") || strings.Contains(string(out), "go-called build -v -o bin/bluegreen-demo") {
		t.Fatalf("the demo went on after a failed build:\n%s", out)
	}
}

// TestMakeMotoTakesPort starts `make moto PORT=N` and expects moto_server
// to answer on that port.
func TestMakeMotoTakesPort(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto_server")
	}
	if _, err := exec.LookPath("moto_server"); err != nil {
		home, _ := os.UserHomeDir()
		if _, err := os.Stat(filepath.Join(home, ".pyenv", "shims", "moto_server")); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatal("moto_server not found and CI is set")
			}
			t.Skip("moto_server not found")
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	var out bytes.Buffer
	cmd := exec.Command("make", "--no-print-directory", "moto", "PORT="+strconv.Itoa(port))
	cmd.Dir = repoRoot
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait()
	})
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/moto-api/"
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not answer on port %d:\n%s", port, out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "127.0.0.1:"+strconv.Itoa(port)) {
		t.Errorf("make moto did not say where it listens:\n%s", out.String())
	}
}
