package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// Shell completion (cobra's `bluegreen completion bash|zsh|fish|powershell`)
// knows the step kinds, a runbook's inputs for --set and the values of
// the flags that take one of a few words.

// completeKinds completes a step kind (`bluegreen steps aws.e<TAB>`).
func completeKinds(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, s := range steps.All() {
		if strings.HasPrefix(s.Kind, toComplete) {
			out = append(out, s.Kind+"\t"+s.Summary)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// fixedValues completes a flag that takes one of a few words.
func fixedValues(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeRunbook completes the RUNBOOK argument with YAML files.
func completeRunbook(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
}

// completeSet completes --set with the inputs of the runbook named by the
// command's argument: "name=" before the '=', an enum's or a bool's values
// after it.
func completeSet(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	rb, err := engine.Load(args[0], steps.Default)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	if name, _, ok := strings.Cut(toComplete, "="); ok {
		in := rb.Input(name)
		if in == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		vals := in.Enum
		if in.Type == steps.Bool {
			vals = []string{"true", "false"}
		}
		var out []string
		for _, v := range vals {
			out = append(out, name+"="+v)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, in := range rb.Inputs {
		desc := string(in.Type)
		if in.Description != "" {
			desc += ": " + in.Description
		}
		out = append(out, in.Name+"=\t"+desc)
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// registerRunCompletions adds the completions every run-like command has.
func registerRunCompletions(c *cobra.Command) {
	c.ValidArgsFunction = completeRunbook
	for flag, fn := range map[string]func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective){
		"set":      completeSet,
		"progress": fixedValues("auto", "always", "never"),
		"recover":  fixedValues(engine.RecoverFail, engine.RecoverRollback, engine.RecoverResume),
		"output":   fixedValues("text", "json"),
	} {
		if c.Flags().Lookup(flag) != nil {
			_ = c.RegisterFlagCompletionFunc(flag, fn)
		}
	}
}

// completeRunIDs completes report's --run with the runs in the history.
func (a *app) completeRunIDs(f *runFlags) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) == 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		rb, err := engine.Load(args[0], steps.Default)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		st, err := state.Open(f.stateSpec, defaultStateDir(rb))
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		key, err := keyFromFlags(cmd, rb)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		rec, err := st.Load(cmd.Context(), key)
		if err != nil || rec == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for i := len(rec.History) - 1; i >= 0; i-- {
			h := rec.History[i]
			out = append(out, h.ID+"\t"+h.Status)
		}
		if rec.Run != nil && (len(rec.History) == 0 || rec.History[len(rec.History)-1].ID != rec.Run.ID) {
			out = append([]string{rec.Run.ID + "\t" + rec.Run.Status}, out...)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
