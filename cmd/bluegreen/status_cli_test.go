package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// statusBook serves one of two folders through a symlink; detect reads the
// link. fail makes the run roll back after the switch.
const statusBook = `version: 1
name: site
inputs:
  root: {type: string}
  fail: {type: bool, default: false}
colours:
  blue: {dir: "${{ inputs.root }}/blue"}
  green: {dir: "${{ inputs.root }}/green"}
detect:
  uses: host.symlink.read
  with: {link: "${{ inputs.root }}/current", colours: {blue: "${{ colours.blue.dir }}", green: "${{ colours.green.dir }}"}}
  live: colour
steps:
  - uses: host.symlink.switch
    with: {link: "${{ inputs.root }}/current", target: "${{ idle.dir }}"}
  - if: inputs.fail
    uses: flow.fail
    with: {message: injected}
`

func statusWorld(t *testing.T) (book, root, stateDir string) {
	t.Helper()
	dir := t.TempDir()
	root = filepath.Join(dir, "site")
	for _, c := range []string{"blue", "green"} {
		if err := os.MkdirAll(filepath.Join(root, c), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(root, "blue"), filepath.Join(root, "current")); err != nil {
		t.Fatal(err)
	}
	book = filepath.Join(dir, "site.yaml")
	if err := os.WriteFile(book, []byte(statusBook), 0o644); err != nil {
		t.Fatal(err)
	}
	return book, root, filepath.Join(dir, "state")
}

type statusJSON struct {
	Live       string             `json:"live"`
	Remembered string             `json:"remembered"`
	Drift      bool               `json:"drift"`
	Traffic    map[string]float64 `json:"traffic"`
}

func status(t *testing.T, book, root, stateDir string) (statusJSON, string) {
	t.Helper()
	r := bg(t, "status", book, "--state", stateDir, "--set", "root="+root, "-o", "json")
	r.wantCode(t, ExitOK)
	var s statusJSON
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, r.stdout)
	}
	text := bg(t, "status", book, "--state", stateDir, "--set", "root="+root)
	text.wantCode(t, ExitOK)
	return s, text.stdout
}

// TestStatusReadsTheWorld: after a switch made by hand, status shows the
// colour the world has, the one the state remembers, and the drift.
func TestStatusReadsTheWorld(t *testing.T) {
	book, root, stateDir := statusWorld(t)
	bg(t, "run", book, "--state", stateDir, "--set", "root="+root).wantCode(t, ExitOK)
	s, _ := status(t, book, root, stateDir)
	if s.Live != "green" || s.Remembered != "green" || s.Drift {
		t.Fatalf("after the run: %+v, want green/green without drift", s)
	}
	// The operator switches back by hand.
	link := filepath.Join(root, "current")
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "blue"), link); err != nil {
		t.Fatal(err)
	}
	s, text := status(t, book, root, stateDir)
	if s.Live != "blue" || s.Remembered != "green" || !s.Drift {
		t.Fatalf("after a switch by hand: %+v, want live blue, remembered green, drift", s)
	}
	for _, want := range []string{"live:     blue (detected now)", "remembered: green", "drift:    the world has blue live but the state remembers green"} {
		if !strings.Contains(text, want) {
			t.Errorf("status text lacks %q:\n%s", want, text)
		}
	}
}

// TestStatusAfterAFirstRunRolledBack: the state remembers no colour, but
// the world has one.
func TestStatusAfterAFirstRunRolledBack(t *testing.T) {
	book, root, stateDir := statusWorld(t)
	bg(t, "run", book, "--state", stateDir, "--set", "root="+root, "--set", "fail=true").wantCode(t, ExitFailed)
	s, text := status(t, book, root, stateDir)
	if s.Live != "blue" || s.Remembered != "" || s.Drift {
		t.Fatalf("after a rolled-back first run: %+v, want live blue, nothing remembered, no drift", s)
	}
	if !strings.Contains(text, "live:     blue (detected now)") || !strings.Contains(text, "remembered: -") {
		t.Errorf("status text:\n%s", text)
	}
}

// TestStatusWithoutInputs shows the remembered colour and says what
// detect needs.
func TestStatusWithoutInputs(t *testing.T) {
	book, _, stateDir := statusWorld(t)
	r := bg(t, "status", book, "--state", stateDir, "--key", "site")
	r.wantCode(t, ExitOK)
	if !strings.Contains(r.stdout, "live:     - (detect needs the runbook's inputs") {
		t.Fatalf("status without inputs:\n%s", r.stdout)
	}
}
