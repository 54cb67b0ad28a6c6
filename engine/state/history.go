package state

// MaxHistory is how many run summaries a record keeps. Older ones are
// dropped on save so that a record stays small however often it runs.
const MaxHistory = 50

// BoundHistory returns the newest max entries of h (h is ordered oldest
// first). It returns h itself when nothing needs dropping and never
// modifies h.
func BoundHistory(h []Summary, max int) []Summary {
	if max < 0 {
		max = 0
	}
	if len(h) <= max {
		return h
	}
	return h[len(h)-max:]
}
