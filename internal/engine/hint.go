package engine

// Hint returns ", did you mean "X"?" for the known name closest to s (a
// typo of it), or "" when none is close: the same suggestion runbook
// diagnostics make, for the CLI's own lookups (step kinds).
func Hint(s string, known []string) string { return hint(s, known) }
