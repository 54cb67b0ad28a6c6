package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// stepCmd is `bluegreen step run KIND --param k=v`: one step on its own,
// as the per-step Octopus templates call it.
func (a *app) stepCmd() *cobra.Command {
	c := &cobra.Command{Use: "step", Short: "Run a single step (as the per-step Octopus templates do)"}
	var params, paramEnvs []string
	var octo bool
	var output string
	run := &cobra.Command{
		Use:   "run KIND",
		Short: "Run one step with --param name=value arguments",
		Long: `step run runs one step kind once, with params given as --param name=value (lists and
maps in YAML flow syntax: --param 'command=[echo, hi]'). Outputs are printed as text, as JSON
with --output json, or as Octopus output variables with --octopus-output; sensitive outputs
are shown as *** except as Octopus sensitive variables. A mutating step prints the undo it
would journal, so a pipeline can keep it; a gate is a runbook feature, not a step one.`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeKinds,
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, ok := steps.Lookup(args[0])
			if !ok {
				return unknownKind(args[0])
			}
			if octo && cmd.Flags().Changed("output") {
				return usagef("--output %s: not with --octopus-output (Octopus reads stdout for its service messages)", output)
			}
			raw, err := stepParams(spec, params, paramEnvs)
			if err != nil {
				return err
			}
			inv, err := spec.Invoke(raw)
			if err != nil {
				var be *steps.BindError
				if errors.As(err, &be) {
					inv := &engine.InvalidError{}
					for _, e := range be.Params {
						inv.Diags = append(inv.Diags, &engine.Diagnostic{File: spec.Kind, Message: e.Error()})
					}
					return inv
				}
				return err
			}
			var undos []steps.Undo
			call := steps.Call{Log: a.log.With().Str("step", spec.Kind).Logger(), BeforeChange: func(u steps.Undo) error {
				undos = append(undos, u)
				a.log.Info().Str("undo", u.Kind).Msg("undo: " + u.Note)
				return nil
			}}
			a.log.Info().Str("uses", spec.Kind).Msg("step " + spec.Title)
			res, err := inv.Run(cmd.Context(), call)
			if err != nil {
				if octo {
					reportStepFailure(a, err)
				}
				return err
			}
			if octo {
				return reportStepOutputs(a, res)
			}
			for i := range undos {
				undos[i].Params = spec2Redacted(undos[i])
			}
			if output == "json" {
				return printStepJSON(a, spec, res, undos)
			}
			printStepText(a, res, undos)
			return nil
		},
	}
	run.Flags().StringArrayVar(&params, "param", nil, "a step param: --param name=value (repeatable)")
	run.Flags().StringArrayVar(&paramEnvs, "param-env", nil, "a step param read from an environment variable: --param-env name=ENV_VAR (for secrets: arguments show in ps)")
	run.Flags().BoolVar(&octo, "octopus-output", false, "print outputs as Octopus output variables (service messages)")
	enumVarP(run.Flags(), &output, "output", "o", "text", []string{"text", "json"}, "output format: text or json")
	c.AddCommand(run)
	return c
}

// stepParams collects the raw params of --param and --param-env.
func stepParams(spec *steps.Spec, params, paramEnvs []string) (map[string]any, error) {
	raw := map[string]any{}
	for _, p := range params {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, usagef("--param: expected name=value, found %q", redactArg(spec, p))
		}
		if _, dup := raw[k]; dup {
			return nil, usagef("--param: %q given twice", k)
		}
		raw[k] = v
	}
	for _, p := range paramEnvs {
		k, env, ok := strings.Cut(p, "=")
		if !ok || k == "" || env == "" {
			return nil, usagef("--param-env: expected name=ENV_VAR, found %q", p)
		}
		if _, dup := raw[k]; dup {
			return nil, usagef("--param-env: %q given twice", k)
		}
		v, set := os.LookupEnv(env)
		if !set {
			return nil, usagef("--param-env: environment variable %s (for param %q) is not set", env, k)
		}
		raw[k] = v
	}
	return raw, nil
}

// shownOutputs is what step run prints of a result: the public outputs,
// and the sensitive ones by name only.
func shownOutputs(res *steps.Result) map[string]any {
	out := make(map[string]any, len(res.Public)+len(res.Sensitive))
	for k, v := range res.Public {
		out[k] = v
	}
	for k := range res.Sensitive {
		out[k] = steps.Redaction
	}
	return out
}

// printStepJSON prints one object: the kind, its outputs (sensitive ones
// redacted) and the undos the step would have journaled.
func printStepJSON(a *app, spec *steps.Spec, res *steps.Result, undos []steps.Undo) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	o := map[string]any{"kind": spec.Kind, "outputs": shownOutputs(res)}
	if len(undos) > 0 {
		o["undo"] = undos
	}
	return enc.Encode(o)
}

// printStepText prints one "name: value" line an output, sorted, and one
// line an undo.
func printStepText(a *app, res *steps.Result, undos []steps.Undo) {
	out := shownOutputs(res)
	names := make([]string, 0, len(out))
	for k := range out {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(a.stdout, "%s: %s\n", k, steps.FormatValue(out[k]))
	}
	for _, u := range undos {
		fmt.Fprintf(a.stdout, "undo: %s %s", u.Kind, steps.FormatValue(u.Params))
		if u.Note != "" {
			fmt.Fprintf(a.stdout, " (%s)", u.Note)
		}
		fmt.Fprintln(a.stdout)
	}
}

// spec2Redacted hides sensitive params of an undo before printing it, and
// prints the rest as the journal would store them.
func spec2Redacted(u steps.Undo) map[string]any {
	if s, ok := steps.Lookup(u.Kind); ok {
		return s.Redacted(s.Encode(u.Params))
	}
	return u.Params
}

// redactArg hides the value of a sensitive --param in an error message.
func redactArg(s *steps.Spec, arg string) string {
	k, _, _ := strings.Cut(arg, "=")
	if p := s.Param(k); p != nil && p.Sensitive {
		return k + "=" + steps.Redaction
	}
	return arg
}
