package drift

import (
	"bytes"
	"encoding/json"
	"flag"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/steps"
	// Every provider, as cmd/bluegreen links them; TestProvidersLinked
	// keeps both lists complete.
	_ "github.com/bluegreen-deploy/bluegreen/steps/all"
)

const module = "github.com/bluegreen-deploy/bluegreen"

var update = flag.Bool("update", false, "rewrite docs/steps.md from the registry (make generate does the same through bluegreen docs)")

// root is the repository root, relative to this package.
var root = filepath.Join("..", "..")

// TestProvidersLinked fails when a provider package under steps/ is not
// imported by steps/all, or when cmd/bluegreen/main.go or this test does
// not link steps/all: the provider's steps would be missing from the
// binary or from the generated files.
func TestProvidersLinked(t *testing.T) {
	all := module + "/steps/all"
	for _, file := range []string{filepath.Join(root, "cmd", "bluegreen", "main.go"), "drift_test.go"} {
		if !imports(t, file)[all] {
			t.Errorf("%s does not import %s: the providers' steps are missing", file, all)
		}
	}
	listed := imports(t, filepath.Join(root, "steps", "all", "all.go"))
	entries, err := os.ReadDir(filepath.Join(root, "steps"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() || notProvider[e.Name()] || !hasGoCode(t, filepath.Join(root, "steps", e.Name())) {
			continue
		}
		if pkg := module + "/steps/" + e.Name(); !listed[pkg] {
			t.Errorf("steps/all/all.go does not import provider %s: its steps are missing from the binary", pkg)
		}
	}
}

// notProvider names the packages under steps/ that register no step kinds:
// the import list itself and the shared test helper.
var notProvider = map[string]bool{"all": true, "steptest": true}

// TestDocsUpToDate fails when docs/steps.md differs from what the registry
// renders: a step's spec changed and `make generate` was not run.
func TestDocsUpToDate(t *testing.T) {
	path := filepath.Join(root, "docs", "steps.md")
	if *update {
		if err := os.WriteFile(path, steps.Markdown(steps.Default), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read docs/steps.md: %v (run make generate)", err)
	}
	if !bytes.Equal(got, steps.Markdown(steps.Default)) {
		t.Errorf("docs/steps.md is out of date with the step registry: run make generate and commit the result")
	}
}

func imports(t *testing.T, file string) map[string]bool {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		out[path] = true
	}
	return out
}

func hasGoCode(t *testing.T, dir string) bool {
	t.Helper()
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

// TestSchemaUpToDate fails when runbooks/runbook.schema.json differs from
// what the registry generates.
func TestSchemaUpToDate(t *testing.T) {
	path := filepath.Join(root, "runbooks", "runbook.schema.json")
	want := engine.Schema(steps.Default)
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read runbook.schema.json: %v (run make generate)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("runbooks/runbook.schema.json is out of date with the step registry: run make generate and commit the result")
	}
	var doc map[string]any
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	kinds := doc["$defs"].(map[string]any)["step"].(map[string]any)["properties"].(map[string]any)["uses"].(map[string]any)["enum"].([]any)
	if len(kinds) != len(steps.All()) {
		t.Errorf("schema lists %d kinds, registry has %d", len(kinds), len(steps.All()))
	}
}

// TestExampleRunbooksValid loads every runbook in runbooks/ with the full
// registry: an example that does not validate is a broken promise.
func TestExampleRunbooksValid(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root, "runbooks", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range files {
		names[strings.TrimSuffix(filepath.Base(f), ".yaml")] = true
		if _, err := engine.Load(f, steps.Default); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, s := range []string{"weighted-dns", "alb-weighted", "same-host", "env-swap"} {
		if !names[s] {
			t.Errorf("runbooks/%s.yaml is missing: every strategy has an example", s)
		}
	}
}
