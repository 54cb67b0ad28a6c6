package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

func (a *app) schemaCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the runbook JSON Schema (generated from the step registry)",
		Long: `schema prints the JSON Schema of runbooks, with every step kind and its params, for
editors: add "# yaml-language-server: $schema=runbook.schema.json" to a runbook.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := a.stdout.Write(engine.Schema(steps.Default))
			return err
		},
	}
}

func (a *app) versionCmd() *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, false); err != nil {
				return err
			}
			if output == "json" {
				return json.NewEncoder(a.stdout).Encode(versionObject())
			}
			fmt.Fprintf(a.stdout, "bluegreen %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
	enumVarP(c.Flags(), &output, "output", "o", "text", []string{"text", "json"}, "output format: text or json")
	_ = c.RegisterFlagCompletionFunc("output", fixedValues("text", "json"))
	return c
}

func (a *app) docsCmd() *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:    "docs",
		Short:  "Write the step reference (docs/steps.md) from the registry",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			b := steps.Markdown(steps.Default)
			if out == "" || out == "-" {
				_, err := a.stdout.Write(b)
				return err
			}
			return os.WriteFile(out, b, 0o644)
		},
	}
	c.Flags().StringVar(&out, "out", "", "file to write (default stdout)")
	return c
}
