package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// fenceRe finds the fenced code blocks of a Markdown file with their info
// string ("yaml runbook run", "sh cli").
var fenceRe = regexp.MustCompile("(?ms)^```([^\\n]*)\\n(.*?)^```\\s*$")

// TestRunbooksGuideExamples extracts every example of docs/runbooks.md:
// each `yaml runbook` block must load and validate against the step
// registry (those tagged `run` must also run), and each `sh cli` line must
// name a command whose flags and arguments the CLI accepts, about a
// runbook the guide shows. An untagged yaml or sh block fails the test, so
// no example escapes it.
func TestRunbooksGuideExamples(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "docs", "runbooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	names := map[string]bool{}
	var runbooks, commands int
	var clis []string
	for _, m := range fenceRe.FindAllStringSubmatch(string(src), -1) {
		info, body := strings.Fields(m[1]), m[2]
		if len(info) == 0 {
			t.Errorf("a code block without a language:\n%s", body)
			continue
		}
		switch {
		case info[0] == "yaml" && len(info) > 1 && info[1] == "runbook":
			runbooks++
			var name string
			if mm := regexp.MustCompile(`(?m)^name: (\S+)$`).FindStringSubmatch(body); mm != nil {
				name = mm[1]
			}
			if name == "" || names[name] {
				t.Errorf("runbook example without a name of its own (%q):\n%s", name, body)
				continue
			}
			names[name] = true
			path := filepath.Join(dir, name+".yaml")
			if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := engine.Load(path, steps.Default); err != nil {
				var inv *engine.InvalidError
				if ok := asInvalid(err, &inv); ok {
					t.Errorf("example %s is invalid:\n%s", name, inv.Format())
				} else {
					t.Errorf("example %s: %v", name, err)
				}
				continue
			}
			if len(info) > 2 && info[2] == "run" {
				r := bg(t, "run", path, "--state", filepath.Join(dir, "state"))
				if r.code != ExitOK {
					t.Errorf("example %s does not run: exit %d\n%s", name, r.code, r.stderr)
				}
			}
		case info[0] == "sh" && len(info) > 1 && info[1] == "cli":
			clis = append(clis, body)
		case info[0] == "yaml" || info[0] == "sh" || info[0] == "yml" || info[0] == "bash":
			t.Errorf("example block %q is not tagged `yaml runbook` or `sh cli`, so nothing would test it:\n%s", m[1], body)
		}
	}
	for _, body := range clis {
		for _, line := range strings.Split(body, "\n") {
			if i := strings.Index(line, " #"); i >= 0 {
				line = line[:i]
			}
			args := shellWords(t, strings.TrimSpace(line))
			if len(args) == 0 {
				continue
			}
			commands++
			if args[0] != "bluegreen" {
				t.Errorf("%q: not a bluegreen command", line)
				continue
			}
			checkCommandLine(t, line, args[1:], names)
		}
	}
	if runbooks < 10 || commands < 10 {
		t.Errorf("found %d runbook examples and %d command lines; the guide has more (is the fence syntax broken?)", runbooks, commands)
	}
}

func asInvalid(err error, inv **engine.InvalidError) bool {
	e, ok := err.(*engine.InvalidError)
	*inv = e
	return ok
}

// checkCommandLine parses a command line the way the CLI would, without
// running it: the command must exist, its flags parse and its arguments
// fit, and a runbook it names must be one of the guide's examples.
func checkCommandLine(t *testing.T, line string, args []string, names map[string]bool) {
	t.Helper()
	a := &app{}
	root := a.rootCmd()
	cmd, rest, err := root.Find(args)
	if err != nil || cmd == root {
		t.Errorf("%q: no such command (%v)", line, err)
		return
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Errorf("%q: %v", line, err)
		return
	}
	pos := cmd.Flags().Args()
	if cmd.Args != nil {
		if err := cmd.Args(cmd, pos); err != nil {
			t.Errorf("%q: %v", line, err)
		}
	}
	for _, p := range pos {
		if strings.HasSuffix(p, ".yaml") && !names[strings.TrimSuffix(p, ".yaml")] {
			t.Errorf("%q: names %s, which is not one of the guide's runbooks", line, p)
		}
	}
}

// shellWords splits a command line as sh would for the simple quoting the
// guide uses (single and double quotes, no escapes).
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		t.Fatalf("unbalanced quote in %q", s)
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}
