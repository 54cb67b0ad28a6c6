package engine

import (
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
)

// TestDecideRecovery states the recovery policy as a table: for each
// previous run and setting, what a new run does first and next.
func TestDecideRecovery(t *testing.T) {
	phases := []string{"prepare", "deploy", "finish"}
	run := func(status string, done ...string) *state.Run {
		return &state.Run{ID: "r1", Runbook: "rb", Status: status, Phases: done, App: "shop"}
	}
	cases := []struct {
		name     string
		prev     *state.Run
		phase    string
		recover  string
		app      string
		rollback bool
		next     nextStep
		why      string // a part of the refusal
	}{
		{name: "first run", next: nextStart},
		{name: "after a success", prev: run(state.StatusSucceeded), next: nextStart},
		{name: "after a full rollback", prev: run(state.StatusRolledBack), recover: RecoverRollback, next: nextStart},
		{name: "crashed, default refuses", prev: run(state.StatusRunning), next: nextRefuse, why: "run r1 of \"rb\" did not finish (status running)"},
		{name: "failed, fail refuses", prev: run(state.StatusFailed), recover: RecoverFail, next: nextRefuse, why: "did not finish (status failed)"},
		{name: "interrupted, resume", prev: run(state.StatusInterrupted), recover: RecoverResume, next: nextResume},
		{name: "rollback failed, rollback then start", prev: run(state.StatusRollbackErr), recover: RecoverRollback, rollback: true, next: nextStart},
		{name: "bad recover mode", prev: run(state.StatusRunning), recover: "maybe", next: nextRefuse, why: `recover: expected fail, rollback or resume, found "maybe"`},
		{name: "bad recover mode unused when nothing is unfinished", prev: run(state.StatusSucceeded), recover: "maybe", next: nextStart},
		{name: "another application", prev: run(state.StatusRunning), recover: RecoverRollback, app: "other", next: nextRefuse, why: `released another application`},
		{name: "another application between phases", prev: run(state.StatusPhaseDone, "prepare"), phase: "deploy", app: "other", next: nextRefuse, why: `stored under "k" released another application`},
		{name: "next phase continues", prev: run(state.StatusPhaseDone, "prepare"), phase: "deploy", next: nextContinue},
		{name: "last phase continues", prev: run(state.StatusPhaseDone, "prepare", "deploy"), phase: "finish", recover: RecoverRollback, next: nextContinue},
		{name: "phase ran already", prev: run(state.StatusPhaseDone, "prepare", "deploy"), phase: "deploy", next: nextRefuse, why: `phase "deploy" of run r1 already ran; the next phase is finish`},
		{name: "phase skipped", prev: run(state.StatusPhaseDone, "prepare"), phase: "finish", next: nextRefuse, why: `phase "finish" needs phase "deploy" to run first`},
		{name: "later phase without a release", phase: "deploy", next: nextRefuse, why: `phase "deploy" needs phase "prepare" to run first`},
		{name: "first phase with no release", phase: "prepare", next: nextStart},
		{name: "full run between phases refuses", prev: run(state.StatusPhaseDone, "prepare"), next: nextRefuse, why: "stopped between phases (done: prepare): continue it with --phase deploy"},
		{name: "first phase again refuses", prev: run(state.StatusPhaseDone, "prepare"), phase: "prepare", next: nextRefuse, why: `phase "prepare" of run r1 already ran; the next phase is deploy`},
		{name: "first phase again with rollback: abandoned release", prev: run(state.StatusPhaseDone, "prepare"), phase: "prepare", recover: RecoverRollback, rollback: true, next: nextStart},
		{name: "first phase again with resume: already ran", prev: run(state.StatusPhaseDone, "prepare"), phase: "prepare", recover: RecoverResume, next: nextRefuse, why: `phase "prepare" of run r1 already ran`},
		{name: "another runbook between phases, rollback", prev: &state.Run{ID: "r1", Runbook: "old", Status: state.StatusPhaseDone, Phases: []string{"prepare"}}, phase: "prepare", recover: RecoverRollback, rollback: true, next: nextStart},
		{name: "crashed, rollback, then the phase order refuses", prev: run(state.StatusRunning), phase: "deploy", recover: RecoverRollback, rollback: true, next: nextRefuse, why: `phase "deploy" needs phase "prepare" to run first`},
		{name: "crashed, resume ignores the phase", prev: run(state.StatusRunning), phase: "deploy", recover: RecoverResume, next: nextResume},
		{name: "no application recorded", prev: &state.Run{ID: "r1", Runbook: "rb", Status: state.StatusInterrupted}, app: "other", recover: RecoverResume, next: nextResume},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			app := c.app
			if app == "" {
				app = "shop"
			}
			d := decideRecovery(recoveryState{Prev: c.prev, Runbook: "rb", Phases: phases, Phase: c.phase, Recover: c.recover, App: app, Key: "k"})
			if d.RollbackFirst != c.rollback || d.Next != c.next {
				t.Fatalf("decision = {rollback first: %v, next: %d}, want {%v, %d} (why: %q)", d.RollbackFirst, d.Next, c.rollback, c.next, d.Why)
			}
			if c.why == "" && d.Why != "" || !strings.Contains(d.Why, c.why) {
				t.Fatalf("why = %q, want it to contain %q", d.Why, c.why)
			}
		})
	}
}
