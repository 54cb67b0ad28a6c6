package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// stopRunbook makes two changes and fails when asked, keeping its journal
// (on_failure: stop), so resume, rollback and rollback --plan have
// something to work on.
const stopRunbook = `version: 1
name: cli-stop
on_failure: stop
inputs:
  fail: {type: bool, default: false}
  mode:
    type: string
    default: fast
    enum: [fast, slow]
    description: How fast.
colours:
  blue: {}
  green: {}
steps:
  - id: first
    uses: host.exec
    with: {command: [touch, "%DIR%/first"], undo: [rm, -f, "%DIR%/first"]}
  - id: second
    uses: host.exec
    with: {command: [touch, "%DIR%/second"], undo: [rm, -f, "%DIR%/second"]}
  - uses: flow.fail
    if: inputs.fail
    with: {message: "asked to fail"}
`

// oneObject decodes stdout, which must hold exactly one JSON object.
func oneObject(t *testing.T, stdout string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("stdout is not a JSON object: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON value:\n%s", stdout)
	}
	return m
}

// logLevels returns the level of each JSON log line on stderr.
func logLevels(t *testing.T, stderr string) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("stderr line is not a JSON log line: %q", l)
		}
		out = append(out, m["level"].(string))
	}
	return out
}

func TestOutputJSONResultObjects(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "state")
	ok := writeRunbook(t, dir, "ok.yaml", okRunbook)

	r := bg(t, "run", ok, "--set", "count=3", "--state", st, "--output", "json")
	r.wantCode(t, ExitOK)
	o := oneObject(t, r.stdout)
	if o["command"] != "run" || o["status"] != "succeeded" || o["live"] != "green" || o["idle"] != "blue" || o["run_id"] == "" || o["failure"] != nil || o["exit_code"] != 0.0 {
		t.Errorf("run result %v", o)
	}
	if _, isNum := o["duration_seconds"].(float64); !isNum || o["duration"] == "" {
		t.Errorf("run result has no duration: %v", o)
	}
	if !exists(t, o["report"].(string)) {
		t.Errorf("run result names a report that does not exist: %v", o["report"])
	}
	if len(logLevels(t, r.stderr)) == 0 {
		t.Error("the logs did not go to stderr")
	}

	stop := writeRunbook(t, dir, "stop.yaml", stopRunbook)
	r = bg(t, "run", stop, "--set", "fail=true", "--state", st, "-o", "json")
	r.wantCode(t, ExitFailed)
	o = oneObject(t, r.stdout)
	f, _ := o["failure"].(map[string]any)
	if o["status"] != "failed" || f == nil || f["step"] != "#2" || !strings.Contains(f["error"].(string), "asked to fail") || f["rolled_back"] != false || o["exit_code"] != 1.0 {
		t.Errorf("failed run result %v", o)
	}
	firstID := o["run_id"]

	r = bg(t, "status", stop, "--state", st, "-o", "json")
	r.wantCode(t, ExitOK)
	o = oneObject(t, r.stdout)
	if o["status"] != "failed" || o["run_id"] != firstID || o["failure"] == nil || o["lock"] != nil {
		t.Errorf("status result %v", o)
	}

	r = bg(t, "resume", stop, "--set", "fail=false", "--state", st, "-o", "json")
	r.wantCode(t, ExitOK)
	o = oneObject(t, r.stdout)
	if o["command"] != "resume" || o["status"] != "succeeded" || o["run_id"] != firstID || o["live"] != "green" {
		t.Errorf("resume result %v", o)
	}

	r = bg(t, "rollback", stop, "--state", st, "-o", "json")
	r.wantCode(t, ExitOK)
	o = oneObject(t, r.stdout)
	if o["command"] != "rollback" || o["status"] != "rolled-back" || o["live"] != "blue" || o["failure"] != nil {
		t.Errorf("rollback result %v", o)
	}

	r = bg(t, "run", filepath.Join(dir, "missing.yaml"), "-o", "json")
	r.wantCode(t, ExitInvalid)
	if o = oneObject(t, r.stdout); o["status"] != "invalid" || o["exit_code"] != 2.0 {
		t.Errorf("invalid run result %v", o)
	}

	r = bg(t, "version", "-o", "json")
	r.wantCode(t, ExitOK)
	if o = oneObject(t, r.stdout); o["version"] != version || o["go"] == "" {
		t.Errorf("version %v", o)
	}

	bg(t, "run", ok, "--set", "count=3", "-o", "yaml").wantCode(t, ExitInvalid)
	bg(t, "run", ok, "--set", "count=3", "-o", "json", "--octopus-output").wantCode(t, ExitInvalid)
}

func TestRollbackPlanChangesNothing(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "state")
	stop := writeRunbook(t, dir, "stop.yaml", stopRunbook)
	bg(t, "run", stop, "--set", "fail=true", "--state", st).wantCode(t, ExitFailed)
	records, _ := filepath.Glob(filepath.Join(st, "cli-stop-*.json")) // the application's key
	if len(records) != 1 {
		t.Fatalf("records: %v", records)
	}
	record := records[0]
	before, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}

	r := bg(t, "rollback", stop, "--state", st, "--plan")
	r.wantCode(t, ExitOK)
	if !regexp.MustCompile(`(?s)would run 2 undo\(s\), newest first.*\n2 +second +host.exec .*\n1 +first +host.exec`).MatchString(r.stdout) {
		t.Errorf("rollback --plan:\n%s", r.stdout)
	}
	r = bg(t, "rollback", stop, "--state", st, "--plan", "-o", "json")
	r.wantCode(t, ExitOK)
	o := oneObject(t, r.stdout)
	undos, _ := o["undos"].([]any)
	if len(undos) != 2 || undos[0].(map[string]any)["step"] != "second" || undos[1].(map[string]any)["step"] != "first" {
		t.Errorf("rollback --plan -o json: %v", o)
	}
	after, _ := os.ReadFile(record)
	if !bytes.Equal(before, after) || !exists(t, filepath.Join(dir, "first")) || !exists(t, filepath.Join(dir, "second")) {
		t.Fatal("rollback --plan changed the state or undid a change")
	}

	// The real rollback then does what the plan said and ends on an info
	// line, not on the stopped run's error.
	r = bg(t, "rollback", stop, "--state", st)
	r.wantCode(t, ExitOK)
	levels := logLevels(t, r.stderr)
	if levels[len(levels)-1] != "info" || strings.Contains(strings.Join(levels, " "), "error") {
		t.Errorf("rollback log levels %v:\n%s", levels, r.stderr)
	}
	if exists(t, filepath.Join(dir, "first")) || exists(t, filepath.Join(dir, "second")) {
		t.Error("rollback left a change in place")
	}
	r = bg(t, "rollback", stop, "--state", st, "--plan")
	r.wantCode(t, ExitOK)
	if !strings.Contains(r.stdout, "nothing to undo") {
		t.Errorf("rollback --plan after the rollback: %s", r.stdout)
	}
}

// complete runs cobra's completion entry point the way a shell does.
func complete(t *testing.T, args ...string) []string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := Main(append([]string{"__complete"}, args...), nil, &out, &errb); code != 0 {
		t.Fatalf("__complete %q: exit %d: %s", args, code, errb.String())
	}
	var vals []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if !strings.HasPrefix(l, ":") {
			v, _, _ := strings.Cut(l, "\t")
			vals = append(vals, v)
		}
	}
	return vals
}

func kindsWithPrefix(p string) string {
	var out []string
	for _, k := range steps.Default.Kinds() {
		if strings.HasPrefix(k, p) {
			out = append(out, k)
		}
	}
	return strings.Join(out, " ")
}

func TestCompletion(t *testing.T) {
	if got := kindsWithPrefix("aws.e"); !strings.Contains(got, "aws.elbv2.set-weights") || strings.Contains(got, "route53") {
		t.Fatalf("kinds starting aws.e: %s", got)
	}
	dir := t.TempDir()
	stop := writeRunbook(t, dir, "stop.yaml", stopRunbook)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"steps", "aws.e"}, kindsWithPrefix("aws.e")},
		{[]string{"step", "run", "host.sym"}, kindsWithPrefix("host.sym")},
		{[]string{"run", stop, "--set", ""}, "fail= mode="},
		{[]string{"plan", stop, "--set", "mo"}, "fail= mode="},
		{[]string{"run", stop, "--set", "mode="}, "mode=fast mode=slow"},
		{[]string{"run", stop, "--set", "fail="}, "fail=true fail=false"},
		{[]string{"run", stop, "--progress", ""}, "auto always never"},
		{[]string{"run", stop, "--recover", ""}, "fail rollback resume"},
		{[]string{"resume", stop, "--output", ""}, "text json"},
		{[]string{"status", stop, "-o", ""}, "text json"},
		{[]string{"run", stop, "--log-format", ""}, "auto console json"},
	} {
		if got := strings.Join(complete(t, tc.args...), " "); got != tc.want {
			t.Errorf("complete %q = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestUnknownKindSuggests(t *testing.T) {
	for _, args := range [][]string{{"steps", "aws.elbv2.set-weight"}, {"step", "run", "aws.elbv2.set-weight"}} {
		r := bg(t, args...)
		r.wantCode(t, ExitInvalid)
		if !strings.Contains(r.stderr, `unknown step kind "aws.elbv2.set-weight", did you mean "aws.elbv2.set-weights"?`) {
			t.Errorf("%q: stderr %q", args, r.stderr)
		}
	}
	r := bg(t, "steps", "zzz.nothing.alike")
	r.wantCode(t, ExitInvalid)
	if strings.Contains(r.stderr, "did you mean") {
		t.Errorf("suggested something for a name like no kind: %q", r.stderr)
	}
}

func TestDiagnosticPositions(t *testing.T) {
	dir := t.TempDir()
	rb := writeRunbook(t, dir, "ok.yaml", okRunbook)
	madeUp := regexp.MustCompile(`:(0:0|1:1):`)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", rb, "--set", "count=1", "--phase", "nope"}, rb + `: unknown phase "nope"`},
		{[]string{"run", rb, "--set", "count=1", "--set", "nope=1"}, rb + `: unknown input "nope"`},
		{[]string{"step", "run", "flow.pause", "--param", "duration=soon"}, `flow.pause: param "duration"`},
		// A missing or mistyped input points at its declaration (line 5
		// of okRunbook) and quotes it.
		{[]string{"run", rb}, rb + ":5:3: missing required input \"count\""},
		{[]string{"run", rb, "--set", "count=many"}, rb + ":5:3: input \"count\""},
	} {
		r := bg(t, tc.args...)
		r.wantCode(t, ExitInvalid)
		if !strings.Contains(r.stderr, tc.want) || madeUp.MatchString(r.stderr) {
			t.Errorf("%q: stderr %q, want %q and no made-up position", tc.args, r.stderr, tc.want)
		}
	}
	if r := bg(t, "run", rb); !strings.Contains(r.stderr, "    5 |   count: {type: int}") {
		t.Errorf("missing input without the declaration's snippet: %q", r.stderr)
	}
}

func TestStepErrorNamesKindOnce(t *testing.T) {
	dir := t.TempDir()
	r := bg(t, "step", "run", "host.symlink.switch", "--param", "link="+filepath.Join(dir, "nolink"), "--param", "target="+dir)
	r.wantCode(t, ExitFailed)
	if n := strings.Count(r.stderr, "host.symlink.switch:"); n != 1 {
		t.Errorf("the kind appears %d times in %q", n, r.stderr)
	}
	// A step whose errors do not name their kind gets it once.
	r = bg(t, "step", "run", "flow.fail", "--param", "message=no")
	r.wantCode(t, ExitFailed)
	if n := strings.Count(r.stderr, "flow.fail:"); n != 1 {
		t.Errorf("the kind appears %d times in %q", n, r.stderr)
	}
}

func TestValidateJSONPrintsJSONOnly(t *testing.T) {
	dir := t.TempDir()
	broken := writeRunbook(t, dir, "broken.yaml", brokenRunbook)
	r := bg(t, "validate", "-o", "json", broken)
	r.wantCode(t, ExitInvalid)
	o := oneObject(t, r.stdout)
	if o["valid"] != false || len(o["problems"].([]any)) < 2 {
		t.Errorf("validate -o json: %v", o)
	}
	if r.stderr != "" {
		t.Errorf("validate -o json wrote to stderr: %q", r.stderr)
	}
}
