package templates

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus/servicemsg"
)

// runPrelude runs the templates' script prelude under bash as Calamari
// would (get_octopusvariable and fail_step defined as in its Bootstrap.sh),
// with a uname that reports os and arch, and returns stdout and the exit
// code.
func runPrelude(t *testing.T, osName, arch string) (string, string, int) {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatal("bash is needed to run the template scripts")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	pkg := filepath.Join(dir, "pkg")
	for _, d := range []string{bin, filepath.Join(pkg, "linux-amd64"), filepath.Join(pkg, "linux-arm64")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []string{"linux-amd64", "linux-arm64"} {
		if err := os.WriteFile(filepath.Join(pkg, a, "bluegreen"), []byte("#!/bin/sh\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	uname := "#!/bin/sh\ncase \"$1\" in -s) echo '" + osName + "' ;; -m) echo '" + arch + "' ;; esac\n"
	if err := os.WriteFile(filepath.Join(bin, "uname"), []byte(uname), 0o755); err != nil {
		t.Fatal(err)
	}
	script := `get_octopusvariable() { if [ "$1" = "Octopus.Action.Package[bluegreen].ExtractedPath" ]; then echo "$PKG"; fi; }
fail_step() { echo "##octopus[resultMessage message='$(printf %s "$1" | base64 -w0)']"; exit 1; }
` + scriptPrelude + `
echo "BIN=$bin"
`
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "PKG="+pkg)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), dir, code
}

// TestPreludeRefusesOtherSystems: on anything but Linux (a Windows worker
// with Git Bash or Cygwin, macOS) the step fails at once and its result
// message names the fix.
func TestPreludeRefusesOtherSystems(t *testing.T) {
	for _, osName := range []string{"MINGW64_NT-10.0-19045", "CYGWIN_NT-10.0", "Darwin"} {
		out, _, code := runPrelude(t, osName, "x86_64")
		msgs, err := servicemsg.Decode(strings.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if code != 1 || len(msgs) != 1 || msgs[0].Name != "resultMessage" || !strings.Contains(msgs[0].Attrs["message"], "Linux worker pool") ||
			!strings.Contains(msgs[0].Attrs["message"], osName) {
			t.Errorf("%s: exit %d, messages %v, stdout %q", osName, code, msgs, out)
		}
	}
	out, _, code := runPrelude(t, "Linux", "riscv64")
	if code != 1 || !strings.Contains(out, "resultMessage") {
		t.Errorf("riscv64: exit %d, stdout %q", code, out)
	}
}

// TestPreludePicksTheArchitecture: the package holds both Linux binaries
// and the script runs the one for the machine.
func TestPreludePicksTheArchitecture(t *testing.T) {
	for arch, want := range map[string]string{"x86_64": "linux-amd64", "aarch64": "linux-arm64", "arm64": "linux-arm64"} {
		out, dir, code := runPrelude(t, "Linux", arch)
		if code != 0 || !strings.Contains(out, "BIN="+filepath.Join(dir, "pkg", want, "bluegreen")+"\n") {
			t.Errorf("%s: exit %d, stdout %q", arch, code, out)
		}
	}
}
