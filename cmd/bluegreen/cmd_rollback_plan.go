package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// undoPlan is one undo `rollback --plan` lists.
type undoPlan struct {
	Seq    int            `json:"seq"`
	Step   string         `json:"step"`
	Kind   string         `json:"kind"`
	Undo   string         `json:"undo"`
	Note   string         `json:"note,omitempty"`
	Params map[string]any `json:"params"`
	State  string         `json:"state"`
}

// addRollbackPlan gives rollback a --plan flag: the undos a rollback would
// run, newest first, read from the stored journal without taking the lock
// or changing anything.
func addRollbackPlan(a *app, c *cobra.Command) {
	var plan bool
	c.Flags().BoolVar(&plan, "plan", false, "list the undos a rollback would run, newest first, and change nothing")
	run := c.RunE
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if !plan {
			return run(cmd, args)
		}
		output := cmd.Flags().Lookup("output").Value.String()
		if err := checkOutput(output, false); err != nil {
			return err
		}
		rb, err := a.load(args[0])
		if err != nil {
			return err
		}
		spec, _ := cmd.Flags().GetString("state")
		key, err := keyFromFlags(cmd, rb)
		if err != nil {
			return err
		}
		st, err := state.Open(spec, defaultStateDir(rb))
		if err != nil {
			return usagef("--state: %v", err)
		}
		rec, err := st.Load(cmd.Context(), key)
		if err != nil {
			return err
		}
		if rec == nil || rec.Run == nil {
			return usagef("nothing to roll back for %q: no run recorded", rb.Name)
		}
		r := rec.Run
		undos := []undoPlan{}
		for i := len(r.Journal) - 1; i >= 0; i-- {
			e := r.Journal[i]
			if e.State == state.EntryUndone {
				continue
			}
			params := e.Undo.Params
			if s, ok := steps.Lookup(e.Undo.Kind); ok {
				params = s.Redacted(params)
			}
			undos = append(undos, undoPlan{Seq: e.Seq, Step: e.Step, Kind: e.Kind, Undo: e.Undo.Kind, Note: e.Undo.Note, Params: params, State: e.State})
		}
		if output == "json" {
			enc := json.NewEncoder(a.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(map[string]any{"runbook": rb.Name, "run_id": r.ID, "status": r.Status, "live": rec.Live, "restores_live": r.Live, "undos": undos})
		}
		if len(undos) == 0 {
			fmt.Fprintf(a.stdout, "run %s (%s): nothing to undo\n", r.ID, r.Status)
			return nil
		}
		fmt.Fprintf(a.stdout, "run %s (%s): a rollback would run %d undo(s), newest first, and leave %s live:\n\n", r.ID, r.Status, len(undos), orDash(r.Live))
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SEQ\tSTEP\tUNDO\tWHAT")
		for _, u := range undos {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", u.Seq, u.Step, u.Undo, u.Note)
		}
		return tw.Flush()
	}
}
