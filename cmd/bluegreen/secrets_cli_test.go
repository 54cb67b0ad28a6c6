package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecretsStayOutOfArguments checks the two ways the Octopus templates
// hand secrets over without putting them in argv: --set-file for runbook
// inputs and --param-env for sensitive step params.
func TestSecretsStayOutOfArguments(t *testing.T) {
	dir := t.TempDir()
	rb := filepath.Join(dir, "rb.yaml")
	if err := os.WriteFile(rb, []byte(`version: 1
name: secret-file
inputs:
  token: {type: string, sensitive: true}
  count: {type: int}
colours: {blue: {}, green: {}}
steps:
  - uses: flow.assert
    with: {condition: "${{ inputs.token == 'tok-12345' && inputs.count == 3 }}", message: "inputs not read"}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	inputs := filepath.Join(dir, "inputs")
	if err := os.WriteFile(inputs, []byte("# from Octopus\r\ntoken=tok-12345\r\n\r\ncount=3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := Main([]string{"run", rb, "--set-file", inputs, "--state", filepath.Join(dir, "st"), "--log-format", "json"}, nil, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	if strings.Contains(out.String()+errb.String(), "tok-12345") {
		t.Fatal("the sensitive input reached the output")
	}

	t.Setenv("BG_TEST_MSG", "from-env")
	out.Reset()
	errb.Reset()
	code = Main([]string{"step", "run", "flow.log", "--param-env", "message=BG_TEST_MSG"}, nil, &out, &errb)
	if code != 0 || !strings.Contains(errb.String(), "from-env") {
		t.Fatalf("exit %d, log %q", code, errb.String())
	}
	code = Main([]string{"step", "run", "flow.log", "--param-env", "message=BG_TEST_UNSET_VAR"}, nil, &out, &errb)
	if code != 2 {
		t.Fatalf("unset env var: exit %d, want 2", code)
	}
}
