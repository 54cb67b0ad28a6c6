package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
)

// rollbackPace spaces the traffic undos of a rollback that restored
// capacity first. Rolling back a finished release brings the old colour
// back from zero; its instances are healthy (the capacity undo waited for
// that) but cold: empty caches, fresh connection pools, autoscaling that
// has not seen load yet. The journal holds one weights undo per step the
// release took, so the traffic already goes back in those steps; the pace
// holds each step for the undo's Settle before the next one, as the
// release held each step for its bake. A rollback that did not restore
// capacity (a release that failed half-way, whose old colour kept all its
// instances and part of the traffic) moves traffic back without pausing:
// there the new colour is the broken one, and every second counts.
type rollbackPace struct {
	restored bool
	last     *state.Entry
}

// applied records an undo that succeeded.
func (p *rollbackPace) applied(e *state.Entry) {
	if e.Undo.RestoresCapacity {
		p.restored = true
	}
	p.last = e
}

// before waits, when e continues a stepped traffic shift back, for the
// previous step's settle time.
func (p *rollbackPace) before(ctx context.Context, rc *runCtx, e *state.Entry) error {
	if !p.restored || p.last == nil || p.last.Undo.Settle <= 0 || p.last.Undo.Kind != e.Undo.Kind {
		return nil
	}
	d := p.last.Undo.Settle
	rc.x.emit(rc, &Message{Level: "info", Text: fmt.Sprintf("holding the restored weights of %s for %s before the next step back (%s)", p.last.Step, d, e.Step)})
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// rollbackHalted ends a rollback at an undo that failed with steps.Halt:
// the undos before it in the journal stay unapplied (traffic stays where
// it is), and the error says what was left and how to finish.
func (rc *runCtx) rollbackHalted(e *state.Entry, idx int, err error) error {
	var left []string
	for i := idx - 1; i >= 0; i-- {
		if le := rc.run.Journal[i]; le.State != state.EntryUndone {
			left = append(left, fmt.Sprintf("%d %s (%s)", le.Seq, le.Step, le.Undo.Kind))
		}
	}
	msg := fmt.Sprintf("rollback stopped at undo %d (%s, %s): %s; traffic was left where it is", e.Seq, e.Step, e.Undo.Kind, rc.scrub(err.Error()))
	if len(left) > 0 {
		msg += fmt.Sprintf("; not applied: %s; fix the cause and run `bluegreen rollback` again to finish", strings.Join(left, ", "))
	}
	rc.x.emit(rc, &Message{Level: "warn", Text: msg})
	return fmt.Errorf("%s", msg)
}
