package state

// MaxHistory is how many runs that changed nothing a record keeps (failed
// detects, no-op rollbacks). Runs that changed something are all kept:
// they are the audit trail of what was done to production. This is the
// one bound on history; the executor appends and the stores bound.
const MaxHistory = 50

// maxSummaryError bounds the error text of a summary: the latest run keeps
// its whole error, the history needs only enough to recognise it, and a
// record stays small (DynamoDB items are limited to 400 KB).
const maxSummaryError = 300

// BoundHistory returns h without its oldest entries that changed nothing
// beyond the newest max of those (h is ordered oldest first). Entries that
// changed something are always kept. It returns h itself when nothing
// needs dropping and never modifies h.
func BoundHistory(h []Summary, max int) []Summary {
	if max < 0 {
		max = 0
	}
	quiet := 0
	long := false
	for _, s := range h {
		if s.Changes == 0 {
			quiet++
		}
		if len(s.Error) > maxSummaryError {
			long = true
		}
	}
	if quiet <= max && !long {
		return h
	}
	drop := quiet - max
	out := make([]Summary, 0, len(h))
	for _, s := range h {
		if s.Changes == 0 && drop > 0 {
			drop--
			continue
		}
		if len(s.Error) > maxSummaryError {
			s.Error = s.Error[:maxSummaryError] + "…"
		}
		out = append(out, s)
	}
	return out
}
