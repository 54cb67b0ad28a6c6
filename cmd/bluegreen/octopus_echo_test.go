package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/octopustest"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

const echoRunbook = `version: 1
name: octo-echo
colours: {blue: {}, green: {}}
steps:
  - id: live
    uses: octopus.variables.get
    with: {project: Web, name: BlueGreen.Live}
  - uses: octopus.variables.get
    with: {project: Web, name: BlueGreen.Live, space: "${{ steps.live.found ? 'Other' : 'Default' }}"}
`

// TestOctopusKeyEchoedByServerIsScrubbed: a server whose 500 page echoes
// the request headers put the API key in stderr, in --octopus-output, in
// the report artifact and in the state file's error field. The key
// appears nowhere now; the failure itself is still reported.
func TestOctopusKeyEchoedByServerIsScrubbed(t *testing.T) {
	srv := octopustest.New(t)
	srv.AddProject(octopustest.DefaultSpaceID, "Web")
	// A connection's own requests report the body of an error page. The
	// first connection (preflight's, which checks that the server answers)
	// is let through: a server that fails it stops the run before any
	// state is written. The steps share it; the second step names a space
	// known only when it runs (from the first step's output), so it makes
	// a connection of its own then, which fails.
	srv.Inject(octopustest.Fault{Path: `^/api/spaces/all$`, Times: 1})
	srv.Inject(octopustest.Fault{Path: `^/api/spaces/all$`, Status: 500, EchoHeaders: true})
	t.Setenv(octopus.EnvURL, srv.URL)
	t.Setenv(octopus.EnvAPIKey, srv.APIKey)
	t.Setenv(octopus.EnvSpace, "")
	for _, mode := range [][]string{{"--log-format", "json"}, {"--octopus-output"}} {
		dir := t.TempDir()
		t.Setenv("BLUEGREEN_REPORT_DIR", dir)
		rb := filepath.Join(dir, "rb.yaml")
		if err := os.WriteFile(rb, []byte(echoRunbook), 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		code := Main(append([]string{"run", rb, "--state", filepath.Join(dir, "st")}, mode...), nil, &out, &errb)
		if code != ExitFailed {
			t.Fatalf("%v: exit %d, want %d\n%s%s", mode, code, ExitFailed, out.String(), errb.String())
		}
		all := out.String() + errb.String()
		if !strings.Contains(all, "500") {
			t.Errorf("%v: the server's failure is not reported:\n%s", mode, all)
		}
		texts := map[string]string{"output": all}
		_ = filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				b, _ := os.ReadFile(path)
				texts[path] = string(b)
			}
			return nil
		})
		if len(texts) < 3 {
			t.Fatalf("%v: expected the state and a report beside the output, found %d files", mode, len(texts)-1)
		}
		for what, text := range texts {
			if strings.Contains(text, srv.APIKey) {
				t.Errorf("%v: %s holds the API key:\n%s", mode, what, text)
			}
		}
	}
}

// TestFinalErrorMasksCredentials: the last line the CLI prints (an error
// that may quote a server's answer) passes through the same filter as the
// logs, so a registered credential never reaches stderr.
func TestFinalErrorMasksCredentials(t *testing.T) {
	const cred = "final-error-credential-4c3b"
	steps.RegisterCredential(cred)
	var out, errb bytes.Buffer
	code := Main([]string{"step", "run", "flow.fail", "--param", "message=server said: token " + cred}, nil, &out, &errb)
	if code == 0 {
		t.Fatalf("exit 0, want a failure")
	}
	if strings.Contains(out.String()+errb.String(), cred) || !strings.Contains(errb.String(), "server said: token ***") {
		t.Fatalf("stdout %q\nstderr %q", out.String(), errb.String())
	}
}
