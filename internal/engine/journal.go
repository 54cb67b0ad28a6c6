package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// save writes the record, fenced by the run's lease: a run that lost its
// lock cannot write.
func (rc *runCtx) save() error {
	if err := rc.x.Store.SaveHeld(context.WithoutCancel(rc.ctx), rc.key, rc.lease.runID, rc.rec); err != nil {
		if errors.Is(err, state.ErrLeaseLost) {
			return err
		}
		return fmt.Errorf("save state of %q: %w", rc.key, err)
	}
	return nil
}

// addHistory appends the run to the history; the store bounds it
// (state.BoundHistory), keeping every run that changed something.
func (rc *runCtx) addHistory() {
	r := rc.run
	rc.rec.History = append(rc.rec.History, state.Summary{ID: r.ID, Status: r.Status, Started: r.Started, Finished: r.Finished, Live: rc.rec.Live, Error: r.Error, Changes: len(r.Journal)})
}

func (rc *runCtx) markDone(path string) error {
	rc.done[path] = true
	rc.run.Done = append(rc.run.Done, path)
	return rc.save()
}

// journal records an undo durably before the step changes anything. Values
// of sensitive inputs are stored as references (${{ inputs.NAME }}) and
// resolved again at rollback time, so no secret is written to the journal.
func (rc *runCtx) journal(st *Step, path string, u steps.Undo) error {
	spec, ok := rc.x.Registry.Lookup(u.Kind)
	if !ok {
		return fmt.Errorf("undo names unknown step kind %q", u.Kind)
	}
	params := map[string]any{}
	secrets := rc.secrets.all()
	// The undo's params are stored by their spec's types (durations as
	// text), so that they bind again when a later process reads them.
	for k, v := range spec.Encode(u.Params) {
		jv, found := journalValue(v, secrets)
		if p := spec.Param(k); p != nil && p.Sensitive && !found {
			// A secret that did not come from an input cannot be stored;
			// rollback will ask for it.
			jv = steps.Redaction
		}
		params[k] = jv
	}
	if err := rc.lease.check(); err != nil {
		return err
	}
	e := state.Entry{Seq: len(rc.run.Journal) + 1, Step: path, Kind: st.Uses, Undo: steps.Undo{Kind: u.Kind, Params: params, Note: rc.scrub(u.Note), RestoresCapacity: u.RestoresCapacity, Settle: u.Settle}, State: state.EntryPending, At: time.Now().UTC()}
	rc.run.Journal = append(rc.run.Journal, e)
	if err := rc.save(); err != nil {
		rc.run.Journal = rc.run.Journal[:len(rc.run.Journal)-1]
		return fmt.Errorf("journal undo: %w", err)
	}
	rc.x.emit(rc, &ChangeRecorded{Path: path, Seq: e.Seq, Undo: e.Undo})
	// Saving took time: make sure the lease is still ours before the
	// step goes on to make its change.
	return rc.lease.check()
}
