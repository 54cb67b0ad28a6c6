package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "flow.approval",
		Title:   "Wait for approval",
		Summary: "Waits until an operator approves (or rejects) by creating a file, or fails at a timeout.",
		Doc: "The step polls for `file`. When it appears the run goes on, unless its first " +
			"word is `reject`: then the step fails with the rest of the file as the reason, " +
			"which rolls the release back. Approve with `echo approved by ann > FILE` (or just " +
			"`touch FILE`), reject with `echo reject 5xx rate too high > FILE`. With `consume` " +
			"(the default) the file is removed once read, so an old approval can never let a " +
			"later run through.\n\n" +
			"This suits runs started from a terminal or a chat bot that can write the file on the " +
			"run's host. Inside Octopus, split the runbook into phases instead and put an " +
			"Octopus Manual Intervention step between them: the task then waits in Octopus, " +
			"with its permissions and audit trail, rather than inside a running step.",
		Rules: []steps.Rule{
			steps.Length("file", 1, 0),
			steps.PositiveDuration("every"),
		},
		Params: []steps.Param{
			{Name: "file", Type: steps.String, Required: true,
				Doc:      "Path of the approval file; the run goes on once it exists.",
				Examples: []any{"/tmp/web-release.approve"}},
			{Name: "timeout", Type: steps.Duration, Default: time.Hour,
				Doc: "How long to wait for a decision before the step fails."},
			{Name: "every", Type: steps.Duration, Default: 2 * time.Second,
				Doc: "How often to look for the file."},
			{Name: "consume", Type: steps.Bool, Default: true,
				Doc: "Remove the file once it has been read, so that each run needs its own approval."},
			{Name: "message", Type: steps.String,
				Doc:      "What the approver should check; logged with the instructions when the wait starts.",
				Examples: []any{"check the green dashboards at 10% before going on"}},
		},
		Outputs: []steps.Output{
			{Name: "note", Type: steps.String, Doc: "The approval file's text (at most 1 KiB), e.g. who approved."},
			{Name: "waited", Type: steps.Duration, Doc: "How long the run waited for the decision."},
		},
		New: func() steps.Step { return steps.StepFunc(approval) },
	})
}

// noteLimit bounds the approval text kept as an output: it travels through
// the journal and Octopus output variables.
const noteLimit = 1 << 10

func approval(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	p := call.Params
	file := p.String("file")
	if file == "" {
		return nil, errors.New("param \"file\": must not be empty")
	}
	timeout, every := p.Duration("timeout"), p.Duration("every")
	if every <= 0 {
		every = 2 * time.Second
	}
	started := time.Now()
	ev := call.Log.Warn().Str("file", file).Stringer("timeout", timeout)
	if m := p.String("message"); m != "" {
		ev = ev.Str("check", m)
	}
	ev.Msg("waiting for approval: create the file to go on, or write 'reject REASON' into it to roll back")

	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		note, found, err := settledApproval(ctx, file, min(every, settle))
		if err != nil {
			return nil, err
		}
		if found {
			if p.Bool("consume") {
				if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
					// A file that cannot be removed would approve the next
					// run too; refuse rather than leave it.
					return nil, fmt.Errorf("consume %s: %w", file, err)
				}
			}
			waited := time.Since(started)
			if word, rest, _ := strings.Cut(note, " "); strings.EqualFold(strings.TrimSpace(word), "reject") {
				reason := strings.TrimSpace(rest)
				if reason == "" {
					reason = "no reason given"
				}
				return steps.Outputs{"note": note, "waited": waited}, fmt.Errorf("rejected: %s", reason)
			}
			call.Log.Info().Str("note", note).Stringer("waited", waited).Msg("approved")
			return steps.Outputs{"note": note, "waited": waited}, nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) && time.Since(started) >= timeout {
				return nil, fmt.Errorf("no decision in %s (%s was not created)", timeout, file)
			}
			return nil, fmt.Errorf("wait for %s interrupted: %w", file, ctx.Err())
		}
	}
}

// settle is the longest pause between the two reads that settledApproval
// compares.
const settle = 200 * time.Millisecond

// settledApproval reads the approval file twice, pause apart, and reports
// it found only when both reads agree. A writer creates the file before it
// writes the text (`echo reject REASON > FILE` opens with O_TRUNC first), so
// a single read can see an empty file, which approves, while the operator
// is in the middle of rejecting.
func settledApproval(ctx context.Context, file string, pause time.Duration) (string, bool, error) {
	first, found, err := readApproval(file)
	if err != nil || !found {
		return first, found, err
	}
	select {
	case <-time.After(pause):
	case <-ctx.Done():
		return "", false, nil
	}
	second, found, err := readApproval(file)
	if err != nil || !found || second != first {
		// Still being written (or removed again): look at the next tick.
		return "", false, err
	}
	return second, true, nil
}

// readApproval reads the approval file: found is false while it does not
// exist. The text is trimmed and bounded; a single line "reject" and an
// empty file are both possible answers.
func readApproval(file string) (note string, found bool, err error) {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("open %s: %w", file, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, noteLimit))
	if err != nil {
		return "", false, fmt.Errorf("read %s: %w", file, err)
	}
	note = strings.Join(strings.Fields(string(b)), " ")
	return note, true, nil
}
