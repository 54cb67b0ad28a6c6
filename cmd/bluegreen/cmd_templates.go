package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus/templates"
	"github.com/bluegreen-deploy/bluegreen/steps"
	"github.com/spf13/cobra"
)

// newTemplatesCmd is `bluegreen templates`: the Octopus step templates
// generated from the step registry.
func newTemplatesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "templates",
		Short: "Octopus step templates generated from the step registry",
	}
	var out string
	export := &cobra.Command{
		Use:   "export",
		Short: "Write one Library-format step template JSON file per step kind, plus the runbook template",
		Long: `Writes <dir>/bluegreen-<kind>.json for every registered step kind and
bluegreen-run-runbook.json, in the Octopus Library's format, and
<dir>/versions.json, which remembers each template's content hash. A
template's Version (and $Meta.ExportedAt) only changes when its content does,
so exporting an unchanged registry rewrites nothing. Every file is checked
against the Library's rules before the command succeeds.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := templates.Export(out, steps.Default, time.Now())
			if err != nil {
				return err
			}
			files := map[string][]byte{}
			for _, f := range res.Written {
				b, err := os.ReadFile(filepath.Join(out, f))
				if err != nil {
					return err
				}
				files[f] = b
			}
			if errs := templates.ValidateLibrary(files); len(errs) > 0 {
				msgs := make([]string, len(errs))
				for i, e := range errs {
					msgs[i] = e.Error()
				}
				return fmt.Errorf("exported templates break the Library's rules:\n  %s", strings.Join(msgs, "\n  "))
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%d templates in %s; %d changed, %d removed\n", len(res.Written), out, len(res.Changed), len(res.Removed))
			for _, k := range res.Changed {
				fmt.Fprintf(w, "  changed: %s\n", k)
			}
			for _, f := range res.Removed {
				fmt.Fprintf(w, "  removed: %s\n", f)
			}
			return nil
		},
	}
	export.Flags().StringVar(&out, "out", "templates", "directory to write the templates to")
	cmd.AddCommand(export)
	return cmd
}
