package main

import (
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/publish"
	"github.com/bluegreen-deploy/bluegreen/runbooks"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// newOctopusProcessCmd is `bluegreen octopus process PROJECT --strategy
// NAME`: the project's deployment process for one of the shipped
// strategies, with bluegreen's steps around Octopus's own package deploy.
func newOctopusProcessCmd(connect func(*cobra.Command) (*octopus.Client, error)) *cobra.Command {
	o := publish.ProcessOptions{}
	c := &cobra.Command{
		Use:   "process PROJECT --strategy NAME --package ID",
		Short: "Create or update a project's deployment process for a strategy",
		Long: `Writes the project's deployment process for one of the shipped strategies:

  Blue-Green prepare         Run runbook, phase prepare
  Blue-Green deploy to idle  Deploy a Package (--package) to <target-role>-idle
                             (same-host: into the idle copy's folder; env-swap:
                             to <target-role> in the pre-prod environment)
  Blue-Green approve         Manual Intervention (--approval)
  Blue-Green promote         Run runbook, phase promote
  Blue-Green cleanup         Run runbook, phase cleanup

The Run runbook steps use the "Run runbook" step template (run ` + "`bluegreen octopus sync`" + `
first) with the strategy's runbook inline. The runbook's inputs come from project
variables BlueGreen.Input.<input> (optional ones only when set); octopus_project and
octopus_environment from the deployment; the API key, AWS account and region from
BlueGreen.Pipeline.ApiKey, BlueGreen.Pipeline.AwsAccount, BlueGreen.Pipeline.AwsRegion,
and the state location from BlueGreen.Pipeline.State.

Steps are bluegreen's when they carry the property BlueGreen.Process.Step (or an
owned step's name); every other step and field is written back unchanged, and
nothing is written when nothing changed. --dry-run prints the JSON it would write.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Project = args[0]
			src, err := fs.ReadFile(runbooks.FS, o.Strategy+".yaml")
			if err != nil {
				return &usageError{fmt.Errorf("--strategy: expected weighted-dns, alb-weighted, same-host or env-swap, found %q", o.Strategy)}
			}
			if o.PackageID == "" {
				return &usageError{fmt.Errorf("--package: give the id of the application package Octopus deploys to the idle colour")}
			}
			rb, err := engine.Parse(o.Strategy+".yaml", src, steps.Default)
			if err != nil {
				return err
			}
			o.RunbookYAML = string(src)
			o.Inputs = nil
			for _, in := range rb.Inputs {
				o.Inputs = append(o.Inputs, publish.ProcessInput{Name: in.Name, Required: in.Required && in.Default == nil})
			}
			cl, err := connect(cmd)
			if err != nil {
				return err
			}
			res, err := publish.UpdateProcess(cl, o)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if o.DryRun {
				fmt.Fprintf(w, "%s\n", res.Process)
			}
			state := "unchanged"
			switch {
			case res.Written:
				state = "written"
			case res.Changed():
				state = "would change (dry run: nothing written)"
			}
			fmt.Fprintf(w, "project %s, process %s: %s\n", res.ProjectName, res.ProcessID, state)
			for _, l := range []struct {
				verb  string
				names []string
			}{{"create", res.Created}, {"update", res.Updated}, {"remove", res.Removed}, {"same", res.Unchanged}, {"keep", res.Kept}} {
				for _, n := range l.names {
					fmt.Fprintf(w, "  %-7s %s\n", l.verb, n)
				}
			}
			return nil
		},
	}
	c.Flags().StringVar(&o.Strategy, "strategy", "", "weighted-dns, alb-weighted, same-host or env-swap")
	c.Flags().StringVar(&o.PackageID, "package", "", "id of the application package deployed to the idle colour")
	c.Flags().StringVar(&o.FeedID, "feed", publish.BuiltInFeedID, "feed that holds the package")
	c.Flags().StringVar(&o.TargetRole, "target-role", "web", "the runbook's target_role: targets are <role>-blue/<role>-green, the package goes to <role>-idle")
	c.Flags().BoolVar(&o.Approval, "approval", false, "add a Manual Intervention before promote")
	c.Flags().StringVar(&o.ProdEnvironment, "prod-environment", "Production", "env-swap: the production environment (the swap runs there)")
	c.Flags().StringVar(&o.PreprodEnvironment, "preprod-environment", "Pre-Production", "env-swap: the pre-production environment (the package is deployed there)")
	c.Flags().BoolVar(&o.DryRun, "dry-run", false, "print the process JSON it would write and change nothing")
	_ = c.MarkFlagRequired("strategy")
	return c
}
