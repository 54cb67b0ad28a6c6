package steps

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Invocation is a step kind bound to its params: the one way a step runs,
// whether the engine runs it as a runbook step, a gate's poll, detect or an
// undo, or `bluegreen step run` runs it on its own. Binding, the panic
// guard, naming the kind in an error and splitting the outputs by their
// sensitivity happen here, once, so every caller gets the same.
type Invocation struct {
	Spec   *Spec
	Params Params
	// Step is the instance that runs: a fresh one from Spec.New, which a
	// caller may replace (a gate polls one instance; an undo retried gets
	// a fresh one each time; a test may put in a step built on fakes).
	Step Step
}

// Invoke binds raw params (from expressions, a journal or the command
// line) through the spec and returns the invocation that runs them. Params
// that do not fit come back as a *BindError naming every problem.
func (s *Spec) Invoke(raw map[string]any) (*Invocation, error) {
	p, errs := s.Bind(raw)
	if len(errs) > 0 {
		return nil, &BindError{Kind: s.Kind, Params: errs}
	}
	return &Invocation{Spec: s, Params: p, Step: s.New()}, nil
}

// BindError is params that do not fit a kind's spec.
type BindError struct {
	Kind   string
	Params []*ParamError
}

func (e *BindError) Error() string {
	msgs := make([]string, len(e.Params))
	for i, p := range e.Params {
		msgs[i] = p.Error()
	}
	return fmt.Sprintf("%s: %s", e.Kind, strings.Join(msgs, "; "))
}

// RunError is a step's failure, named by its kind. Steps return their
// errors without their kind; the invocation adds it here, once.
type RunError struct {
	Kind string
	Err  error
}

func (e *RunError) Error() string { return e.Kind + ": " + e.Err.Error() }

// Unwrap returns the step's own error.
func (e *RunError) Unwrap() error { return e.Err }

// Run runs the step once with the invocation's params and the logger,
// journal hook and undo flag of call (a nil BeforeChange records nothing).
// A panic in the step becomes an error, so a bug in one provider fails
// that step (and the run rolls back) instead of killing the process
// between a change and its undo. An error is a *RunError; the result is
// never nil and, on failure, holds what the step returned with its error.
func (inv *Invocation) Run(ctx context.Context, call Call) (*Result, error) {
	call.Params = inv.Params
	if call.BeforeChange == nil {
		call.BeforeChange = NoChange
	}
	out, err := guard(ctx, inv.Step, &call)
	if err != nil {
		err = &RunError{Kind: inv.Spec.Kind, Err: err}
	}
	return inv.Spec.result(out), err
}

func guard(ctx context.Context, st Step, call *Call) (out Outputs, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("step panicked: %v", r)
		}
	}()
	return st.Run(ctx, call)
}

// Result is what a step returned, its outputs split once into public and
// sensitive by the spec. The split travels with the outputs (into the
// engine's events, the Octopus output variables, `step run`'s JSON), so no
// reader has to look the spec up again to learn which values to hide.
type Result struct {
	// Outputs are the outputs as the step returned them.
	Outputs Outputs
	// Public and Sensitive hold the same values normalized (Normalize),
	// the ones the spec marks sensitive in Sensitive.
	Public    map[string]any
	Sensitive map[string]any
}

func (s *Spec) result(out Outputs) *Result {
	r := &Result{Outputs: out, Public: map[string]any{}, Sensitive: map[string]any{}}
	for k, v := range out {
		if o := s.Output(k); o != nil && o.Sensitive {
			r.Sensitive[k] = Normalize(v)
			continue
		}
		r.Public[k] = Normalize(v)
	}
	return r
}

// Withheld names the sensitive outputs, sorted.
func (r *Result) Withheld() []string {
	if len(r.Sensitive) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(r.Sensitive))
}

// All returns the public and sensitive outputs together, normalized: what
// later steps' expressions see.
func (r *Result) All() map[string]any {
	m := make(map[string]any, len(r.Public)+len(r.Sensitive))
	maps.Copy(m, r.Public)
	maps.Copy(m, r.Sensitive)
	return m
}
