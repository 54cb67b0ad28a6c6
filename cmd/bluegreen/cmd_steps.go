package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

func (a *app) stepsCmd() *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:               "steps [KIND]",
		Short:             "List the step kinds, or show one kind's params and outputs",
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeKinds,
		RunE: func(cmd *cobra.Command, args []string) error {
			specs := steps.All()
			if len(args) == 1 {
				s, ok := steps.Lookup(args[0])
				if !ok {
					return unknownKind(args[0])
				}
				specs = []*steps.Spec{s}
			}
			if output == "json" {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(specJSON(specs))
			}
			if len(args) == 1 {
				printSpec(a, specs[0])
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KIND\tMUTATES\tSUMMARY")
			for _, s := range specs {
				m := ""
				if s.Mutates {
					m = "yes"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Kind, m, s.Summary)
			}
			return tw.Flush()
		},
	}
	enumVarP(c.Flags(), &output, "output", "o", "text", []string{"text", "json"}, "output format: text or json")
	return c
}

type paramJSON struct {
	Name      string   `json:"name"`
	Type      string   `json:"type"`
	Items     string   `json:"items,omitempty"`
	Doc       string   `json:"doc"`
	Required  bool     `json:"required,omitempty"`
	Default   any      `json:"default,omitempty"`
	Enum      []string `json:"enum,omitempty"`
	Sensitive bool     `json:"sensitive,omitempty"`
	Examples  []any    `json:"examples,omitempty"`
}

type specOut struct {
	Kind        string         `json:"kind"`
	Title       string         `json:"title"`
	Summary     string         `json:"summary"`
	Doc         string         `json:"doc,omitempty"`
	Mutates     bool           `json:"mutates"`
	Credentials string         `json:"credentials,omitempty"`
	Traffic     string         `json:"traffic,omitempty"`
	Params      []paramJSON    `json:"params"`
	Outputs     []steps.Output `json:"outputs"`
}

func specJSON(specs []*steps.Spec) []specOut {
	out := make([]specOut, 0, len(specs))
	for _, s := range specs {
		o := specOut{Kind: s.Kind, Title: s.Title, Summary: s.Summary, Doc: s.Doc, Mutates: s.Mutates, Credentials: string(s.Credentials), Traffic: s.Traffic, Params: []paramJSON{}, Outputs: s.Outputs}
		if o.Outputs == nil {
			o.Outputs = []steps.Output{}
		}
		for _, p := range s.Params {
			d := p.Default
			if d != nil && p.Type == steps.Duration {
				d = steps.FormatValue(d)
			}
			o.Params = append(o.Params, paramJSON{Name: p.Name, Type: string(p.Type), Items: string(p.Items), Doc: p.Doc, Required: p.Required, Default: d, Enum: p.Enum, Sensitive: p.Sensitive, Examples: p.Examples})
		}
		out = append(out, o)
	}
	return out
}

func printSpec(a *app, s *steps.Spec) {
	fmt.Fprintf(a.stdout, "%s — %s\n\n%s\n", s.Kind, s.Title, s.Summary)
	if s.Doc != "" {
		fmt.Fprintf(a.stdout, "\n%s\n", s.Doc)
	}
	if s.Mutates {
		fmt.Fprintln(a.stdout, "\nChanges things; its undo is journaled before the change.")
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nPARAM\tTYPE\tREQUIRED\tDEFAULT\tDOC")
	for _, p := range s.Params {
		req, def := "", ""
		if p.Required {
			req = "yes"
		}
		if p.Default != nil {
			def = steps.FormatValue(p.Default)
		}
		t := string(p.Type)
		if p.Sensitive {
			t += " (sensitive)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Name, t, req, def, p.Doc)
	}
	if len(s.Outputs) > 0 {
		fmt.Fprintln(tw, "\nOUTPUT\tTYPE\t\t\tDOC")
		for _, o := range s.Outputs {
			fmt.Fprintf(tw, "%s\t%s\t\t\t%s\n", o.Name, o.Type, o.Doc)
		}
	}
	_ = tw.Flush()
}

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
maps in YAML flow syntax: --param 'command=[echo, hi]'). Outputs are printed as JSON, or
as Octopus output variables with --octopus-output. A mutating step prints the undo it
would journal, so a pipeline can keep it; a gate is a runbook feature, not a step one.`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeKinds,
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, ok := steps.Lookup(args[0])
			if !ok {
				return unknownKind(args[0])
			}
			raw := map[string]any{}
			for _, p := range params {
				k, v, ok := strings.Cut(p, "=")
				if !ok || k == "" {
					return usagef("--param: expected name=value, found %q", redactArg(spec, p))
				}
				if _, dup := raw[k]; dup {
					return usagef("--param: %q given twice", k)
				}
				raw[k] = v
			}
			for _, p := range paramEnvs {
				k, env, ok := strings.Cut(p, "=")
				if !ok || k == "" || env == "" {
					return usagef("--param-env: expected name=ENV_VAR, found %q", p)
				}
				if _, dup := raw[k]; dup {
					return usagef("--param-env: %q given twice", k)
				}
				v, set := os.LookupEnv(env)
				if !set {
					return usagef("--param-env: environment variable %s (for param %q) is not set", env, k)
				}
				raw[k] = v
			}
			bound, errs := spec.Bind(raw)
			if len(errs) > 0 {
				inv := &engine.InvalidError{}
				for _, e := range errs {
					inv.Diags = append(inv.Diags, &engine.Diagnostic{File: spec.Kind, Message: e.Error()})
				}
				return inv
			}
			var undos []steps.Undo
			call := &steps.Call{Params: bound, Log: a.log.With().Str("step", spec.Kind).Logger(), BeforeChange: func(u steps.Undo) error {
				undos = append(undos, u)
				a.log.Info().Str("undo", u.Kind).Msg("undo: " + u.Note)
				return nil
			}}
			a.log.Info().Str("uses", spec.Kind).Msg("step " + spec.Title)
			out, err := spec.New().Run(cmd.Context(), call)
			if err != nil {
				if octo {
					reportStepFailure(a, err)
				}
				return withKind(spec.Kind, err)
			}
			if octo {
				return reportStepOutputs(a, spec, out)
			}
			public := map[string]any{}
			for k, v := range out {
				if o := spec.Output(k); o != nil && o.Sensitive {
					public[k] = steps.Redaction
					continue
				}
				public[k] = v
			}
			enc := json.NewEncoder(a.stdout)
			enc.SetIndent("", "  ")
			res := map[string]any{"kind": spec.Kind, "outputs": public}
			if len(undos) > 0 {
				for i := range undos {
					undos[i].Params = spec2Redacted(undos[i])
				}
				res["undo"] = undos
			}
			return enc.Encode(res)
		},
	}
	run.Flags().StringArrayVar(&params, "param", nil, "a step param: --param name=value (repeatable)")
	run.Flags().StringArrayVar(&paramEnvs, "param-env", nil, "a step param read from an environment variable: --param-env name=ENV_VAR (for secrets: arguments show in ps)")
	run.Flags().BoolVar(&octo, "octopus-output", false, "print outputs as Octopus output variables (service messages)")
	enumVarP(run.Flags(), &output, "output", "o", "json", []string{"json"}, "output format: json")
	c.AddCommand(run)
	return c
}

// spec2Redacted hides sensitive params of an undo before printing it.
func spec2Redacted(u steps.Undo) map[string]any {
	if s, ok := steps.Lookup(u.Kind); ok {
		return s.Redacted(u.Params)
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

// reportStepOutputs and reportStepFailure are replaced when the Octopus
// service-message writer is linked in.
var (
	reportStepOutputs = func(a *app, s *steps.Spec, out steps.Outputs) error {
		return json.NewEncoder(a.stdout).Encode(out)
	}
	reportStepFailure = func(a *app, err error) {}
)
