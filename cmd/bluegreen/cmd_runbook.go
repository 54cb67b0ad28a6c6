package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// runFlags are shared by run, resume, rollback, plan and status.
type runFlags struct {
	sets          []string
	setFiles      []string
	inputsFile    string
	phase         string
	stateSpec     string
	key           string
	octopusOutput bool
	recover       string
	progress      string
	output        string
	live          string
	offline       bool
	lease         time.Duration
	keyScope      string
}

func (f *runFlags) addInputs(c *cobra.Command) {
	c.Flags().StringArrayVar(&f.sets, "set", nil, "set an input: --set key=value (typed by the input's declared type; repeatable)")
	c.Flags().StringVar(&f.inputsFile, "inputs", "", "read inputs from a YAML or JSON file (--set wins over it)")
	c.Flags().StringArrayVar(&f.setFiles, "set-file", nil, "read key=value inputs from a file, one per line (# comments); keeps secrets out of the process arguments")
}

func (f *runFlags) addState(c *cobra.Command) {
	c.Flags().StringVar(&f.stateSpec, "state", "", "state store: a directory (default .bluegreen/ beside the runbook) or dynamodb://TABLE")
	c.Flags().StringVar(&f.key, "key", "", "state key naming the application (default: the runbook's key:, or its name and a digest of the colours)")
	c.Flags().StringVar(&f.keyScope, "key-scope", "", "prefix of the state key, SCOPE/KEY (the Octopus template passes project/environment[/tenant])")
	c.Flags().DurationVar(&f.lease, "lease", 0, "how long the lock stays held without a renewal before another worker may take it over (default $"+leaseEnv+" or 2m)")
}

func (f *runFlags) inputs() (map[string]any, error) {
	raw := map[string]any{}
	if f.inputsFile != "" {
		m, err := engine.ReadInputsFile(f.inputsFile)
		if err != nil {
			return nil, err
		}
		for k, v := range m {
			raw[k] = v
		}
	}
	var lines []string
	for _, path := range f.setFiles {
		b, err := engine.ReadSetFile(path)
		if err != nil {
			return nil, &usageError{fmt.Errorf("--set-file: %w", err)}
		}
		for _, l := range strings.Split(string(b), "\n") {
			l = strings.TrimSpace(strings.TrimSuffix(l, "\r"))
			if l != "" && !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
	}
	sets, err := engine.ParseSets(append(lines, f.sets...))
	if err != nil {
		return nil, err
	}
	for k, v := range sets {
		raw[k] = v
	}
	return raw, nil
}

func (a *app) load(path string) (*engine.Runbook, error) {
	return engine.Load(path, steps.Default)
}

// prepare loads and validates a runbook, reads its inputs from the flags
// and builds an executor: the shared start of every runbook command.
func (a *app) prepare(cmd *cobra.Command, path string, f *runFlags) (*engine.Runbook, map[string]any, *engine.Executor, error) {
	rb, err := a.load(path)
	if err != nil {
		return nil, nil, nil, err
	}
	raw, err := f.inputs()
	if err != nil {
		return nil, nil, nil, err
	}
	x, err := a.executor(cmd, rb, f, raw)
	if err != nil {
		return nil, nil, nil, err
	}
	return rb, raw, x, nil
}

// prepareKey is prepare for the commands that act on an application's
// state without running it (status, unlock): it also finds the state key
// the runbook and inputs (or --key) name.
func (a *app) prepareKey(cmd *cobra.Command, path string, f *runFlags) (*engine.Runbook, map[string]any, *engine.Executor, string, error) {
	rb, raw, x, err := a.prepare(cmd, path, f)
	if err != nil {
		return nil, nil, nil, "", err
	}
	key, err := x.KeyFor(rb, raw)
	if err != nil {
		return nil, nil, nil, "", err
	}
	return rb, raw, x, key, nil
}

func (a *app) executor(cmd *cobra.Command, rb *engine.Runbook, f *runFlags, raw map[string]any) (*engine.Executor, error) {
	st, err := state.Open(f.stateSpec, filepath.Join(filepath.Dir(rb.File), ".bluegreen"))
	if err != nil {
		return nil, &usageError{fmt.Errorf("--state: %w", err)}
	}
	lease, err := leaseFlag(f.lease)
	if err != nil {
		return nil, err
	}
	x := &engine.Executor{Registry: steps.Default, Store: st, Key: f.key, Phase: f.phase, Log: a.log, Recover: f.recover, Secrets: a.secrets, Lease: lease, KeyScope: f.keyScope}
	// The recorder comes first so that the report exists when the other
	// sinks see the run finish (the Octopus sink attaches it). It needs the
	// application's state key; when the inputs do not name it, the command
	// itself fails on the same inputs and there is no run to report.
	if key, err := x.KeyFor(rb, raw); err == nil {
		x.Sinks = append(x.Sinks, a.recorder(st, key, rb))
	}
	switch show, err := a.showProgress(cmd, f); {
	case err != nil:
		return nil, err
	case show:
		// The progress view replaces the per-event log lines; steps' own
		// log lines below warning would only break it up.
		x.Sinks = append(x.Sinks, engine.ProgressSink(a.stderr, isTerminal(a.stderr)))
		if !cmd.Flags().Changed("log-level") {
			x.Log = x.Log.Level(zerolog.WarnLevel)
		}
	default:
		x.Sinks = append(x.Sinks, engine.LogSink(a.log))
	}
	if f.octopusOutput {
		x.Sinks = append(x.Sinks, newOctopusSink(a, rb))
	}
	return x, nil
}

// showProgress decides whether the live progress view is drawn: always,
// never, or (auto) on an interactive terminal with console logs and no
// Octopus service messages.
func (a *app) showProgress(cmd *cobra.Command, f *runFlags) (bool, error) {
	switch f.progress {
	case "", "never":
		return false, nil
	case "always":
		return true, nil
	case "auto":
		return !f.octopusOutput && a.logFormat == "auto" && isTerminal(a.stderr), nil
	}
	return false, usagef("--progress: expected auto, always or never, found %q", f.progress)
}

func (a *app) runLike(use, short, long string, fn func(x *engine.Executor, cmd *cobra.Command, rb *engine.Runbook, raw map[string]any) (*engine.Result, error), phase bool) *cobra.Command {
	f := &runFlags{}
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(f.output, f.octopusOutput); err != nil {
				return err
			}
			began := time.Now()
			rb, raw, x, err := a.prepare(cmd, args[0], f)
			if err != nil {
				if f.output == "json" {
					return a.printResult(cmd.Name(), args[0], nil, err, time.Since(began))
				}
				return err
			}
			res, err := fn(x, cmd, rb, raw)
			if f.output == "json" {
				return a.printResult(cmd.Name(), rb.Name, res, err, time.Since(began))
			}
			if res != nil && err == nil {
				fmt.Fprintf(a.stdout, "%s: %s, live colour %s (run %s)\n", rb.Name, res.Status, orDash(res.Live), res.RunID)
			}
			return err
		},
	}
	enumVarP(c.Flags(), &f.output, "output", "o", "text", []string{"text", "json"}, "output format: text, or json (one result object on stdout; logs stay on stderr)")
	f.addInputs(c)
	f.addState(c)
	if phase {
		c.Flags().StringVar(&f.phase, "phase", "", "run only the steps of this phase (later phases run in later invocations)")
		enumVarP(c.Flags(), &f.recover, "recover", "", "fail", []string{"fail", "rollback", "resume"}, "when the last run did not finish (crash, interrupt, stop): fail, rollback (undo it, then run) or resume (finish it)")
	}
	enumVarP(c.Flags(), &f.progress, "progress", "", "auto", []string{"auto", "always", "never"}, "live progress view on stderr instead of per-event log lines: auto (on a terminal), always, never")
	c.Flags().BoolVar(&f.octopusOutput, "octopus-output", false, "print Octopus service messages (output variables, warnings, result message); logs go to stdout")
	registerRunCompletions(c)
	return c
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (a *app) runCmd() *cobra.Command {
	return a.runLike("run RUNBOOK", "Run a runbook: swap the colours, gated and reversible",
		`run validates the runbook, takes its lock, detects the live colour and runs the steps.
Before any change its undo is journaled; when a step or gate fails the journal is
rolled back (or kept, with on_failure: stop). Exit 0 success, 1 failed, 2 invalid,
3 lock held, 130/143 interrupted.`,
		func(x *engine.Executor, cmd *cobra.Command, rb *engine.Runbook, raw map[string]any) (*engine.Result, error) {
			return x.Run(cmd.Context(), rb, raw)
		}, true)
}

func (a *app) resumeCmd() *cobra.Command {
	return a.runLike("resume RUNBOOK", "Continue an interrupted or stopped run from its journal",
		`resume continues the latest unfinished run: completed steps are skipped and the step
that was in progress runs again. Sensitive inputs are not journaled: pass them again.`,
		func(x *engine.Executor, cmd *cobra.Command, rb *engine.Runbook, raw map[string]any) (*engine.Result, error) {
			return x.Resume(cmd.Context(), rb, raw)
		}, false)
}

func (a *app) rollbackCmd() *cobra.Command {
	c := a.runLike("rollback RUNBOOK", "Undo the latest run's changes from its journal, newest first",
		`rollback applies the recorded undos of the latest run in reverse order: after a crash,
an interrupt, a stopped failure, or a finished release you want to revert.`,
		func(x *engine.Executor, cmd *cobra.Command, rb *engine.Runbook, raw map[string]any) (*engine.Result, error) {
			return x.Rollback(cmd.Context(), rb, raw)
		}, false)
	addRollbackPlan(a, c)
	return c
}

func (a *app) statusCmd() *cobra.Command {
	f := &runFlags{}
	c := &cobra.Command{
		Use:   "status RUNBOOK",
		Short: "Show the live colour read from the world beside the remembered one, the latest run and the lock holder",
		Long: `status runs the runbook's detect step, which only reads, and shows the live colour
and traffic split it finds beside the live colour the state remembers, saying when
they differ (a switch made by hand, a run that did not finish). Pass the runbook's
inputs as for run (--set, --inputs, --set-file).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rb, raw, x, key, err := a.prepareKey(cmd, args[0], f)
			if err != nil {
				return err
			}
			rec, err := x.Store.Load(cmd.Context(), key)
			if err != nil {
				return err
			}
			holder, err := x.Store.Holder(cmd.Context(), key)
			if err != nil {
				return err
			}
			if rec == nil {
				rec = &state.Record{}
			}
			ws, err := x.Status(cmd.Context(), rb, raw, rec)
			if err != nil {
				return err
			}
			if f.output == "json" {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				out := statusObject(rb, rec, holder)
				out["key"] = key
				out["live"], out["remembered"], out["drift"] = ws.Live, ws.Remembered, ws.Drift
				if ws.Traffic != nil {
					out["traffic"] = ws.Traffic
				}
				if ws.DetectError != "" {
					out["detect_error"] = ws.DetectError
				}
				return enc.Encode(out)
			}
			printWorldStatus(a, rb, key, ws)
			if holder != nil {
				fmt.Fprintf(a.stdout, "lock:     held by %s\n", holder)
			} else {
				fmt.Fprintf(a.stdout, "lock:     free\n")
			}
			if r := rec.Run; r != nil {
				fmt.Fprintf(a.stdout, "last run: %s %s (started %s, live %s → idle %s)\n", r.ID, r.Status, r.Started.Format(time.RFC3339), r.Live, r.Idle)
				if r.Error != "" {
					fmt.Fprintf(a.stdout, "error:    %s\n", r.Error)
				}
				pending := 0
				for _, e := range r.Journal {
					if e.State != state.EntryUndone {
						pending++
					}
				}
				fmt.Fprintf(a.stdout, "journal:  %d change(s), %d not undone\n", len(r.Journal), pending)
			} else {
				fmt.Fprintf(a.stdout, "last run: none\n")
			}
			return nil
		},
	}
	f.addInputs(c)
	f.addState(c)
	enumVarP(c.Flags(), &f.output, "output", "o", "text", []string{"text", "json"}, "output format: text or json")
	registerRunCompletions(c)
	return c
}
