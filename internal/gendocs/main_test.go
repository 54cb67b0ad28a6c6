package main

import (
	"bytes"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

const module = "github.com/bluegreen-deploy/bluegreen"

// TestProvidersLinked fails when a provider package under steps/ is not
// linked in here: its kinds would be missing from the reference.
func TestProvidersLinked(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	imported := map[string]bool{}
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		imported[path] = true
	}
	entries, err := os.ReadDir(filepath.Join("..", "..", "steps"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "testdata" {
			continue
		}
		if !hasGoCode(t, filepath.Join("..", "..", "steps", e.Name())) {
			continue
		}
		if pkg := module + "/steps/" + e.Name(); !imported[pkg] {
			t.Errorf("provider %s is not imported by internal/gendocs/main.go", pkg)
		}
	}
}

func hasGoCode(t *testing.T, dir string) bool {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			return true
		}
	}
	return false
}

// TestDocsUpToDate fails when docs/steps.md differs from what the registry
// renders: a step's spec changed and `make generate` was not run.
func TestDocsUpToDate(t *testing.T) {
	want := steps.Markdown(steps.Default)
	got, err := os.ReadFile(filepath.Join("..", "..", "docs", "steps.md"))
	if err != nil {
		t.Fatalf("read docs/steps.md: %v (run make generate)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("docs/steps.md is out of date with the step registry: run make generate and commit the result")
	}
}
