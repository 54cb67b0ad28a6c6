package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
)

// leaseEnv sets the lease duration when --lease is not given, so that an
// Octopus project can set it once as an environment variable.
const leaseEnv = "BLUEGREEN_LEASE"

// leaseFlag resolves the lease: the flag, else $BLUEGREEN_LEASE, else the
// store's default (0).
func leaseFlag(flag time.Duration) (time.Duration, error) {
	if flag < 0 {
		return 0, usagef("--lease: expected a positive duration, found %s", flag)
	}
	if flag > 0 {
		return flag, nil
	}
	v := os.Getenv(leaseEnv)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, usagef("%s=%q: expected a positive duration such as 2m", leaseEnv, v)
	}
	return d, nil
}

// unlockCmd breaks an application's lock. A lock whose lease ran out is
// taken over by the next run anyway; unlock is for a person who knows the
// holder is gone and will not wait for its lease (or for a lock without
// a lease, written by an older bluegreen).
func (a *app) unlockCmd() *cobra.Command {
	f := &runFlags{}
	var force bool
	c := &cobra.Command{
		Use:   "unlock RUNBOOK --force",
		Short: "Break the lock of a runbook's application, printing who held it",
		Long: `unlock removes the lock of the application the runbook and inputs (or --key) name,
whoever holds it, and prints the holder. A run that still holds it loses its lease: it
changes nothing more and exits non-zero. The journal is kept: run resume or rollback next.
--force is required, because breaking a live run's lock stops that run.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !force {
				return usagef("unlock breaks the lock whoever holds it: pass --force to confirm")
			}
			rb, _, x, key, err := a.prepareKey(cmd, args[0], f)
			if err != nil {
				return err
			}
			h, err := x.Store.Break(cmd.Context(), key)
			if err != nil {
				return err
			}
			if h == nil {
				fmt.Fprintf(a.stdout, "%s: lock of %q was free\n", rb.Name, key)
				return nil
			}
			fmt.Fprintf(a.stdout, "%s: broke the lock of %q held by %s\n", rb.Name, key, h)
			return nil
		},
	}
	f.addInputs(c)
	f.addState(c)
	c.Flags().BoolVar(&force, "force", false, "confirm breaking the lock")
	return c
}

// keyFromFlags resolves the application's state key from a command's
// --key, --key-scope and input flags, for commands that read the store
// without building an executor (rollback --plan, completions).
func keyFromFlags(cmd *cobra.Command, rb *engine.Runbook) (string, error) {
	fl := cmd.Flags()
	f := &runFlags{}
	f.key, _ = fl.GetString("key")
	f.keyScope, _ = fl.GetString("key-scope")
	f.sets, _ = fl.GetStringArray("set")
	f.setFiles, _ = fl.GetStringArray("set-file")
	f.inputsFile, _ = fl.GetString("inputs")
	raw, err := f.inputs()
	if err != nil {
		return "", err
	}
	return (&engine.Executor{Key: f.key, KeyScope: f.keyScope}).KeyFor(rb, raw)
}
