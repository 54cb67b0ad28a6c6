package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

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
