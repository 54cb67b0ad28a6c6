package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// Exit codes, as the CLI contract defines them.
const (
	ExitOK          = 0
	ExitFailed      = 1
	ExitInvalid     = 2
	ExitLocked      = 3
	ExitInterrupted = 130 // SIGINT; SIGTERM gives 143
)

// usageError is a command-line mistake (unknown flag, wrong arguments).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return &usageError{fmt.Errorf(format, args...)} }

// exitCode maps an error to the process exit code: the only place that
// does. signal is the signal that interrupted the run, if any.
func exitCode(err error, signal int) int {
	var (
		inv  *engine.InvalidError
		use  *usageError
		lock *state.LockedError
		intr *engine.InterruptedError
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &intr):
		if signal != 0 {
			return 128 + signal
		}
		return ExitInterrupted
	case errors.As(err, &inv), errors.As(err, &use), errors.Is(err, state.ErrFormat),
		// A connection that is not configured, a malformed server URL or a
		// space that does not exist is bad input, not a failed run; the
		// provider marks such errors as steps.ErrConfig.
		errors.Is(err, steps.ErrConfig):
		return ExitInvalid
	case errors.As(err, &lock):
		return ExitLocked
	default:
		return ExitFailed
	}
}

// printError writes an error the way a person reads it: every diagnostic of
// an invalid runbook with its snippet, a one-line message otherwise.
func printError(w io.Writer, err error) {
	if isShown(err) {
		return
	}
	var inv *engine.InvalidError
	if errors.As(err, &inv) {
		fmt.Fprint(w, inv.Format())
		return
	}
	fmt.Fprintf(w, "error: %v\n", err)
}
