package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/servicemsg"
	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/report"
)

// reportDir is where a run's HTML report goes: $BLUEGREEN_REPORT_DIR when
// set, else beside the state (the file store's <key>.runs directory, or
// .bluegreen/<key>.runs beside the runbook for a remote store).
func reportDir(st state.Store, key string, rb *engine.Runbook) string {
	if d := os.Getenv("BLUEGREEN_REPORT_DIR"); d != "" {
		return d
	}
	if fs, ok := st.(*state.FileStore); ok {
		if d, err := fs.RunsDir(key); err == nil {
			return d
		}
	}
	name, err := state.FileName(key)
	if err != nil {
		name = "runs"
	}
	return filepath.Join(filepath.Dir(rb.File), ".bluegreen", name+".runs")
}

// recorder keeps the run's timeline in the store and writes its report
// when the run finishes; the path is remembered for the Octopus artifact.
func (a *app) recorder(st state.Store, key string, rb *engine.Runbook) engine.Sink {
	r := &report.Recorder{
		Store: st, Key: key, Runbook: rb,
		Dir:     func(string) string { return reportDir(st, key, rb) },
		Written: func(p string) { a.reportPath = p; a.log.Info().Str("report", p).Msg("run report written") },
		Failed:  func(err error) { a.log.Warn().Err(err).Msg("run report not written") },
	}
	return r.Sink()
}

func (a *app) reportCmd() *cobra.Command {
	f := &runFlags{}
	var runID, out string
	c := &cobra.Command{
		Use:   "report RUNBOOK",
		Short: "Render a run's HTML report again from the state store",
		Long: `report renders the self-contained HTML report of a run (the latest, or --run ID
for any run in the history) from the timeline the state store keeps: traffic share per
colour over time, step spans, gate polls, the rollback, the plan as run, inputs
(sensitive ones masked), outputs, the journal and the failure. Nothing is contacted
but the state store.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rb, err := a.load(args[0])
			if err != nil {
				return err
			}
			st, err := state.Open(f.stateSpec, defaultStateDir(rb))
			if err != nil {
				return &usageError{fmt.Errorf("--state: %w", err)}
			}
			raw, err := f.inputs()
			if err != nil {
				return err
			}
			key, err := (&engine.Executor{Key: f.key, KeyScope: f.keyScope}).KeyFor(rb, raw)
			if err != nil {
				return err
			}
			t, err := a.timeline(cmd.Context(), st, key, runID)
			if err != nil {
				return err
			}
			if out == "" || out == "-" {
				return report.Render(a.stdout, t)
			}
			fh, err := os.Create(out)
			if err != nil {
				return &usageError{fmt.Errorf("--out: %w", err)}
			}
			if err := report.Render(fh, t); err != nil {
				fh.Close()
				return err
			}
			if err := fh.Close(); err != nil {
				return err
			}
			a.log.Info().Str("report", out).Str("run", t.RunID).Msg("run report written")
			return nil
		},
	}
	f.addInputs(c)
	f.addState(c)
	c.Flags().StringVar(&runID, "run", "", "run id (default: the latest run; `bluegreen status` lists the history)")
	c.Flags().StringVar(&out, "out", "", "file to write (default: stdout)")
	c.ValidArgsFunction = completeRunbook
	_ = c.RegisterFlagCompletionFunc("run", a.completeRunIDs(f))
	return c
}

// timeline finds a run's stored timeline: the latest run's when id is "".
func (a *app) timeline(ctx context.Context, st state.Store, key, id string) (*report.Timeline, error) {
	if id == "" {
		rec, err := st.Load(ctx, key)
		if err != nil {
			return nil, err
		}
		if rec == nil || rec.Run == nil {
			return nil, usagef("no run recorded for %q in %s", key, st)
		}
		id = rec.Run.ID
	}
	t, err := report.Load(ctx, st, key, id)
	if err != nil {
		return nil, err
	}
	if t == nil {
		if _, ok := st.(state.Timelines); !ok {
			return nil, errors.New("this state store keeps no run timelines")
		}
		return nil, usagef("no timeline stored for run %q of %q (runs from before run reports existed have none)", id, key)
	}
	return t, nil
}

// attachHTMLReport attaches the run's HTML report to the Octopus
// deployment.
func attachHTMLReport(a *app) error {
	if a.reportPath == "" {
		return nil
	}
	abs, err := filepath.Abs(a.reportPath)
	if err != nil {
		return err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return err
	}
	// The name says what it is among the deployment's artifacts.
	return servicemsg.NewWriter(a.service).CreateArtifact(abs, "bluegreen-report-"+filepath.Base(abs), fi.Size())
}

// defaultStateDir is the file store's directory when --state is not given.
func defaultStateDir(rb *engine.Runbook) string {
	return filepath.Join(filepath.Dir(rb.File), ".bluegreen")
}
