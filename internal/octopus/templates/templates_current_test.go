package templates_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus/templates"
	"github.com/bluegreen-deploy/bluegreen/steps"

	// Every provider, so that the registry holds every real step kind, as
	// in cmd/bluegreen.
	_ "github.com/bluegreen-deploy/bluegreen/steps/all"
)

var updateTemplates = flag.Bool("update-templates", false, "export templates/ before checking it (what make generate does)")

// templatesDir is the committed output of `make generate`.
var templatesDir = filepath.Join("..", "..", "..", "templates")

// TestTemplatesCurrent fails when templates/ differs from what the
// registry generates: a spec changed and `make generate` was not run.
// With -update-templates it exports first.
func TestTemplatesCurrent(t *testing.T) {
	if *updateTemplates {
		if _, err := templates.Export(templatesDir, steps.Default, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	diffs, err := templates.Stale(templatesDir, steps.Default)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) > 0 {
		t.Errorf("templates/ is stale; run `make generate`:\n  %s", strings.Join(diffs, "\n  "))
	}
	// One template per kind, plus the runbook template.
	files, _ := filepath.Glob(filepath.Join(templatesDir, "bluegreen-*.json"))
	if want := len(steps.All()) + 1; len(files) != want {
		t.Errorf("%d template files, want %d", len(files), want)
	}
}

// TestTemplatesPassLibraryRules applies the Library's rules to every file
// in templates/.
func TestTemplatesPassLibraryRules(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(templatesDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	set := map[string][]byte{}
	for _, f := range files {
		if filepath.Base(f) == templates.VersionsFile {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		set[filepath.Base(f)] = b
	}
	if len(set) == 0 {
		t.Fatal("templates/ holds no templates; run `make generate`")
	}
	for _, err := range templates.ValidateLibrary(set) {
		t.Error(err)
	}
}
