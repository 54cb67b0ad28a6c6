package engine

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// addFileSeeds adds every runbook under the given globs to the corpus, so
// the fuzzer starts from realistic documents, valid and broken.
func addFileSeeds(f *testing.F, globs ...string) {
	f.Helper()
	n := 0
	for _, g := range globs {
		files, err := filepath.Glob(g)
		if err != nil {
			f.Fatal(err)
		}
		for _, path := range files {
			b, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
			n++
		}
	}
	if n == 0 {
		f.Fatalf("no seed files match %v", globs)
	}
}

// hangLimit is how long one fuzz input may take before the watchdog
// crashes the worker, which makes the fuzzer save the input: without it a
// hang only shows as a fuzzer that stops counting executions.
const hangLimit = 10 * time.Second

// watchdog panics (in its own goroutine, so nothing can recover it) when
// the input takes longer than hangLimit. It is armed only while fuzzing;
// plain `go test` runs of the seeds are never timed.
func watchdog(input []byte) (stop func()) {
	if fl := flag.Lookup("test.fuzz"); fl == nil || fl.Value.String() == "" {
		return func() {}
	}
	t := time.AfterFunc(hangLimit, func() {
		panic(fmt.Sprintf("input took longer than %s: %q", hangLimit, input))
	})
	return func() { t.Stop() }
}

// FuzzParse feeds arbitrary bytes to Parse. Parse must never crash, and
// must not need its safety net either: its recover turns a panic into an
// "internal error" diagnostic so that users never see a stack trace, but
// the fuzzer treats that diagnostic as the bug it stands for. Every report
// must name the file with a real position, and parsing the same bytes twice
// must report the same thing.
//
// go test ./engine -run '^$' -fuzz '^FuzzParse$' -fuzztime 60s
func FuzzParse(f *testing.F) {
	addFileSeeds(f, "testdata/*.yaml", "testdata/broken/*.yaml", "../../runbooks/*.yaml")
	reg := testRegistry(newWorld())
	f.Fuzz(func(t *testing.T, src []byte) {
		defer watchdog(src)()
		rb, err := Parse("fuzz.yaml", src, reg)
		if err == nil {
			if rb == nil {
				t.Fatal("Parse returned neither a runbook nor an error")
			}
			return
		}
		if rb != nil {
			t.Fatal("Parse returned a runbook along with an error")
		}
		var inv *InvalidError
		if !errors.As(err, &inv) {
			t.Fatalf("error is %T, want *InvalidError: %v", err, err)
		}
		if len(inv.Diags) == 0 {
			t.Fatal("InvalidError without diagnostics")
		}
		lines := strings.Split(strings.ReplaceAll(strings.ReplaceAll(string(src), "\r\n", "\n"), "\r", "\n"), "\n") // YAML's line breaks
		for _, d := range inv.Diags {
			if strings.Contains(d.Message, "internal error") {
				t.Fatalf("Parse panicked: %s", d.Message)
			}
			if d.File != "fuzz.yaml" || d.Pos.Line < 1 || d.Pos.Col < 1 {
				t.Fatalf("diagnostic without a file position: %q at %+v", d.Error(), d.Pos)
			}
			// A caret past the end of its line means a position was
			// computed wrongly (the snippet would hide it by clamping).
			if d.Pos.Line <= len(lines) && utf8.ValidString(lines[d.Pos.Line-1]) {
				if n := utf8.RuneCountInString(lines[d.Pos.Line-1]); d.Pos.Col > n+1 {
					t.Fatalf("diagnostic %q at column %d of a %d-character line %q", d.Error(), d.Pos.Col, n, lines[d.Pos.Line-1])
				}
			}
		}
		_, again := Parse("fuzz.yaml", src, reg)
		if again == nil || again.(*InvalidError).Format() != inv.Format() {
			t.Fatalf("two parses of the same input disagree:\n%s\n---\n%v", inv.Format(), again)
		}
	})
}

// interpBase declares the inputs, colours and steps an interpolated
// template can refer to in FuzzInterpolate.
const interpBase = `version: 1
name: fuzz
inputs:
  zone: {type: string, default: Z1}
  weights: {type: list, default: [10, 50, 100]}
  bake: {type: duration, default: 30s}
  limit: {type: number, default: 5}
  count: {type: int, default: 3}
  enabled: {type: bool, default: true}
  tags: {type: map, default: {team: web}}
colours:
  blue: {asg: web-blue, port: 8081}
  green: {asg: web-green, port: 8082}
steps:
  - id: check
    uses: test.health
    with: {group: web-blue}
`

// FuzzInterpolate sends arbitrary text through the template path a `with:`
// value takes: scanTemplate, compiling each ${{ }} against a typed scope,
// mapping error offsets to file positions, and evaluating the result with
// typical values. None of it may panic, and every reported position must
// lie on the template's line.
//
// go test ./engine -run '^$' -fuzz '^FuzzInterpolate$' -fuzztime 60s
func FuzzInterpolate(f *testing.F) {
	for _, s := range []string{
		"plain text",
		"${{ inputs.zone }}",
		"web-${{ idle.asg }}-${{ pct }}",
		"$${{ not an expression }}",
		"${{ inputs.weights }}",
		`${{ {"a": 1}["a"] + count }}`,
		"${{ 'a}}b' }}",
		"${{ steps.check.healthy == steps.check.total ? live.name : idle.name }}",
		"${{ inputs.bake > duration('10s') }}",
		"${{ filter(inputs.weights, # > 10) }}",
		"${{ inputs.zone + }}",
		"${{ }}",
		"${{ unterminated",
		"${{ inputs.nope }}",
		"${{ steps.check.nope }}",
		"${{ len(inputs.tags) }} and ${{ string(pct_index) }}",
		"é${{ \"ü\" + inputs.zone }}",
	} {
		f.Add(s)
	}
	base, err := Parse("base.yaml", []byte(interpBase), testRegistry(newWorld()))
	if err != nil {
		f.Fatal(err)
	}
	spec := base.Steps[0].Spec
	colour := func(name, asg string, port int) map[string]any {
		return map[string]any{"name": name, "asg": asg, "port": port}
	}
	blue, green := colour("blue", "web-blue", 8081), colour("green", "web-green", 8082)
	vals := map[string]any{
		"inputs": map[string]any{
			"zone": "Z1", "weights": []any{10, 50, 100}, "bake": 30 * time.Second, "limit": 5.0,
			"count": 3, "enabled": true, "tags": map[string]any{"team": "web"},
		},
		"colours":   map[string]any{"blue": blue, "green": green},
		"live":      blue,
		"idle":      green,
		"steps":     map[string]any{"check": map[string]any{"healthy": 2, "total": 3}},
		"run":       map[string]any{"id": "r1", "started": time.Unix(0, 0), "phase": "main"},
		"pct":       50,
		"pct_index": 1,
	}
	f.Fuzz(func(t *testing.T, s string) {
		defer watchdog([]byte(s))()
		if !utf8.ValidString(s) || strings.ContainsAny(s, "\n\r") {
			// YAML text is UTF-8, and a one-line scalar keeps the position
			// check below simple; multi-line values are FuzzParse's.
			t.Skip()
		}
		segs, off, err := scanTemplate(s)
		if n := utf8.RuneCountInString(s); off < 0 || off > n {
			t.Fatalf("scanTemplate offset %d outside the text (%d runes)", off, n)
		}
		if err == nil {
			for _, sg := range segs {
				if sg.isExpr && (sg.offset < 0 || sg.offset > len([]rune(s))) {
					t.Fatalf("segment offset %d outside the text", sg.offset)
				}
			}
		}
		// The template as the value of a plain one-line YAML key, the way
		// the parser sees it.
		line := "k: " + s
		p := &parser{d: newDiags("fuzz.yaml", []byte(line)), rb: base}
		sc := newScope(append([]scopeField{{name: "pct", typ: anyType}, {name: "pct_index", typ: reflect.TypeOf(0)}}, p.globals([]stepOut{{"check", spec}})...))
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Line: 1, Column: 4}
		tm := p.tmpl(n, sc, nil)
		for _, d := range p.d.list {
			if d.Pos.Line != 1 || d.Pos.Col < 1 || d.Pos.Col > utf8.RuneCountInString(line)+1 {
				t.Fatalf("diagnostic %q at %+v is not on the template's line %q", d.Message, d.Pos, line)
			}
		}
		if len(p.d.list) > 0 {
			return
		}
		v, err := tm.Eval(vals)
		if err == nil && tm.kind == tmplInterp {
			if _, ok := v.(string); !ok {
				t.Fatalf("interpolated text evaluated to %T, want a string", v)
			}
		}
	})
}
