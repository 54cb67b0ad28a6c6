package engine

import (
	"sort"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// LogSink renders events as zerolog lines: one line per step, gate poll,
// change and undo, with the values a person watching a release wants (the
// step, the weights being applied, the gate's values and verdict).
func LogSink(log zerolog.Logger) Sink {
	return func(e Event) {
		switch ev := e.(type) {
		case *RunStarted:
			log.Info().Str("run", ev.RunID).Str("runbook", ev.Runbook).Str("mode", ev.Mode).Str("phase", ev.Phase).
				Str("live", ev.Live).Str("idle", ev.Idle).Msgf("%s started: live %s, idle %s", ev.Mode, ev.Live, ev.Idle)
		case *StepStarted:
			log.Info().Str("step", ev.Path).Str("uses", ev.Kind).Str("params", compact(ev.Params)).Msg("step " + ev.Label)
		case *StepSkipped:
			log.Info().Str("step", ev.Path).Msg("skip " + ev.Label + ": " + ev.Reason)
		case *StepFinished:
			log.Info().Str("step", ev.Path).Str("took", ev.Duration.Round(time.Millisecond).String()).Str("outputs", compact(ev.Outputs)).Msg("done " + ev.Label)
		case *StepFailed:
			log.Error().Str("step", ev.Path).Str("uses", ev.Kind).Msg("failed " + ev.Label + ": " + ev.Error)
		case *GateEvaluated:
			l := log.Info()
			if ev.Verdict == VerdictError || ev.Verdict == VerdictFail {
				l = log.Warn()
			}
			l = l.Str("step", ev.Path).Int("attempt", ev.Attempt).Str("elapsed", ev.Elapsed.Round(1e6).String()).Str("verdict", ev.Verdict)
			if ev.Needed > 1 {
				l = l.Int("passes", ev.Passes).Int("needed", ev.Needed)
			}
			if ev.Error != "" {
				l = l.Str("error", ev.Error)
			}
			l.Msg("gate " + ev.Label + ": " + ev.Verdict + " " + compact(ev.Values))
		case *ChangeRecorded:
			log.Debug().Str("step", ev.Path).Int("seq", ev.Seq).Str("undo", ev.Undo.Kind).Msg("journaled undo")
		case *ChangeApplied:
			log.Debug().Str("step", ev.Path).Msg("change applied")
		case *UndoApplied:
			if ev.Error != "" {
				log.Error().Int("seq", ev.Seq).Str("step", ev.Path).Str("undo", ev.Undo.Kind).Msg("undo failed: " + ev.Error)
			} else {
				log.Warn().Int("seq", ev.Seq).Str("step", ev.Path).Str("undo", ev.Undo.Kind).Str("params", compact(ev.Undo.Params)).Msg("undone")
			}
		case *Message:
			l := log.Info()
			if ev.Level == "warn" {
				l = log.Warn()
			}
			if ev.Path != "" {
				l = l.Str("step", ev.Path)
			}
			l.Msg(ev.Text)
		case *RunFinished:
			l := log.Info()
			if ev.Error != "" {
				l = log.Error().Str("error", ev.Error)
			}
			l.Str("status", ev.Status).Str("live", ev.Live).Str("took", ev.Duration.Round(time.Millisecond).String()).Msgf("run %s: live is %s", ev.Status, orDash(ev.Live))
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// compact renders a map as "k=v k2=v2" with sorted keys.
func compact(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		v := steps.FormatValue(m[k])
		if len(v) > 200 {
			v = v[:200] + "…"
		}
		b.WriteString(k + "=" + v)
	}
	return b.String()
}
