package engine

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// ProgressSink renders a run for a person at a terminal: one line per
// step, a gate's polls rewritten in place on a single line (with its
// values and verdict), undos during a rollback, and the outcome. It is the
// third consumer of the event stream, beside the log and Octopus sinks.
// With tty false it never rewrites a line: every poll gets its own.
func ProgressSink(w io.Writer, tty bool) Sink {
	p := &progress{w: w, tty: tty}
	return p.handle
}

type progress struct {
	w       io.Writer
	tty     bool
	pending bool // a gate line is open and will be rewritten
}

func (p *progress) line(format string, args ...any) {
	if p.pending {
		fmt.Fprint(p.w, "\r\033[K")
		p.pending = false
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}

func (p *progress) handle(e Event) {
	switch ev := e.(type) {
	case *RunStarted:
		phase := ""
		if ev.Phase != "" {
			phase = ", phase " + ev.Phase
		}
		switch ev.Mode {
		case "rollback":
			p.line("↺ %s: rolling back run %s%s", ev.Runbook, ev.RunID, phase)
		default:
			p.line("▶ %s: live %s, releasing %s (%s %s%s)", ev.Runbook, ev.Live, ev.Idle, ev.Mode, ev.RunID, phase)
		}
	case *StepStarted:
		p.line("  • %-22s %s %s", ev.Path, ev.Kind, clip(compact(ev.Params), 100))
	case *GateEvaluated:
		mark := map[string]string{VerdictPass: "✓", VerdictWait: "…", VerdictFail: "✗", VerdictError: "!"}[ev.Verdict]
		text := fmt.Sprintf("    %s gate %s poll %d, %s: %s", mark, ev.Label, ev.Attempt, ev.Elapsed.Round(100*time.Millisecond), ev.Verdict)
		if len(ev.Values) > 0 {
			text += "  " + compact(ev.Values)
		}
		if ev.Needed > 1 {
			text += fmt.Sprintf("  (%d/%d in a row)", ev.Passes, ev.Needed)
		}
		if ev.Error != "" {
			text += "  " + clip(ev.Error, 120)
		}
		if p.tty && ev.Verdict == VerdictWait || p.tty && ev.Verdict == VerdictError {
			if p.pending {
				fmt.Fprint(p.w, "\r\033[K")
			}
			fmt.Fprint(p.w, text)
			p.pending = true
			return
		}
		p.line("%s", text)
	case *StepSkipped:
		p.line("  – %-22s skipped: %s", ev.Path, ev.Reason)
	case *StepFinished:
		p.line("  ✓ %-22s %s  %s", ev.Path, ev.Duration.Round(time.Millisecond), clip(compact(ev.Outputs), 100))
	case *StepFailed:
		p.line("  ✗ %-22s %s", ev.Path, ev.Error)
	case *UndoApplied:
		if ev.Error != "" {
			p.line("  ✗ undo %-17s %s: %s", ev.Path, ev.Undo.Kind, ev.Error)
		} else {
			p.line("  ↺ undo %-17s %s %s", ev.Path, ev.Undo.Kind, clip(compact(ev.Undo.Params), 100))
		}
	case *Message:
		if ev.Level == "warn" {
			p.line("  ! %s", ev.Text)
		}
	case *RunFinished:
		mark := "✔"
		if ev.Error != "" {
			mark = "✘"
		}
		p.line("%s %s in %s: live is %s", mark, ev.Status, ev.Duration.Round(time.Millisecond), orDash(ev.Live))
	}
}

func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
