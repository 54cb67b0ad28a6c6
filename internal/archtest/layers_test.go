package archtest

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// layers is the layer diagram of docs/architecture.md, top row first. A
// package imports (outside its tests) only packages in rows below its own;
// packages in one row never import each other. "x/..." stands for every
// package below x (not x itself); a package named exactly wins over a
// pattern. TestLayersMatchTheDoc keeps this table and the doc's the same.
var layers = [][]string{
	// Programs and end-to-end tests: they may use anything.
	{"scripts/...", "test/...", "runbooks/...", "internal/testapp/cmd/testapp"},
	// Test harnesses built on the helpers below.
	{"internal/benchrun"},
	// Test helpers: real moto, nginx, PostgreSQL, Octopus and so on for
	// tests; nothing below imports them.
	{"internal/awstest", "internal/nginxtest", "internal/pgtest", "internal/faultproxy", "internal/blackhole",
		"internal/browsertest", "internal/testapp", "internal/octopus/octopustest", "internal/state/statetest",
		"steps/steptest", "internal/drift", "internal/archtest"},
	// The binary.
	{"cmd/bluegreen"},
	// What the binary assembles around the engine.
	{"report", "steps/all"},
	// The engine and its plugins: step providers, state stores and the
	// Octopus publisher never import the engine, nor it them.
	{"internal/engine", "steps/...", "internal/state/dynamostate", "internal/octopus/publish"},
	// The state store interface and the file store.
	{"internal/state"},
	// Libraries the layers above share.
	{"internal/octopus", "internal/octopus/templates", "internal/octopus/servicemsg", "internal/awsretry", "runbooks"},
	// The plugin API.
	{"steps"},
}

// layerOf returns the row of pkg (a path inside the module), or -1.
func layerOf(table [][]string, pkg string) int {
	row, best := -1, -1
	for i, pats := range table {
		for _, p := range pats {
			if p == pkg {
				return i
			}
			if prefix, ok := strings.CutSuffix(p, "/..."); ok && strings.HasPrefix(pkg, prefix+"/") && len(prefix) > best {
				row, best = i, len(prefix)
			}
		}
	}
	return row
}

// violations lists, for the module's packages in g, every package the
// table does not place and every import of a package in the same row or a
// row above.
func violations(g graph, table [][]string) []string {
	var out []string
	for pkg, imports := range g {
		rel, ok := strings.CutPrefix(pkg, module+"/")
		if !ok {
			continue
		}
		from := layerOf(table, rel)
		if from < 0 {
			out = append(out, fmt.Sprintf("%s has no layer: add it to the table in internal/archtest and to docs/architecture.md", rel))
			continue
		}
		for _, imp := range imports {
			irel, ok := strings.CutPrefix(imp, module+"/")
			if !ok {
				continue
			}
			to := layerOf(table, irel)
			switch {
			case to < 0:
				// Reported as a package without a layer.
			case to == from:
				out = append(out, fmt.Sprintf("%s imports %s, in its own row %d", rel, irel, from))
			case to < from:
				out = append(out, fmt.Sprintf("%s (row %d) imports %s, above it (row %d)", rel, from, irel, to))
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestLayers: no package imports one beside or above it in the layer
// diagram.
func TestLayers(t *testing.T) {
	for _, v := range violations(loadGraph(t), layers) {
		t.Error(v)
	}
}

// TestViolations holds the check to the cases it exists for: the plugin
// API importing the engine, the engine naming a provider or a store, a
// package nobody placed.
func TestViolations(t *testing.T) {
	m := func(p string) string { return module + "/" + p }
	g := graph{
		m("cmd/bluegreen"):              {m("internal/engine"), m("steps/all"), "fmt"},
		m("steps/all"):                  {m("steps/aws")},
		m("internal/engine"):            {m("internal/state"), m("steps"), m("steps/aws"), m("internal/state/dynamostate")},
		m("internal/state/dynamostate"): {m("internal/state")},
		m("steps/aws"):                  {m("steps")},
		m("internal/state"):             {m("steps")},
		m("steps"):                      {m("internal/engine")},
		m("internal/newthing"):          nil,
	}
	got := violations(g, layers)
	want := []string{
		"internal/engine imports internal/state/dynamostate, in its own row 5",
		"internal/engine imports steps/aws, in its own row 5",
		"internal/newthing has no layer: add it to the table in internal/archtest and to docs/architecture.md",
		"steps (row 8) imports internal/engine, above it (row 5)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("violations =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if l := layerOf(layers, "steps/all"); l != 4 {
		t.Errorf("steps/all is in row %d; a package named exactly must win over steps/...", l)
	}
}

// docRow is a row of the layer table in docs/architecture.md:
// "| 4 | `internal/engine`, `steps/...` | what they are |".
var docRow = regexp.MustCompile("^\\| *([0-9]+) *\\|([^|]*)\\|")

// TestLayersMatchTheDoc: the table above is the doc's, row for row.
func TestLayersMatchTheDoc(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	var doc [][]string
	for _, line := range strings.Split(string(b), "\n") {
		m := docRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var pkgs []string
		for _, f := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(m[2], -1) {
			pkgs = append(pkgs, f[1])
		}
		if fmt.Sprint(len(doc)) != m[1] {
			t.Fatalf("docs/architecture.md: layer row %s out of order (expected row %d)", m[1], len(doc))
		}
		doc = append(doc, pkgs)
	}
	if len(doc) != len(layers) {
		t.Fatalf("docs/architecture.md has %d layer rows, the test %d", len(doc), len(layers))
	}
	for i := range layers {
		a, d := append([]string(nil), layers[i]...), append([]string(nil), doc[i]...)
		sort.Strings(a)
		sort.Strings(d)
		if !reflect.DeepEqual(a, d) {
			t.Errorf("layer row %d: the test has %v, docs/architecture.md %v", i, a, d)
		}
	}
}
