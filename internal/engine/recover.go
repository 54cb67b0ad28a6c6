package engine

import (
	"fmt"
	"strings"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
)

// This file holds the recovery policy: what a new run does about the run
// the store last recorded. It is a pure function of the record and the
// executor's settings, so the whole policy can be read (and tested) as one
// table; Run only carries the decision out.

// recoveryState is what the recovery decision looks at.
type recoveryState struct {
	// Prev is the latest run recorded under the key (nil for none).
	Prev *state.Run
	// Runbook and Phases describe the runbook about to run.
	Runbook string
	Phases  []string
	// Phase is the phase asked for ("" runs every step).
	Phase string
	// Recover is the executor's recover mode ("" means RecoverFail).
	Recover string
	// App is the application these inputs name, Key the state key.
	App string
	Key string
}

// nextStep is what a run does once any rollback of the previous run is done.
type nextStep int

const (
	// nextStart starts a new run.
	nextStart nextStep = iota
	// nextContinue continues the previous run with the phase asked for.
	nextContinue
	// nextResume finishes the previous run instead of starting a new one.
	nextResume
	// nextRefuse stops with an InvalidError saying Why.
	nextRefuse
)

// recovery is the decision: optionally undo the previous run first, then
// take the next step.
type recovery struct {
	RollbackFirst bool
	Next          nextStep
	// Why is the refusal's message when Next is nextRefuse. A refusal
	// without RollbackFirst changes nothing; one after a rollback comes
	// from the phase order, checked against the new run.
	Why string
}

// decideRecovery decides what a run does about the previous run. It reads
// nothing but its argument and changes nothing.
func decideRecovery(s recoveryState) recovery {
	prev := s.Prev
	refuse := func(format string, args ...any) recovery {
		return recovery{Next: nextRefuse, Why: fmt.Sprintf(format, args...)}
	}
	between := prev != nil && prev.Status == state.StatusPhaseDone
	continuing := s.Phase != "" && between && prev.Runbook == s.Runbook
	// The first phase asked for again, while a release that already ran it
	// waits between phases, means that release was abandoned: the Octopus
	// deployment failed or was cancelled before its later phases (a failed
	// package deploy, a rejected manual intervention). --recover rollback
	// undoes it and starts a new release, as for a crashed run.
	if continuing && s.Recover == RecoverRollback && s.Phase == s.Phases[0] && contains(prev.Phases, s.Phase) {
		continuing = false
	}
	// A release stopped between phases holds applied changes in its
	// journal: a run that does not continue it must not drop them.
	if between && !continuing && s.Recover != RecoverRollback {
		return refuse("run %s of %q stopped between phases (done: %s): continue it with --phase %s, or undo it with `bluegreen rollback` (or run with --recover rollback)", prev.ID, s.Runbook, strings.Join(prev.Phases, ", "), nextPhase(s.Phases, prev.Phases))
	}
	if (unfinished(prev) || between) && prev.App != "" && prev.App != s.App {
		return refuse("run %s stored under %q released another application (these inputs name a different one): nothing was changed; "+
			"give each application its own state key (the runbook's key:, or --key)", prev.ID, s.Key)
	}
	d := recovery{Next: nextStart}
	if continuing {
		d.Next = nextContinue
	}
	if unfinished(prev) || (between && !continuing) {
		switch s.Recover {
		case RecoverResume:
			return recovery{Next: nextResume}
		case RecoverRollback:
			d = recovery{RollbackFirst: true, Next: nextStart}
			continuing = false
		case "", RecoverFail:
			return refuse("run %s of %q did not finish (status %s): run `bluegreen resume` or `bluegreen rollback` first (or run with --recover rollback|resume)", prev.ID, s.Runbook, prev.Status)
		default:
			return refuse("recover: expected fail, rollback or resume, found %q", s.Recover)
		}
	}
	if s.Phase != "" {
		var have []string
		if continuing {
			have = prev.Phases
		}
		why := ""
		if contains(have, s.Phase) {
			why = fmt.Sprintf("phase %q of run %s already ran; the next phase is %s (or undo the run with `bluegreen rollback`)", s.Phase, prev.ID, nextPhase(s.Phases, have))
		} else {
			for _, p := range s.Phases[:indexOf(s.Phases, s.Phase)] {
				if !contains(have, p) {
					why = fmt.Sprintf("phase %q needs phase %q to run first (bluegreen run --phase %s)", s.Phase, p, p)
					break
				}
			}
		}
		if why != "" {
			d.Next, d.Why = nextRefuse, why
		}
	}
	return d
}

// unfinished reports whether a run stopped before it settled: it crashed,
// was interrupted, or failed and was not (fully) rolled back.
func unfinished(r *state.Run) bool {
	if r == nil {
		return false
	}
	switch r.Status {
	case state.StatusRunning, state.StatusInterrupted, state.StatusFailed, state.StatusRollbackErr:
		return true
	}
	return false
}

func indexOf(l []string, s string) int {
	for i, x := range l {
		if x == s {
			return i
		}
	}
	return -1
}

func nextPhase(all, have []string) string {
	for _, p := range all {
		if !contains(have, p) {
			return p
		}
	}
	return "none (all phases ran)"
}
