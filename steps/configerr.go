package steps

import "errors"

// ErrConfig matches, with errors.Is, every error that says the
// configuration is wrong rather than that a run failed: a connection that
// is not configured, a server URL that is not one, a space that does not
// exist. The CLI exits with code 2 (invalid input) for it, as for an
// invalid runbook, without knowing any provider's errors.
var ErrConfig = errors.New("invalid configuration")

// NewConfigError returns a new sentinel error with the given text that
// also matches ErrConfig. A provider declares its configuration errors with
// it, so that callers can still tell them apart (errors.Is with the
// provider's own sentinel) while the CLI only asks for ErrConfig.
func NewConfigError(text string) error { return &configError{text} }

type configError struct{ text string }

func (e *configError) Error() string { return e.text }

// Is makes every configuration error match ErrConfig.
func (e *configError) Is(target error) bool { return target == ErrConfig }
