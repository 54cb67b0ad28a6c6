package main

import (
	"errors"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// unknownKind is the usage error for a step kind that is not registered,
// with the closest kind when the name looks like a typo of one.
func unknownKind(kind string) error {
	return usagef("unknown step kind %q%s (run `bluegreen steps` to list them)", kind, engine.Hint(kind, steps.Default.Kinds()))
}

// shownError is an error whose message has already been printed in the
// form the command promised (JSON on stdout): Main prints nothing more but
// still exits with the error's code.
type shownError struct{ err error }

func (e *shownError) Error() string { return e.err.Error() }
func (e *shownError) Unwrap() error { return e.err }

func isShown(err error) bool {
	var s *shownError
	return errors.As(err, &s)
}
