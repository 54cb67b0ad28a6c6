package e2e_aws

import (
	"bufio"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
)

// quickStart returns the commands of the README's Quick start: the first
// sh block under the "## Quick start" heading. The test runs what the
// README says, so it breaks when the two drift apart.
func quickStart(t *testing.T, readme string) []string {
	t.Helper()
	f, err := os.Open(readme)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds []string
	section, block := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			if section && len(cmds) > 0 {
				return cmds
			}
			section = line == "## Quick start"
		case section && !block && strings.HasPrefix(line, "```sh"):
			block = true
		case section && block && strings.HasPrefix(line, "```"):
			return cmds
		case section && block && strings.TrimSpace(line) != "":
			cmds = append(cmds, line)
		}
	}
	t.Fatalf("%s has no sh block under ## Quick start", readme)
	return nil
}

// copyTree copies the repository without its git data and build output, so
// the commands run as in a fresh clone and write nothing into the tree the
// tests run from.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	skip := map[string]bool{".git": true, "bin": true, ".demo": true, ".bluegreen": true}
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			if skip[d.Name()] {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		if !d.Type().IsRegular() || strings.HasSuffix(p, ".test") {
			return nil
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		info, _ := d.Info()
		dst, err := os.OpenFile(filepath.Join(to, rel), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(dst, src); err != nil {
			dst.Close()
			return err
		}
		return dst.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReadmeQuickStart runs the README's Quick start, command for command,
// in a copy of the repository: it must work as written, with only the
// standard AWS variables the demo environment writes.
func TestReadmeQuickStart(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	awstest.Require(t)
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	cmds := quickStart(t, filepath.Join(root, "README.md"))
	for _, want := range []string{"make demo-env", "--inputs .demo/inputs.yaml", "bluegreen run"} {
		if !strings.Contains(strings.Join(cmds, "\n"), want) {
			t.Fatalf("the Quick start no longer shows %q:\n%s", want, strings.Join(cmds, "\n"))
		}
	}
	dir := t.TempDir()
	copyTree(t, root, dir)
	// The README's default port is 5000; tests never bind fixed ports.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	t.Cleanup(func() {
		// A failed command leaves the server running: stop it.
		if b, err := os.ReadFile(filepath.Join(dir, ".demo", "moto.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				_ = syscall.Kill(-pid, syscall.SIGKILL)
			}
		}
	})

	// One shell runs them all, as a person's terminal would (". .demo/env"
	// and the PATH export carry over), stopping at the first failure.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "BLUEGREEN_") {
			env = append(env, kv)
		}
	}
	env = append(env, "PORT="+strconv.Itoa(port), "PATH="+filepath.Join(os.Getenv("HOME"), ".pyenv", "shims")+":"+os.Getenv("PATH"))
	start := time.Now()
	for _, c := range cmds {
		t.Logf("$ %s", c)
	}
	script := "set -eu\n" + strings.Join(cmds, "\n") + "\n"
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the Quick start failed: %v\n%s", err, out)
	}
	t.Logf("Quick start ran in %s", time.Since(start).Round(time.Second))
	for _, want := range []string{
		"weighted-dns: succeeded, live colour green",
		"weighted-dns: rolled-back, live colour blue",
		"alb-weighted: succeeded, live colour green",
		"moto_server (pid",
	} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("the Quick start's output does not show %q:\n%s", want, out)
		}
	}
}
