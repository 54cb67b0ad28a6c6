package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
)

// These tests call Main in-process, the way the binary runs, with runbooks
// that use only flow.* and host.exec: no cloud, no network.

// result is what one CLI invocation produced.
type result struct {
	code           int
	stdout, stderr string
}

// bg runs the CLI with args and returns its exit code and output.
func bg(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(append(args, "--log-format", "json"), strings.NewReader(""), &out, &errb)
	return result{code, out.String(), errb.String()}
}

// wantCode fails the test unless r exited with code, showing the output.
func (r result) wantCode(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

// writeRunbook writes a runbook into dir; %DIR% in it becomes dir, so
// host.exec commands can leave marker files there.
func writeRunbook(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(body, "%DIR%", dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Stat(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return err == nil
}

// okRunbook touches a marker (journaling its removal as the undo), logs
// and, in the cleanup phase, logs again.
const okRunbook = `version: 1
name: cli-ok
inputs:
  greeting: {type: string, default: hello}
  count: {type: int}
colours:
  blue: {}
  green: {}
steps:
  - id: touch
    uses: host.exec
    with:
      command: [touch, "%DIR%/marker"]
      undo: [rm, -f, "%DIR%/marker"]
  - uses: flow.log
    with: {message: "${{ inputs.greeting }} ${{ inputs.count }} from ${{ live.name }} to ${{ idle.name }}"}
  - uses: flow.assert
    with: {condition: "${{ steps.touch.exit_code == 0 }}", message: touch failed}
  - uses: flow.log
    phase: cleanup
    with: {message: cleaned up}
`

// failRunbook makes a change and then fails, so the change is rolled back
// (or kept, when on_failure is stop).
const failRunbook = `version: 1
name: cli-fail
on_failure: %MODE%
colours:
  blue: {}
  green: {}
steps:
  - uses: host.exec
    with:
      command: [touch, "%DIR%/marker"]
      undo: [rm, -f, "%DIR%/marker"]
  - uses: flow.fail
    with: {message: "the release is not wanted"}
`

// brokenRunbook has two problems; running it must run nothing.
const brokenRunbook = `version: 1
name: cli-broken
colours:
  blue: {}
  green: {}
steps:
  - uses: host.exec
    with: {command: [touch, "%DIR%/marker"]}
  - uses: flow.paws
    with: {duration: 1s}
  - uses: flow.log
    with: {message: "${{ inputs.missing }}"}
`

func TestExitCodes(t *testing.T) {
	t.Run("valid runbook validates", func(t *testing.T) {
		dir := t.TempDir()
		rb := writeRunbook(t, dir, "ok.yaml", okRunbook)
		r := bg(t, "validate", rb)
		r.wantCode(t, ExitOK)
		if !strings.Contains(r.stdout, rb+": valid") {
			t.Errorf("stdout %q does not say the runbook is valid", r.stdout)
		}
	})

	t.Run("successful run", func(t *testing.T) {
		dir := t.TempDir()
		rb := writeRunbook(t, dir, "ok.yaml", okRunbook)
		r := bg(t, "run", rb, "--set", "count=3", "--state", filepath.Join(dir, "state"))
		r.wantCode(t, ExitOK)
		if !strings.Contains(r.stdout, "succeeded") || !exists(t, filepath.Join(dir, "marker")) {
			t.Errorf("run did not succeed: %s", r.stdout)
		}
		if !strings.Contains(r.stderr, "hello 3 from blue to green") {
			t.Errorf("the flow.log message with interpolated inputs is not in the log:\n%s", r.stderr)
		}
	})

	t.Run("failed run is rolled back", func(t *testing.T) {
		dir := t.TempDir()
		rb := writeRunbook(t, dir, "fail.yaml", strings.ReplaceAll(failRunbook, "%MODE%", "rollback"))
		st := filepath.Join(dir, "state")
		r := bg(t, "run", rb, "--state", st)
		r.wantCode(t, ExitFailed)
		if !strings.Contains(r.stderr, "the release is not wanted") {
			t.Errorf("stderr does not give the failure:\n%s", r.stderr)
		}
		if exists(t, filepath.Join(dir, "marker")) {
			t.Error("the journaled undo did not run: the marker is still there")
		}
		s := bg(t, "status", rb, "--state", st)
		s.wantCode(t, ExitOK)
		if !strings.Contains(s.stdout, state.StatusRolledBack) {
			t.Errorf("status does not say %s:\n%s", state.StatusRolledBack, s.stdout)
		}
	})

	t.Run("failed run with on_failure stop keeps the change", func(t *testing.T) {
		dir := t.TempDir()
		rb := writeRunbook(t, dir, "fail.yaml", strings.ReplaceAll(failRunbook, "%MODE%", "stop"))
		st := filepath.Join(dir, "state")
		bg(t, "run", rb, "--state", st).wantCode(t, ExitFailed)
		if !exists(t, filepath.Join(dir, "marker")) {
			t.Fatal("on_failure: stop undid the change")
		}
		// The journal is kept: rollback applies it now.
		bg(t, "rollback", rb, "--state", st).wantCode(t, ExitOK)
		if exists(t, filepath.Join(dir, "marker")) {
			t.Error("rollback after a stopped run left the marker")
		}
	})

	t.Run("invalid runbook runs nothing", func(t *testing.T) {
		dir := t.TempDir()
		rb := writeRunbook(t, dir, "broken.yaml", brokenRunbook)
		r := bg(t, "run", rb, "--state", filepath.Join(dir, "state"))
		r.wantCode(t, ExitInvalid)
		for _, want := range []string{rb + ":9:11: uses: unknown step kind \"flow.paws\", did you mean \"flow.pause\"?", rb + ":12:33: unknown input \"missing\""} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
		if exists(t, filepath.Join(dir, "marker")) {
			t.Error("a step of an invalid runbook ran")
		}
	})

	usage := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"run", "RB", "--colour", "blue"}, "unknown flag: --colour"},
		{"missing required input", []string{"run", "RB"}, `missing required input "count"`},
		{"mistyped input", []string{"run", "RB", "--set", "count=three"}, `input "count": expected an integer`},
		{"unknown input", []string{"run", "RB", "--set", "count=1", "--set", "greting=hi"}, `unknown input "greting", did you mean "greeting"?`},
		{"unknown phase", []string{"run", "RB", "--set", "count=1", "--phase", "deploy"}, `unknown phase "deploy" (the runbook's phases: main, cleanup)`},
		{"set without value", []string{"run", "RB", "--set", "count"}, `expected key=value, found "count"`},
		{"missing runbook file", []string{"validate", "NOPE"}, "cannot read runbook"},
		{"no runbook argument", []string{"run"}, "accepts 1 arg"},
		{"unknown command", []string{"deploy", "RB"}, `unknown command "deploy"`},
		// Enum-like flags are checked when parsed, whatever the run would
		// do: --recover banana used to pass when nothing was unfinished.
		{"unknown recover", []string{"run", "RB", "--set", "count=1", "--recover", "banana"}, `invalid argument "banana" for "--recover" flag: expected fail, rollback or resume, found "banana"`},
		{"unknown progress", []string{"run", "RB", "--set", "count=1", "--progress", "sometimes"}, `expected auto, always or never, found "sometimes"`},
		{"unknown log format", []string{"run", "RB", "--set", "count=1", "--log-format", "xml"}, `expected auto, console or json, found "xml"`},
		{"unknown log level", []string{"validate", "RB", "--log-level", "loud"}, `expected debug, info, warn or error, found "loud"`},
		{"unknown output", []string{"status", "RB", "-o", "yaml"}, `expected text or json, found "yaml"`},
		{"unknown plan output", []string{"plan", "RB", "--set", "count=1", "-o", "yaml"}, `expected text or json, found "yaml"`},
		{"unknown steps output", []string{"steps", "-o", "xml"}, `expected text or json, found "xml"`},
		// Input files are bounded: an endless one used to be read until
		// memory ran out.
		{"endless inputs file", []string{"run", "RB", "--inputs", "/dev/urandom"}, "inputs file is larger than the limit of 1 MiB"},
		{"endless set file", []string{"run", "RB", "--set-file", "/dev/zero"}, "inputs file is larger than the limit of 1 MiB"},
	}
	for _, tc := range usage {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			rb := writeRunbook(t, dir, "ok.yaml", okRunbook)
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				a = strings.ReplaceAll(a, "RB", rb)
				args[i] = strings.ReplaceAll(a, "NOPE", filepath.Join(dir, "nope.yaml"))
			}
			if args[0] == "run" && len(args) > 1 {
				args = append(args, "--state", filepath.Join(dir, "state"))
			}
			r := bg(t, args...)
			r.wantCode(t, ExitInvalid)
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r.stderr)
			}
			if exists(t, filepath.Join(dir, "marker")) {
				t.Error("a step ran although the command line was invalid")
			}
		})
	}

	t.Run("lock held", func(t *testing.T) {
		dir := t.TempDir()
		rb := writeRunbook(t, dir, "ok.yaml", okRunbook)
		st := filepath.Join(dir, "state")
		store, err := state.NewFileStore(st)
		if err != nil {
			t.Fatal(err)
		}
		// This process is alive, so the lock is not stale and cannot be
		// taken over.
		host, _ := os.Hostname()
		holder := state.Holder{Host: host, PID: os.Getpid(), RunID: "other-run", Since: time.Now().UTC()}
		if _, err := store.Acquire(context.Background(), "cli-ok", holder); err != nil {
			t.Fatal(err)
		}
		r := bg(t, "run", rb, "--set", "count=1", "--state", st, "--key", "cli-ok")
		r.wantCode(t, ExitLocked)
		if !strings.Contains(r.stderr, "other-run") {
			t.Errorf("the error does not name the holder's run:\n%s", r.stderr)
		}
		if exists(t, filepath.Join(dir, "marker")) {
			t.Error("a step ran without the lock")
		}
		s := bg(t, "status", rb, "--state", st, "--key", "cli-ok")
		s.wantCode(t, ExitOK)
		if !strings.Contains(s.stdout, "held by") {
			t.Errorf("status does not show the lock holder:\n%s", s.stdout)
		}
		if err := store.Release(context.Background(), "cli-ok", "other-run"); err != nil {
			t.Fatal(err)
		}
		bg(t, "run", rb, "--set", "count=1", "--state", st).wantCode(t, ExitOK)
	})
}

func TestValidateReportsEveryProblemOfEveryFile(t *testing.T) {
	dir := t.TempDir()
	ok := writeRunbook(t, dir, "ok.yaml", okRunbook)
	broken := writeRunbook(t, dir, "broken.yaml", brokenRunbook)
	second := writeRunbook(t, dir, "second.yaml", `version: 1
name: second
colours: {blue: {}}
steps:
  - uses: flow.pause
    with: {duration: soon}
`)
	r := bg(t, "validate", broken, ok, second)
	r.wantCode(t, ExitInvalid)
	if !strings.Contains(r.stdout, ok+": valid") {
		t.Errorf("the valid file is not reported valid:\n%s", r.stdout)
	}
	wants := []string{
		broken + ":9:11: uses: unknown step kind \"flow.paws\"",
		broken + ":12:33: unknown input \"missing\"",
		second + ":3:10: colours: expected exactly two colours, found 1 (blue)",
		second + ":6:22: with: duration: expected a duration such as 30s or 5m, found \"soon\"",
	}
	last := -1
	for _, w := range wants {
		i := strings.Index(r.stderr, w)
		if i < 0 {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
			continue
		}
		if i < last {
			t.Errorf("%q is out of order (files in argument order, problems by position)", w)
		}
		last = i
	}
	// Every problem comes with its snippet: the line and a caret.
	if got := strings.Count(r.stderr, "^\n"); got != len(wants) {
		t.Errorf("found %d carets, want %d:\n%s", got, len(wants), r.stderr)
	}

	j := bg(t, "validate", "--output", "json", broken, second)
	j.wantCode(t, ExitInvalid)
	var rep struct {
		Valid    bool `json:"valid"`
		Problems []struct {
			File string `json:"file"`
			Pos  struct {
				Line, Col int
			} `json:"pos"`
			Message string `json:"message"`
		} `json:"problems"`
	}
	if err := json.Unmarshal([]byte(j.stdout), &rep); err != nil {
		t.Fatalf("validate --output json is not JSON: %v\n%s", err, j.stdout)
	}
	if rep.Valid || len(rep.Problems) != len(wants) {
		t.Fatalf("json report: valid=%v with %d problems, want false with %d", rep.Valid, len(rep.Problems), len(wants))
	}
	if p := rep.Problems[0]; p.File != broken || p.Pos.Line != 9 || p.Pos.Col != 11 {
		t.Errorf("first problem at %s:%d:%d, want %s:9:11", p.File, p.Pos.Line, p.Pos.Col, broken)
	}
}

func TestStepsJSON(t *testing.T) {
	r := bg(t, "steps", "--output", "json")
	r.wantCode(t, ExitOK)
	var specs []struct {
		Kind    string `json:"kind"`
		Mutates bool   `json:"mutates"`
		Params  []struct {
			Name     string `json:"name"`
			Type     string `json:"type"`
			Doc      string `json:"doc"`
			Required bool   `json:"required"`
		} `json:"params"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &specs); err != nil {
		t.Fatalf("steps --output json is not JSON: %v\n%s", err, r.stdout)
	}
	kinds := map[string]bool{}
	for i, s := range specs {
		kinds[s.Kind] = true
		if i > 0 && specs[i-1].Kind >= s.Kind {
			t.Errorf("kinds are not sorted: %s before %s", specs[i-1].Kind, s.Kind)
		}
		for _, p := range s.Params {
			if p.Doc == "" {
				t.Errorf("%s: param %s has no doc", s.Kind, p.Name)
			}
		}
		if s.Kind == "flow.pause" {
			if len(s.Params) == 0 || s.Params[0].Name != "duration" || s.Params[0].Type != "duration" || !s.Params[0].Required {
				t.Errorf("flow.pause params = %+v, want duration (duration, required) first", s.Params)
			}
		}
	}
	for _, k := range []string{"flow.pause", "flow.log", "flow.fail", "flow.assert", "host.exec", "host.http-check"} {
		if !kinds[k] {
			t.Errorf("steps --output json lacks %s", k)
		}
	}

	one := bg(t, "steps", "flow.fail", "--output", "json")
	one.wantCode(t, ExitOK)
	if err := json.Unmarshal([]byte(one.stdout), &specs); err != nil || len(specs) != 1 || specs[0].Kind != "flow.fail" {
		t.Errorf("steps flow.fail --output json = %s (%v)", one.stdout, err)
	}
	bg(t, "steps", "flow.nope").wantCode(t, ExitInvalid)
}

func TestSchemaIsJSON(t *testing.T) {
	r := bg(t, "schema")
	r.wantCode(t, ExitOK)
	var schema map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &schema); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if _, ok := schema["$schema"]; !ok {
		t.Errorf("schema has no $schema key: %v", keys(schema))
	}
	for _, k := range []string{`"flow.pause"`, `"host.exec"`, `"duration"`} {
		if !strings.Contains(r.stdout, k) {
			t.Errorf("schema does not mention %s", k)
		}
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestPlanFlowRunbook(t *testing.T) {
	dir := t.TempDir()
	rb := writeRunbook(t, dir, "ok.yaml", okRunbook)
	st := filepath.Join(dir, "state")
	r := bg(t, "plan", rb, "--set", "count=7", "--state", st)
	r.wantCode(t, ExitOK)
	for _, want := range []string{
		"runbook cli-ok: live blue → idle green becomes live",
		"PHASE", "touch", "host.exec",
		"message=hello 7 from blue to green",
		"cleanup", "message=cleaned up",
		"* changes something",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.stdout)
		}
	}
	if exists(t, filepath.Join(dir, "marker")) {
		t.Error("plan ran a step")
	}

	j := bg(t, "plan", rb, "--set", "count=7", "--state", st, "--live", "green", "--phase", "cleanup", "--output", "json")
	j.wantCode(t, ExitOK)
	var p struct {
		Live, Idle string
		Steps      []struct {
			Uses    string         `json:"uses"`
			Phase   string         `json:"phase"`
			Params  map[string]any `json:"params"`
			Mutates bool           `json:"mutates"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(j.stdout), &p); err != nil {
		t.Fatalf("plan --output json is not JSON: %v\n%s", err, j.stdout)
	}
	if p.Live != "green" || p.Idle != "blue" {
		t.Errorf("plan --live green: live %q idle %q", p.Live, p.Idle)
	}
	var cleanup int
	for _, s := range p.Steps {
		if s.Phase == "cleanup" {
			cleanup++
		}
	}
	if cleanup != 1 {
		t.Errorf("plan --phase cleanup: %d cleanup steps in %+v, want 1", cleanup, p.Steps)
	}
	bg(t, "plan", rb, "--set", "count=7", "--state", st, "--live", "red").wantCode(t, ExitInvalid)
}
