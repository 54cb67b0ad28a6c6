package report

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/internal/state"
)

// Recorder is a sink that keeps each run's timeline in the state store and
// writes its HTML report whenever the run finishes (succeeded, failed,
// rolled back, interrupted or stopped between phases). A run continued by
// another process (a later phase, resume, rollback) is appended to the
// timeline it already has.
type Recorder struct {
	Store   state.Store
	Key     string
	Runbook *engine.Runbook
	// Dir returns the directory the report of a run is written to.
	Dir func(runID string) string
	// Written, if set, is told the path of each report written.
	Written func(path string)
	// Failed, if set, is told what went wrong; a report must never fail
	// a run.
	Failed func(error)

	cur     *Timeline
	pending []engine.Event
}

// Sink returns the recorder as an engine sink.
func (r *Recorder) Sink() engine.Sink { return r.handle }

func (r *Recorder) fail(err error) {
	if err != nil && r.Failed != nil {
		r.Failed(err)
	}
}

func (r *Recorder) handle(e engine.Event) {
	id := e.Common().RunID
	if id == "" {
		// Engine warnings before a run exists (a stale lock taken over)
		// belong to the run that follows.
		r.pending = append(r.pending, e)
		return
	}
	if r.cur == nil || r.cur.RunID != id {
		r.cur = r.open(id)
		for _, p := range r.pending {
			p.Common().RunID = id
			r.fail(r.cur.Add(p))
		}
		r.pending = nil
	}
	r.fail(r.cur.Add(e))
	if _, ok := e.(*engine.RunFinished); ok {
		path, err := r.finish(context.Background())
		r.fail(err)
		if err == nil && path != "" && r.Written != nil {
			r.Written(path)
		}
	}
}

// open returns the stored timeline of a run, or a new one.
func (r *Recorder) open(id string) *Timeline {
	t, err := Load(context.Background(), r.Store, r.Key, id)
	r.fail(err)
	if t == nil {
		t = &Timeline{RunID: id, Runbook: r.Runbook.Name}
	}
	t.Version = Version
	t.Colours = nil
	for _, c := range r.Runbook.Colours {
		t.Colours = append(t.Colours, c.Name)
	}
	t.Sensitive = nil
	for _, in := range r.Runbook.Inputs {
		if in.Sensitive {
			t.Sensitive = append(t.Sensitive, in.Name)
		}
	}
	return t
}

// finish stores the timeline with the run's record and writes the report.
func (r *Recorder) finish(ctx context.Context) (string, error) {
	t := r.cur
	rec, err := r.Store.Load(ctx, r.Key)
	if err != nil {
		return "", err
	}
	if rec != nil && rec.Run != nil && rec.Run.ID == t.RunID {
		t.Run = rec.Run
	}
	if tl, ok := r.Store.(state.Timelines); ok {
		b, err := t.Fit(MaxStored)
		if err != nil {
			return "", err
		}
		if err := tl.PutTimeline(ctx, r.Key, t.RunID, b); err != nil {
			return "", err
		}
	}
	if r.Dir == nil {
		return "", nil
	}
	dir := r.Dir(t.RunID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("run report: %w", err)
	}
	path := filepath.Join(dir, t.RunID+".html")
	f, err := os.Create(path)
	if err != nil {
		return "", fmt.Errorf("run report: %w", err)
	}
	if err := Render(f, t); err != nil {
		f.Close()
		return "", fmt.Errorf("run report: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("run report: %w", err)
	}
	return path, nil
}
