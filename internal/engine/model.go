package engine

import (
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// Runbook is a parsed, validated runbook. Every expression in it has been
// compiled against a typed environment; nothing is parsed or compiled again
// while it runs.
type Runbook struct {
	File        string
	Version     int
	Name        string
	Description string
	Inputs      []*Input
	Colours     []*Colour
	Detect      *Detect
	Steps       []*Step
	// Key names the application's state (key.go); nil for the default.
	Key *Tmpl
	// OnFailure is "rollback" (the default) or "stop".
	OnFailure string
	// Phases lists the phase names in the order they first appear.
	Phases []string

	inputs map[string]*Input
}

// Input is a declared runbook input.
type Input struct {
	Name        string
	Type        steps.Type
	Description string
	// Default is the typed default, or nil.
	Default   any
	Required  bool
	Sensitive bool
	Enum      []string
	// Rules are the input's validate: entries (validate_inputs.go).
	Rules []*Rule
	Pos   Pos
}

// Colour is one of the two stacks. Its attributes are templates evaluated
// against the inputs when a run starts.
type Colour struct {
	Name  string
	Attrs []*Attr
	Pos   Pos
}

// Attr is one colour attribute.
type Attr struct {
	Name  string
	Value *Tmpl
}

// Detect finds the live colour: it runs a read-only step and evaluates Live
// over its outputs.
type Detect struct {
	Step *Step
	Live *Expr
}

// Step is one entry of `steps:`: a leaf that runs a step kind, or a
// foreach over nested steps.
type Step struct {
	// ID is the user's id, or "" when none was given.
	ID   string
	Name string
	Uses string
	Spec *steps.Spec
	With *Tmpl // a map template, or nil
	If   *Expr
	Gate *Gate
	// Foreach, As and Steps make a loop.
	Foreach *Tmpl
	As      string
	Steps   []*Step
	Phase   string
	Timeout time.Duration
	Pos     Pos
	// timeoutT is set when timeout is an expression.
	timeoutT *Tmpl
	// seg is the step's path segment: its id, or "#<index>".
	seg string
}

// Gate repeats a read-only step until Until holds (Passes times in a row),
// Fail holds, or Timeout passes.
type Gate struct {
	Until     *Expr
	Fail      *Expr
	Every     time.Duration
	Timeout   time.Duration
	Passes    int
	MaxErrors int
	Pos       Pos
	// everyT and timeoutT are set when every or timeout is an expression
	// (e.g. "${{ inputs.health_timeout }}"); they are resolved when the
	// gate starts.
	everyT, timeoutT *Tmpl
}

// Default gate settings.
const (
	DefaultGateEvery   = 10 * time.Second
	DefaultGateTimeout = 10 * time.Minute
)

// Label is how a step is named in logs: its id, name or kind.
func (s *Step) Label() string {
	switch {
	case s.ID != "":
		return s.ID
	case s.Name != "":
		return s.Name
	case s.Uses != "":
		return s.Uses
	}
	return s.seg
}

// Input returns a declared input.
func (r *Runbook) Input(name string) *Input { return r.inputs[name] }

// Colour returns the colour with that name, or nil.
func (r *Runbook) Colour(name string) *Colour {
	for _, c := range r.Colours {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Other returns the colour that is not name.
func (r *Runbook) Other(name string) string {
	for _, c := range r.Colours {
		if c.Name != name {
			return c.Name
		}
	}
	return ""
}
