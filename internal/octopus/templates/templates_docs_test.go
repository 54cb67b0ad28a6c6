package templates_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus/templates"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// TestDocsListEveryTemplateWhereItRuns: docs/octopus.md lists every
// generated template with its file and where it runs (worker or
// deployment targets), as the template's RunOnServer property says.
func TestDocsListEveryTemplateWhereItRuns(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "octopus.md"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, g := range templates.Generate(steps.Default) {
		where := "worker"
		if g.Template.Properties["Octopus.Action.RunOnServer"] == "false" {
			where = "deployment targets"
		}
		row := fmt.Sprintf("| %s | `%s` | %s |", g.Template.Name, g.File, where)
		want = append(want, row)
	}
	var missing []string
	for _, row := range want {
		if !strings.Contains(string(doc), row+"\n") {
			missing = append(missing, row)
		}
	}
	if len(missing) > 0 {
		t.Errorf("docs/octopus.md lacks these rows of the template table (the whole table follows):\n%s\n\n%s", strings.Join(missing, "\n"), strings.Join(want, "\n"))
	}
}
