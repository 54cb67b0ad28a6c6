package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// This file holds validate and plan, the commands that check a runbook
// and show what a run would do; neither changes anything.

func (a *app) validateCmd() *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:   "validate RUNBOOK...",
		Short: "Check runbooks completely without running anything",
		Long: `validate parses every runbook, checks every step kind, param, input reference and
expression against the step registry, and prints every problem as FILE:LINE:COL with a
snippet. Exit 0 when all are valid, 2 otherwise. Nothing is contacted.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			all := &engine.InvalidError{}
			for _, p := range args {
				_, err := a.load(p)
				var inv *engine.InvalidError
				switch {
				case err == nil:
					if output != "json" {
						fmt.Fprintf(a.stdout, "%s: valid\n", p)
					}
				case errors.As(err, &inv):
					all.Diags = append(all.Diags, inv.Diags...)
				default:
					return err
				}
			}
			if output == "json" {
				diags := all.Diags
				if diags == nil {
					diags = []*engine.Diagnostic{}
				}
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				_ = enc.Encode(map[string]any{"valid": len(all.Diags) == 0, "problems": diags})
				if len(all.Diags) > 0 {
					// The problems are in the JSON; stdout stays JSON only
					// and nothing is repeated on stderr.
					return &shownError{all}
				}
			}
			if len(all.Diags) > 0 {
				return all
			}
			return nil
		},
	}
	enumVarP(c.Flags(), &output, "output", "o", "text", []string{"text", "json"}, "output format: text or json")
	_ = c.RegisterFlagCompletionFunc("output", fixedValues("text", "json"))
	c.ValidArgsFunction = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
	}
	return c
}

func (a *app) planCmd() *cobra.Command {
	f := &runFlags{}
	c := &cobra.Command{
		Use:   "plan RUNBOOK",
		Short: "Show the resolved steps a run would take, changing nothing",
		Long: `plan resolves inputs, colours and the live colour (running the read-only detect
step, unless --live is given) and prints each step with its params as far as they can
be known before the run. It makes no API call that changes anything.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rb, raw, x, err := a.prepare(cmd, args[0], f)
			if err != nil {
				return err
			}
			if missing := rb.MissingInputs(raw); len(missing) > 0 {
				return a.planOutline(rb, f, missing)
			}
			p, err := x.Plan(cmd.Context(), rb, raw, engine.PlanOptions{Live: f.live, Offline: f.offline})
			if err != nil {
				return err
			}
			if f.output == "json" {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(p); err != nil {
					return err
				}
				return p.Preflight.Err()
			}
			printPlan(a, p)
			printPreflight(a, p.Preflight)
			return p.Preflight.Err()
		},
	}
	f.addInputs(c)
	f.addState(c)
	c.Flags().StringVar(&f.phase, "phase", "", "plan only this phase")
	c.Flags().StringVar(&f.live, "live", "", "assume this live colour instead of running detect")
	c.Flags().BoolVar(&f.offline, "offline", false, "list the preflight's probes of AWS, Octopus and databases without running them (values are still checked)")
	enumVarP(c.Flags(), &f.output, "output", "o", "text", []string{"text", "json"}, "output format: text or json")
	registerRunCompletions(c)
	return c
}

// planOutline prints the steps as written when required inputs are
// missing: someone reading a runbook (or a phase of it) for the first time
// sees what it does before they have every ARN at hand. Nothing is
// resolved, detected or probed, and the missing inputs are named.
func (a *app) planOutline(rb *engine.Runbook, f *runFlags, missing []string) error {
	p, err := rb.Outline(f.phase, missing)
	if err != nil {
		return err
	}
	if f.output == "json" {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	printPlan(a, p)
	fmt.Fprintf(a.stdout, "\nOutline only: values are shown as written. Give the inputs %s (--set NAME=VALUE or --inputs FILE) to resolve them, run detect and check AWS, Octopus and databases before the first change.\n", strings.Join(missing, ", "))
	return nil
}

func printPlan(a *app, p *engine.Plan) {
	if p.Outline {
		fmt.Fprintf(a.stdout, "runbook %s: outline (inputs missing)\n\n", p.Runbook)
	} else {
		fmt.Fprintf(a.stdout, "runbook %s: live %s → idle %s becomes live\n\n", p.Runbook, p.Live, p.Idle)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PHASE\tSTEP\tUSES\tPARAMS")
	for _, s := range p.Steps {
		params := make([]string, 0, len(s.Params))
		for k, v := range s.Params {
			params = append(params, k+"="+steps.FormatValue(v))
		}
		sort.Strings(params)
		uses := s.Uses
		if s.Mutates {
			uses += " *"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Phase, s.Path, uses, strings.Join(params, " "))
		if s.If != "" {
			fmt.Fprintf(tw, "\t\t  if\t%s\n", s.If)
		}
		if s.Gate != "" {
			fmt.Fprintf(tw, "\t\t  gate\t%s\n", s.Gate)
		}
	}
	_ = tw.Flush()
	fmt.Fprintln(a.stdout, "\n* changes something (its undo is journaled first)")
}
