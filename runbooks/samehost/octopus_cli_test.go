package samehost

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/nginxtest"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/servicemsg"
)

// TestPrepareSetsIdleDirForOctopus runs prepare as the Run runbook
// template does (the binary, --octopus-output) and reads its standard
// output as Calamari does: the output variable the deployment process's
// "Deploy a Package" step installs into, BlueGreen.IdleDir, names the idle
// copy's folder, and nothing was started or switched.
func TestPrepareSetsIdleDirForOctopus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	root := t.TempDir()
	bin := filepath.Join(root, "bluegreen")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/bluegreen")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dirs := map[string]string{"blue": filepath.Join(root, "blue"), "green": filepath.Join(root, "green")}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(root, "current")
	if err := os.Symlink(dirs["blue"], link); err != nil {
		t.Fatal(err)
	}
	bluePort, greenPort := nginxtest.FreePort(t), nginxtest.FreePort(t)
	// The binary runs in its own folder, where it leaves the run report.
	rbPath, err := filepath.Abs("../same-host.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", rbPath, "--phase", "prepare", "--octopus-output", "--state", filepath.Join(root, "state"),
		"--set", "switch=symlink", "--set", "current_link="+link,
		"--set", "blue_dir="+dirs["blue"], "--set", "green_dir="+dirs["green"],
		"--set", "blue_port="+strconv.Itoa(bluePort), "--set", "green_port="+strconv.Itoa(greenPort),
		"--set", "start_command=[false]", "--set", "stop_command=[false]", "--set", "public_url=http://127.0.0.1:1/")
	var stdout, stderr bytes.Buffer
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("prepare: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	msgs, err := servicemsg.Decode(bytes.NewReader(stdout.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, m := range msgs {
		if m.Name == "setVariable" {
			vars[m.Attrs["name"]] = m.Attrs["value"]
		}
	}
	if vars["BlueGreen.IdleDir"] != dirs["green"] || vars["BlueGreen.IdlePort"] != strconv.Itoa(greenPort) || vars["BlueGreen.Idle"] != "green" {
		t.Errorf("output variables %v, want BlueGreen.IdleDir=%s, BlueGreen.IdlePort=%d, BlueGreen.Idle=green\nstdout:\n%s", vars, dirs["green"], greenPort, stdout.String())
	}
	if got, _ := os.Readlink(link); got != dirs["blue"] {
		t.Errorf("prepare switched the link to %s", got)
	}
}
