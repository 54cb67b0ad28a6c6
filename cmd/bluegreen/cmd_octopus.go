package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/publish"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/templates"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// newOctopusCmd is `bluegreen octopus`: keep a server's step templates in
// sync and publish the binary to its built-in feed.
func newOctopusCmd() *cobra.Command {
	var server, apiKey, space string
	cmd := &cobra.Command{
		Use:   "octopus",
		Short: "Publish bluegreen to an Octopus Deploy server",
		Long: `Connects with OCTOPUS_URL, OCTOPUS_API_KEY and OCTOPUS_SPACE (a space name or id;
the default space when empty), as the Octopus CLI does; the flags override them.
Prefer the environment for the API key: command lines are visible to other users.
TLS certificates are always verified.`,
	}
	cmd.PersistentFlags().StringVar(&server, "server", "", "Octopus server URL (default $OCTOPUS_URL)")
	cmd.PersistentFlags().StringVar(&apiKey, "api-key", "", "Octopus API key (default $OCTOPUS_API_KEY)")
	cmd.PersistentFlags().StringVar(&space, "space", "", "space name or id (default $OCTOPUS_SPACE, then the default space)")
	connect := func(cmd *cobra.Command) (*octopus.Client, error) {
		return octopus.Connect(cmd.Context(), octopus.ConfigFromEnv().Override(server, apiKey, space))
	}

	var dryRun, updateUsages bool
	sync := &cobra.Command{
		Use:   "sync",
		Short: "Create missing step templates and update changed ones",
		Long: `Creates the templates the server lacks, updates those whose content differs (the
server then bumps their Version) and leaves the others untouched, matching by name.
With --update-usages, steps in deployment and runbook processes that use an older
version of a template are moved to the current one; steps the server cannot merge
by itself (ManualMergeRequired) are listed and make the command fail.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := connect(cmd)
			if err != nil {
				return err
			}
			res, err := publish.Sync(c, templates.Generate(steps.Default), publish.SyncOptions{DryRun: dryRun, UpdateUsages: updateUsages})
			if res != nil {
				printSync(cmd, c, res, dryRun)
			}
			if err != nil {
				return err
			}
			if att := res.NeedsAttention(); len(att) > 0 {
				return fmt.Errorf("%d process steps need a manual merge or change to use the new template version", len(att))
			}
			return nil
		},
	}
	sync.Flags().BoolVar(&dryRun, "dry-run", false, "show what would change without changing anything")
	sync.Flags().BoolVar(&updateUsages, "update-usages", false, "move process steps that use an older template version to the current one")

	var overwrite bool
	var pkgVersion, file, outDir string
	bins := map[string]*string{}
	push := &cobra.Command{
		Use:   "push-package",
		Short: "Upload bluegreen.<version>.tar.gz (linux/amd64 and linux/arm64) to the built-in feed",
		Long: `Builds bluegreen.<version>.tar.gz holding linux-amd64/bluegreen and
linux-arm64/bluegreen and uploads it to the space's built-in feed, where the step
templates' "bluegreen package" parameter finds it. Binaries not given with
--amd64/--arm64 are cross-compiled from ./cmd/bluegreen (CGO_ENABLED=0), which
needs the source tree and a Go toolchain; --file uploads an existing package.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := connect(cmd)
			if err != nil {
				return err
			}
			path := file
			if path == "" {
				b := map[string]string{}
				for arch, p := range bins {
					b[arch] = *p
				}
				if path, err = publish.BuildPackage(cmd.Context(), publish.BuildOptions{Version: pkgVersion, Binaries: b, OutDir: outDir}); err != nil {
					return err
				}
			}
			res, err := publish.PushPackage(c, path, overwrite)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "pushed %s %s to feed %s of space %s (%d bytes)\n", res.PackageID, res.Version, res.FeedID, c.SpaceName, res.Size)
			return nil
		},
	}
	push.Flags().BoolVar(&overwrite, "overwrite", false, "replace the version if the feed already has it")
	push.Flags().StringVar(&pkgVersion, "version", strings.TrimPrefix(version, "v"), "package version (SemVer)")
	push.Flags().StringVar(&file, "file", "", "upload this package file instead of building one")
	push.Flags().StringVar(&outDir, "out", "", "keep the built package in this directory (default: a temporary one)")
	for _, arch := range publish.PackageArchs {
		bins[arch] = push.Flags().String(arch, "", "prebuilt linux/"+arch+" binary (default: cross-compile)")
	}

	cmd.AddCommand(sync, push, newOctopusProcessCmd(connect))
	return cmd
}

func printSync(cmd *cobra.Command, c *octopus.Client, res *publish.SyncResult, dryRun bool) {
	w := cmd.OutOrStdout()
	verb := ""
	if dryRun {
		verb = " (dry run: nothing changed)"
	}
	fmt.Fprintf(w, "space %s: %d created, %d updated, %d unchanged%s\n", c.SpaceName, len(res.Created), len(res.Updated), len(res.Unchanged), verb)
	for _, n := range res.Created {
		fmt.Fprintf(w, "  create  %s\n", n)
	}
	for _, n := range res.Updated {
		fmt.Fprintf(w, "  update  %s\n", n)
	}
	for _, u := range res.Usages {
		outcome := u.Outcome
		if outcome == "" {
			outcome = "would update"
		}
		where := u.ProcessID
		if u.GitRef != "" {
			where += " on branch " + u.GitRef
		}
		fmt.Fprintf(w, "  usage   %s: step %q (%s %s) v%d → v%d: %s\n", u.Template, u.ActionName, u.ProcessType, where, u.From, u.To, outcome)
		for _, prop := range slices.Sorted(maps.Keys(u.Reasons)) {
			fmt.Fprintf(w, "          %s: %s\n", prop, strings.Join(u.Reasons[prop], "; "))
		}
	}
}
