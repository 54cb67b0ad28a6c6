package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus/servicemsg"
	"github.com/bluegreen-deploy/bluegreen/internal/pgtest"
)

// injectedSet and injectedArtifact are service messages an attacker (or an
// unlucky command) prints: they would set BlueGreen.Live to "evil" and
// attach /etc/passwd.
const (
	injectedSet      = "##octopus[setVariable name='Qmx1ZUdyZWVuLkxpdmU=' value='ZXZpbA==']"
	injectedArtifact = "##octopus[createArtifact path='L2V0Yy9wYXNzd2Q=' name='cGFzc3dk' length='MQ==']"
)

// injectionRunbook echoes the injected messages from every place outside
// text reaches the output: a flow.log message at info and warn level, a
// command's stdout (which also lands in the "done ... outputs=" log line),
// a half marker split over two lines, an unterminated message that would
// swallow the next line, and the failure's message.
const injectionRunbook = `version: 1
name: inject
inputs:
  fail: {type: bool, default: false}
colours: {blue: {}, green: {}}
steps:
  - uses: flow.log
    with: {message: "` + injectedSet + `"}
  - uses: flow.log
    with: {message: "` + injectedArtifact + `", level: warn}
  - id: cmd
    uses: host.exec
    with:
      command: [printf, "%s\n%s\n##oct\nopus[setVariable name='SW5qZWN0ZWQ=' value='eA==']\nopen ##octopus[setVariable \n", "` + injectedSet + `", "` + injectedArtifact + `"]
  - uses: flow.fail
    if: inputs.fail
    with: {message: "` + injectedSet + `"}
`

// TestOctopusOutputObeysOnlyOurMessages is the reproduction: a
// runbook whose flow.log messages and host.exec output hold setVariable and
// createArtifact messages, run with --octopus-output and parsed the way
// Calamari parses stdout, yields no message but bluegreen's own.
func TestOctopusOutputObeysOnlyOurMessages(t *testing.T) {
	dir := t.TempDir()
	rb := filepath.Join(dir, "inject.yaml")
	if err := os.WriteFile(rb, []byte(injectionRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BLUEGREEN_REPORT_DIR", dir)
	for _, fail := range []string{"false", "true"} {
		var out, errb bytes.Buffer
		code := Main([]string{"run", rb, "--octopus-output", "--state", filepath.Join(dir, "st-"+fail), "--set", "fail=" + fail}, nil, &out, &errb)
		if (fail == "false") != (code == 0) {
			t.Fatalf("fail=%s: exit %d\n%s%s", fail, code, out.String(), errb.String())
		}
		if !strings.Contains(out.String(), "# #octopus[setVariable") {
			t.Fatalf("fail=%s: the logged text is missing (it should stay readable):\n%s", fail, out.String())
		}
		assertOnlyOurs(t, out.String(), dir)
	}

	// Single-step mode: the step's stdout is an output variable (base64,
	// harmless) and a log line.
	var out, errb bytes.Buffer
	code := Main([]string{"step", "run", "host.exec", "--param", "command=[printf, \"" + injectedSet + "\\n" + injectedArtifact + "\"]", "--octopus-output", "--log-level", "debug"}, nil, &out, &errb)
	if code != 0 {
		t.Fatalf("step run: exit %d\n%s%s", code, out.String(), errb.String())
	}
	assertOnlyOurs(t, out.String(), dir)
	vars, _ := servicemsg.Variables(mustDecode(t, bytes.NewBufferString(out.String())))
	if vars["stdout"] != injectedSet+"\n"+injectedArtifact {
		t.Errorf("step run: the command's output must arrive intact as the stdout variable, got %q", vars["stdout"])
	}
	out.Reset()
	code = Main([]string{"step", "run", "flow.fail", "--param", "message=" + injectedSet, "--octopus-output"}, nil, &out, &errb)
	if code != 1 {
		t.Fatalf("step run flow.fail: exit %d", code)
	}
	assertOnlyOurs(t, out.String(), dir)
}

// assertOnlyOurs parses stdout as Calamari does and fails on any message
// bluegreen did not mean: a variable outside BlueGreen.*, a colour other
// than blue or green, an artifact other than the run report.
func assertOnlyOurs(t *testing.T, stdout, reportDir string) {
	t.Helper()
	msgs, err := servicemsg.Decode(strings.NewReader(stdout))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		switch m.Name {
		case "setVariable":
			name, value := m.Attrs["name"], m.Attrs["value"]
			switch {
			case name == servicemsg.VarLive || name == servicemsg.VarIdle:
				if value != "blue" && value != "green" {
					t.Errorf("%s set to %q", name, value)
				}
			case name == servicemsg.VarRunID, strings.HasPrefix(name, "BlueGreen.Steps."),
				// step run names outputs by themselves
				name == "stdout", name == "stderr", name == "exit_code":
			default:
				t.Errorf("obeyed an injected variable: %v", m)
			}
		case "createArtifact":
			if filepath.Dir(m.Attrs["path"]) != reportDir || !strings.HasPrefix(m.Attrs["name"], "bluegreen-report-") {
				t.Errorf("obeyed an injected artifact: %v", m)
			}
		case "resultMessage", "stdout-warning", "stdout-default":
		default:
			t.Errorf("obeyed an injected message: %v", m)
		}
	}
}

// TestRunReportGoesToTheWorkFolder: without BLUEGREEN_REPORT_DIR the JSON
// run report is written to the working folder (inside Octopus the step's
// work folder, which Tentacle deletes after collecting artifacts), not to
// /tmp where every run's report would stay behind.
func TestRunReportGoesToTheWorkFolder(t *testing.T) {
	dir := t.TempDir()
	rb := filepath.Join(dir, "octo.yaml")
	if err := os.WriteFile(rb, []byte(octoRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	t.Chdir(work)
	t.Setenv("BLUEGREEN_REPORT_DIR", "")
	var out, errb bytes.Buffer
	if code := Main([]string{"run", rb, "--octopus-output", "--state", filepath.Join(dir, "st")}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	var found bool
	for _, m := range mustDecode(t, &out) {
		if m.Name == "createArtifact" && filepath.Ext(m.Attrs["path"]) == ".json" {
			found = true
			if filepath.Dir(m.Attrs["path"]) != work {
				t.Errorf("run report at %s, want it in the work folder %s", m.Attrs["path"], work)
			}
		}
	}
	if !found {
		t.Error("no JSON run report was attached")
	}
}

// TestOctopusOutputObeysOnlyOurMessagesFromSQL: rows a SQL query returns
// (outside text from a database) reach the "done ... outputs=" log line
// and the step output variables; neither can be obeyed as a service
// message, in a runbook or as a single step.
func TestOctopusOutputObeysOnlyOurMessagesFromSQL(t *testing.T) {
	pg := pgtest.Start(t)
	dir := t.TempDir()
	t.Setenv("BLUEGREEN_REPORT_DIR", dir)
	t.Setenv("BG_TEST_DSN", pg.DSN("blue"))
	// Dollar quoting keeps the messages' quotes as they are; chr(10)
	// splits a marker over two lines.
	query := "SELECT $q$" + injectedSet + "$q$ AS a, $q$##oct$q$ || chr(10) || $q$opus[" + strings.TrimPrefix(injectedArtifact, "##octopus[") + "$q$ AS b"
	rb := filepath.Join(dir, "sql.yaml")
	body := "version: 1\nname: sql-inject\ninputs:\n  dsn: {type: string, sensitive: true}\ncolours: {blue: {}, green: {}}\nsteps:\n" +
		"  - id: q\n    uses: sql.query\n    with:\n      dsn: ${{ inputs.dsn }}\n      query: \"" + strings.ReplaceAll(strings.ReplaceAll(query, `\`, `\\`), `"`, `\"`) + "\"\n"
	if err := os.WriteFile(rb, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := Main([]string{"run", rb, "--octopus-output", "--state", filepath.Join(dir, "st"), "--set", "dsn=" + pg.DSN("blue")}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	assertOnlyOurs(t, out.String(), dir)
	if !strings.Contains(out.String(), "# #octopus[setVariable") {
		t.Fatalf("the query's output is not in the log:\n%s", out.String())
	}

	out.Reset()
	if code := Main([]string{"step", "run", "sql.query", "--param-env", "dsn=BG_TEST_DSN", "--param", "query=" + query, "--octopus-output"}, nil, &out, &errb); code != 0 {
		t.Fatalf("step run: exit %d\n%s%s", code, out.String(), errb.String())
	}
	msgs := mustDecode(t, bytes.NewBufferString(out.String()))
	for _, m := range msgs {
		if m.Name != "setVariable" || !strings.Contains("rows row count columns", m.Attrs["name"]) {
			t.Errorf("step run sql.query: obeyed %v", m)
		}
	}
	if len(msgs) != 4 {
		t.Errorf("step run sql.query: %d messages, want the 4 outputs: %v", len(msgs), msgs)
	}
}

// TestOctopusOutputStepSharesStdout: the octopus.output step's messages
// go through the same stdout as everything else in Octopus mode (here the
// test's buffer, not the process's own stdout), after the text before
// them.
func TestOctopusOutputStepSharesStdout(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("BLUEGREEN_REPORT_DIR", dir)
	rb := filepath.Join(dir, "out.yaml")
	body := "version: 1\nname: out\ncolours: {blue: {}, green: {}}\nsteps:\n" +
		"  - uses: host.exec\n    with: {command: [printf, \"half marker ##oct\"]}\n" +
		"  - uses: octopus.output\n    with: {values: {Custom.Colour: green}}\n"
	if err := os.WriteFile(rb, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := Main([]string{"run", rb, "--octopus-output", "--state", filepath.Join(dir, "st")}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	vars, _ := servicemsg.Variables(mustDecode(t, bytes.NewBufferString(out.String())))
	if vars["Custom.Colour"] != "green" {
		t.Errorf("octopus.output's variable is not in the step's stdout: %v", vars)
	}
}
