package engine

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// update rewrites the golden files of TestBrokenRunbooks from what the
// parser reports now: `go test ./engine -run TestBrokenRunbooks -update`.
// Read the diff before committing it; the goldens are the contract for
// how problems are reported.
var update = flag.Bool("update", false, "rewrite testdata/broken/*.golden")

// diagLineRe is the first line of every diagnostic: FILE:LINE:COL: message.
var diagLineRe = regexp.MustCompile(`^testdata/broken/[a-z0-9-]+\.yaml:\d+:\d+: \S`)

// TestBrokenRunbooks loads every runbook under testdata/broken and compares
// the complete report (every diagnostic with its position, message and
// snippet) with the golden file beside it.
func TestBrokenRunbooks(t *testing.T) {
	files, err := filepath.Glob("testdata/broken/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 35 {
		t.Fatalf("found %d broken runbooks, want at least 35", len(files))
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			rb, err := Load(path, brokenRegistry())
			if err == nil {
				t.Fatalf("loaded %s without a problem (%d steps); it must be invalid", path, len(rb.Steps))
			}
			if rb != nil {
				t.Errorf("Load returned a runbook along with an error")
			}
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("error is %T, want *InvalidError: %v", err, err)
			}
			got := inv.Format()
			checkReport(t, inv)

			golden := strings.TrimSuffix(path, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("report differs from %s (run with -update to accept it)\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// checkReport holds for every report, golden or not: each diagnostic names
// the file with a real position, none is an internal error, and they come
// sorted by position.
func checkReport(t *testing.T, inv *InvalidError) {
	t.Helper()
	if len(inv.Diags) == 0 {
		t.Fatal("InvalidError without diagnostics")
	}
	for i, d := range inv.Diags {
		if !diagLineRe.MatchString(d.Error()) {
			t.Errorf("diagnostic %d is not FILE:LINE:COL: message: %q", i, d.Error())
		}
		if d.Pos.Line < 1 || d.Pos.Col < 1 {
			t.Errorf("diagnostic %d has no position: %q", i, d.Error())
		}
		if strings.Contains(d.Message, "internal error") {
			t.Errorf("diagnostic %d is a recovered panic: %q", i, d.Message)
		}
		if d.Snippet == "" {
			t.Errorf("diagnostic %d has no snippet: %q", i, d.Error())
		}
		if i > 0 {
			p, q := inv.Diags[i-1].Pos, d.Pos
			if q.Line < p.Line || (q.Line == p.Line && q.Col < p.Col) {
				t.Errorf("diagnostics %d and %d are out of order: %v after %v", i-1, i, q, p)
			}
		}
	}
}

// TestBrokenRunbookDetails pins the properties of a few reports that a
// careless -update could lose: that every problem of a file is reported,
// and that an expression error points inside the expression.
func TestBrokenRunbookDetails(t *testing.T) {
	tests := []struct {
		file string
		// diags is how many problems the file must report.
		diags int
		// caretAt is the text the first diagnostic's caret must sit on.
		caretAt string
	}{
		{"expr-syntax", 1, "+ }}"},
		{"expr-unknown-input", 1, "zone_idd"},
		{"expr-unknown-step", 1, "helth"},
		{"expr-later-step", 1, "shift"},
		{"expr-unknown-output", 1, "healthyy"},
		{"expr-type-mismatch", 1, "+ 1"},
		{"expr-block-scalar", 1, "totl"},
		{"expr-single-quoted", 1, "nope"},
		{"expr-escaped-quotes", 1, "nope"},
		{"expr-multiline-plain", 1, "nope"},
		{"expr-folded-block", 1, "totl"},
		{"foreach-index-type", 1, "+ 'x'"},
		{"unterminated-template", 1, "${{ idle.name }"},
		{"if-not-bool", 1, "inputs.count"},
		{"multiple-errors", 7, "version: 1"},
		{"yaml-syntax", 1, "  green: {group: web-green"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			_, err := Load("testdata/broken/"+tc.file+".yaml", testRegistry(newWorld()))
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("want *InvalidError, got %v", err)
			}
			if len(inv.Diags) != tc.diags {
				t.Errorf("got %d diagnostics, want %d:\n%s", len(inv.Diags), tc.diags, inv.Format())
			}
			if got := caretText(t, inv.Diags[0].Snippet); !strings.HasPrefix(got, tc.caretAt) {
				t.Errorf("caret sits on %q, want it on %q:\n%s", got, tc.caretAt, inv.Diags[0].Snippet)
			}
		})
	}
}

// caretText returns the source text from the snippet's caret to the end of
// the line.
func caretText(t *testing.T, snippet string) string {
	t.Helper()
	lines := strings.Split(snippet, "\n")
	if len(lines) != 2 {
		t.Fatalf("snippet is not a line and a caret: %q", snippet)
	}
	src, caret := []rune(lines[0]), lines[1]
	col := strings.IndexRune(caret, '^')
	if col < 0 || col > len(src) {
		t.Fatalf("no caret within the line: %q", snippet)
	}
	return string(src[col:])
}

// manyStepsRunbook builds a valid runbook of n top-level steps in the shapes
// real runbooks use: gated health checks that read inputs and earlier
// steps' outputs, mutating steps with interpolated params, conditions, and
// foreach loops with nested gated steps.
func manyStepsRunbook(n int) []byte {
	var b strings.Builder
	b.WriteString(`version: 1
name: many
inputs:
  zone_id: {type: string, default: Z1}
  weights: {type: list, default: [10, 50, 100]}
  bake: {type: duration, default: 30s}
  limit: {type: number, default: 5}
  desired: {type: int, default: 3}
colours:
  blue: {group: web-blue}
  green: {group: web-green}
detect:
  uses: test.get-weights
  with: {zone: "${{ inputs.zone_id }}"}
  live: "weights.blue >= weights.green ? 'blue' : 'green'"
steps:
`)
	for i := 0; i < n; i++ {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, `  - id: scale-%d
    uses: test.scale
    with: {group: "${{ idle.group }}", desired: "${{ inputs.desired + %d }}"}
`, i, i)
		case 1:
			fmt.Fprintf(&b, `  - id: health-%d
    uses: test.health
    with: {group: "${{ idle.group }}"}
    gate: {until: "healthy == total && total >= inputs.desired", every: 5s, timeout: 5m, passes: 2}
`, i)
		case 2:
			fmt.Fprintf(&b, `  - id: shift-%d
    if: "steps[\"health-%d\"].healthy > 0 && live.name != idle.name"
    foreach: "${{ inputs.weights }}"
    as: pct
    steps:
      - uses: test.set-weights
        with:
          zone: "${{ inputs.zone_id }}"
          weights: {"${{ idle.name }}": "${{ pct }}", "${{ live.name }}": "${{ 100 - pct }}"}
      - uses: test.metric
        with: {name: "5xx-${{ pct }}-%d"}
        gate: {until: "elapsed >= inputs.bake", fail: "value > inputs.limit", every: 10s}
`, i, i-1, i)
		case 3:
			fmt.Fprintf(&b, `  - uses: test.health
    name: check %d
    with: {group: "${{ live.group }}"}
`, i)
		}
	}
	return []byte(b.String())
}

func TestManyStepsRunbookIsValid(t *testing.T) {
	rb, err := Parse("many.yaml", manyStepsRunbook(200), testRegistry(newWorld()))
	if err != nil {
		t.Fatal(err)
	}
	if len(rb.Steps) != 200 {
		t.Fatalf("parsed %d steps, want 200", len(rb.Steps))
	}
}

// BenchmarkParse measures loading runbooks of 100 to 10,000 steps: YAML
// decoding, validation against the registry and compiling every
// expression. Time and memory per step should stay flat as the runbook
// grows: loading must be linear in the number of steps.
func BenchmarkParse(b *testing.B) {
	reg := testRegistry(newWorld())
	for _, n := range []int{100, 1000, 2000, 4000, 10000} {
		src := manyStepsRunbook(n)
		b.Run(fmt.Sprintf("steps=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse("many.yaml", src, reg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestExpressionColumns checks that an error inside an expression points at
// the offending name however the YAML scalar around it is written: the
// offset in the value is mapped back through quotes, escapes, line folding
// and block indentation.
func TestExpressionColumns(t *testing.T) {
	tests := []struct {
		name string
		// step is the YAML of one step whose expression reads inputs.nope.
		step string
	}{
		{"plain", `if: inputs.env == 'prod' && inputs.nope`},
		{"double quoted", `if: "inputs.env == 'prod' && inputs.nope"`},
		{"double quoted escapes", `if: "inputs.env == \"pr\u00f6d\" && inputs.nope"`},
		{"double quoted hex escape", `if: "inputs.env == \"\x41\" && inputs.nope"`},
		{"single quoted", `if: 'inputs.env == ''prod'' && inputs.nope'`},
		{"wrapped", `if: "${{ inputs.env == 'prod' && inputs.nope }}"`},
		{"non-ASCII before", `if: "inputs.env == 'ünïcödé' && inputs.nope"`},
		{"interpolated", `with: {group: "web-${{ inputs.env }}-${{ inputs.nope }}"}`},
		{"plain over lines", "if: inputs.env == 'prod'\n      && inputs.nope"},
		{"double quoted over lines", "if: \"inputs.env == 'prod'   \n      && inputs.nope\""},
		{"escaped line break", "if: \"inputs.env == 'prod' && inp\\\n      uts.nope\""},
		{"literal block", "if: |\n      inputs.env == 'prod'\n        && inputs.nope"},
		{"folded block", "if: >-\n      inputs.env == 'prod'\n\n      && inputs.nope"},
		{"block with comment", "if: | # why\n      inputs.env == 'prod' && inputs.nope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			step := "  - uses: test.health\n    " + tc.step + "\n"
			if !strings.Contains(tc.step, "with:") {
				step += "    with: {group: web-blue}\n"
			}
			src := "version: 1\nname: web\ninputs:\n  env: {type: string, default: prod}\ncolours:\n  blue: {group: web-blue}\n  green: {group: web-green}\nsteps:\n" + step
			_, err := Parse("cols.yaml", []byte(src), testRegistry(newWorld()))
			var inv *InvalidError
			if !errors.As(err, &inv) || len(inv.Diags) != 1 {
				t.Fatalf("want one problem, got %v", err)
			}
			d := inv.Diags[0]
			if !strings.Contains(d.Message, `unknown input "nope"`) {
				t.Fatalf("unexpected problem: %s", d.Message)
			}
			if got := caretText(t, d.Snippet); !strings.HasPrefix(got, "nope") {
				t.Errorf("caret sits on %q, want it on nope:\n%s", got, d.Snippet)
			}
		})
	}
}
