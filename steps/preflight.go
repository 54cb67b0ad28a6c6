package steps

import "context"

// Probe is one read-only readiness check of an outside system, run after
// detect and before a run's first change: credentials resolve, the server
// answers, the things a step names exist. A failed probe stops the run
// before anything changed.
type Probe struct {
	// Key identifies what is checked: probes with the same key run once
	// per run however many steps need them (e.g. "aws" for credentials,
	// "octopus|URL|SPACE|project|NAME" for a project).
	Key string
	// What says in words what is checked, for plans and errors, e.g.
	// "AWS credentials and region (sts:GetCallerIdentity)". It must not
	// hold a secret.
	What string
	// Run does the check. It must change nothing and return once ctx is
	// done (the engine gives it a few seconds).
	Run func(ctx context.Context) error
}

// PreflightFunc returns the probes a step needs. p holds the step's params
// as far as they are known before the run (typed, defaults applied);
// known(name) is false for a param whose value depends on outputs of
// earlier steps. A probe that needs such a param is left out: the engine
// asks again with every value known just before the step runs.
type PreflightFunc func(p Params, known func(name string) bool) []Probe

// TransientError marks a probe failure that says nothing about the
// configuration (throttling, a server error, no answer in time): the engine
// reports it as a warning and lets the run go on, since the steps retry
// such failures themselves.
type TransientError struct{ Err error }

func (e *TransientError) Error() string { return e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// Transient wraps err as a TransientError (nil stays nil).
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return &TransientError{err}
}
