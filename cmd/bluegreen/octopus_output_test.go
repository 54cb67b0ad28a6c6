package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus/servicemsg"
)

const octoRunbook = `version: 1
name: octo
inputs:
  fail: {type: bool, default: false}
  token: {type: string, default: "", sensitive: true}
colours: {blue: {}, green: {}}
steps:
  - id: say
    uses: host.exec
    with: {command: [echo, "hello ${{ inputs.token }}"]}
  - uses: flow.fail
    if: inputs.fail
    with: {message: "stopped on purpose"}
`

// TestOctopusOutputDecodes runs with --octopus-output and decodes stdout the
// way Octopus does: the colours and the run id, each step output under
// BlueGreen.Steps.<id>.<name>, the run report as an artifact, and on
// failure the reason as the result message. Log lines share stdout (Octopus
// shows stderr as errors) and must not break the messages.
func TestOctopusOutputDecodes(t *testing.T) {
	dir := t.TempDir()
	rb := filepath.Join(dir, "octo.yaml")
	if err := os.WriteFile(rb, []byte(octoRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BLUEGREEN_REPORT_DIR", dir)
	var out, errb bytes.Buffer
	code := Main([]string{"run", rb, "--octopus-output", "--state", filepath.Join(dir, "st"), "--set", "token=tok-SECRET-42"}, nil, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	if errb.Len() != 0 {
		t.Errorf("with --octopus-output nothing goes to stderr, got %q", errb.String())
	}
	if strings.Contains(out.String(), "tok-SECRET-42") {
		t.Fatal("the sensitive input reached stdout")
	}
	msgs, err := servicemsg.Decode(&out)
	if err != nil {
		t.Fatal(err)
	}
	vars, _ := servicemsg.Variables(msgs)
	if vars[servicemsg.VarLive] != "green" || vars[servicemsg.VarIdle] != "blue" || vars[servicemsg.VarRunID] == "" {
		t.Errorf("colour variables = %v", vars)
	}
	if got := vars[servicemsg.StepOutputVar("say", "stdout")]; got != "hello ***\n" {
		t.Errorf("step output = %q, want the output with the secret masked", got)
	}
	var artifact string
	for _, m := range msgs {
		if m.Name == "createArtifact" {
			artifact = m.Attrs["path"]
		}
	}
	report, err := os.ReadFile(artifact)
	if err != nil {
		t.Fatalf("run report artifact %q: %v", artifact, err)
	}
	var entries []map[string]any
	if err := json.Unmarshal(report, &entries); err != nil || len(entries) < 4 {
		t.Fatalf("run report: %v (%d entries)", err, len(entries))
	}
	if strings.Contains(string(report), "tok-SECRET-42") {
		t.Fatal("the sensitive input reached the run report")
	}

	out.Reset()
	code = Main([]string{"run", rb, "--octopus-output", "--state", filepath.Join(dir, "st"), "--set", "fail=true"}, nil, &out, &errb)
	if code != 1 {
		t.Fatalf("failing run: exit %d", code)
	}
	msgs, _ = servicemsg.Decode(&out)
	var result string
	for _, m := range msgs {
		if m.Name == "resultMessage" {
			result = m.Attrs["message"]
		}
	}
	if !strings.Contains(result, "stopped on purpose") {
		t.Errorf("result message = %q", result)
	}

	out.Reset()
	code = Main([]string{"step", "run", "host.exec", "--param", "command=[echo, one]", "--octopus-output"}, nil, &out, &errb)
	vars, _ = servicemsg.Variables(mustDecode(t, &out))
	if code != 0 || vars["stdout"] != "one\n" || vars["exit_code"] != "0" {
		t.Errorf("step run: exit %d, variables %v", code, vars)
	}
}

func mustDecode(t *testing.T, b *bytes.Buffer) []servicemsg.Message {
	t.Helper()
	m, err := servicemsg.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
