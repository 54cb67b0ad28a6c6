package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// journalRunbook changes something with a real host.exec whose undo argv
// holds the sensitive input (whole, inside a longer argument and computed
// from it), then stops or rolls back on a failure.
const journalRunbook = `version: 1
name: secret-undo
inputs:
  pw: {type: string, sensitive: true}
  dir: {type: string}
colours: {blue: {}, green: {}}
steps:
  - uses: host.exec
    with:
      command: [touch, "${{ inputs.dir }}/applied"]
      undo: [sh, -c, 'printf "%s|%s|%s" "$1" "$2" "$3" > "$4"', sh, "${{ inputs.pw }}", "--password=${{ inputs.pw }}", "${{ upper(inputs.pw) }}", "${{ inputs.dir }}/undone"]
  - uses: flow.fail
    with: {message: "the release is not wanted"}
on_failure: %MODE%
`

// TestRollbackResolvesSecretsInUndoLists: a host.exec undo argv holding a
// sensitive input inside its list was journaled as *** and rollback ran
// *** and reported "rolled back". The journal now holds references
// (${{ inputs.pw }}, --password=${{ inputs.pw }}, ${{ upper(inputs.pw) }})
// and rollback runs the real values; nothing in the state file is the
// secret or a value computed from it.
func TestRollbackResolvesSecretsInUndoLists(t *testing.T) {
	const pw = "hunter2-s3cret"
	want := pw + "|--password=" + pw + "|" + strings.ToUpper(pw)

	t.Run("rollback on failure", func(t *testing.T) {
		dir := t.TempDir()
		rb := writeRunbook(t, dir, "rb.yaml", strings.ReplaceAll(journalRunbook, "%MODE%", "rollback"))
		st := filepath.Join(dir, "state")
		r := bg(t, "run", rb, "--set", "pw="+pw, "--set", "dir="+dir, "--state", st, "--log-format", "json")
		r.wantCode(t, ExitFailed)
		assertUndone(t, dir, want)
		assertNotIn(t, "output", r.stdout+r.stderr, pw, strings.ToUpper(pw))
		assertStateClean(t, st, pw)
	})

	t.Run("rollback command after a stop", func(t *testing.T) {
		dir := t.TempDir()
		rb := writeRunbook(t, dir, "rb.yaml", strings.ReplaceAll(journalRunbook, "%MODE%", "stop"))
		st := filepath.Join(dir, "state")
		bg(t, "run", rb, "--set", "pw="+pw, "--set", "dir="+dir, "--state", st).wantCode(t, ExitFailed)
		assertStateClean(t, st, pw)
		// The record is the application's: secret-undo-<digest of the colours>.
		files, _ := filepath.Glob(filepath.Join(st, "secret-undo-*.json"))
		if len(files) != 1 {
			t.Fatalf("records: %v", files)
		}
		b, _ := os.ReadFile(files[0])
		for _, ref := range []string{`${{ inputs.pw }}`, `--password=${{ inputs.pw }}`, `${{ upper(inputs.pw) }}`} {
			if !strings.Contains(string(b), ref) {
				t.Errorf("the journal lacks the reference %s:\n%s", ref, b)
			}
		}
		// Without the secret, rollback refuses that undo: it never runs
		// a mask.
		r := bg(t, "rollback", rb, "--state", st)
		r.wantCode(t, ExitFailed)
		if !strings.Contains(r.stderr, `needs the sensitive input "pw"`) {
			t.Errorf("rollback without the secret does not ask for it:\n%s", r.stderr)
		}
		if exists(t, filepath.Join(dir, "undone")) {
			t.Fatal("the undo ran without the secret")
		}
		r = bg(t, "rollback", rb, "--set", "pw="+pw, "--state", st, "--log-format", "json")
		r.wantCode(t, ExitOK)
		assertUndone(t, dir, want)
		assertNotIn(t, "output", r.stdout+r.stderr, pw, strings.ToUpper(pw))
		assertStateClean(t, st, pw)
	})
}

func assertUndone(t *testing.T, dir, want string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "undone"))
	if err != nil {
		t.Fatalf("the undo did not run: %v", err)
	}
	if string(b) != want {
		t.Fatalf("the undo ran with %q, want %q", b, want)
	}
}

func assertNotIn(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%s holds the secret %q:\n%s", what, s, text)
		}
	}
}

func assertStateClean(t *testing.T, dir, pw string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) == 0 {
		t.Fatal("no state written")
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		assertNotIn(t, f, string(b), pw, strings.ToUpper(pw))
	}
}
