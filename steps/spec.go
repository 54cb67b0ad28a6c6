// Package steps is the step registry: the one place where a step kind is
// declared. A provider package (steps/aws, steps/host, ...) registers a Spec
// per kind from its init function; the engine, the CLI, the JSON Schema, the
// Octopus step templates and docs/steps.md are all derived from those specs.
// Nothing about a step is written twice by hand.
//
// This package holds no provider code and imports no provider package.
package steps

import (
	"context"
	"time"

	"github.com/rs/zerolog"
)

// Type is the type of a parameter or an output.
type Type string

// The parameter and output types. Number is a float64; Any is only valid for
// outputs and for the items of lists and maps.
const (
	String   Type = "string"
	Int      Type = "int"
	Number   Type = "number"
	Bool     Type = "bool"
	Duration Type = "duration"
	List     Type = "list"
	Map      Type = "map"
	Any      Type = "any"
)

// Credentials says which outside system a step talks to, so the Octopus
// template generator knows which connection parameters a template needs
// (an AWS account for AwsRunScript, an API key for Octopus) without ever
// switching on a kind's name.
type Credentials string

// The credential kinds a step may need.
const (
	NoCredentials      Credentials = ""
	AWSCredentials     Credentials = "aws"
	OctopusCredentials Credentials = "octopus"
)

// Param declares one parameter of a step kind.
type Param struct {
	// Name is the key under `with:` in a runbook; lower_snake_case.
	Name string
	// Type is the parameter's type; values are coerced to it before Run.
	Type Type
	// Items is the element type of a List or the value type of a Map.
	// Empty means Any.
	Items Type
	// Doc is one or more sentences shown in docs, schema and templates.
	Doc string
	// Required params must be given (a Default makes no sense with it).
	Required bool
	// Default is used when the param is not given. It must already have the
	// Go type that Type maps to (see GoValue), e.g. time.Duration for Duration.
	Default any
	// Enum restricts a String param to these values.
	Enum []string
	// Sensitive params are never logged, journaled or exported with a value;
	// templates render them as Sensitive controls.
	Sensitive bool
	// Examples are shown in the docs and the schema.
	Examples []any
	// Connection marks a param that only says how to reach the step's
	// outside system (a server URL, an API key, a space), overriding what
	// the environment gives. Generated Octopus templates leave such params
	// out: their script hands the step the connection of the running
	// deployment instead.
	Connection bool
}

// Output declares one output of a step kind: a key in the map that Run
// returns, visible to later expressions as steps.<id>.<name> and to a gate's
// expressions at top level.
type Output struct {
	Name      string
	Type      Type
	Doc       string
	Sensitive bool
}

// Spec declares a step kind.
type Spec struct {
	// Kind is the dotted id, e.g. "aws.route53.set-weights".
	Kind string
	// Title is a short human name, e.g. "Set Route53 weights"; Octopus
	// templates are named "Blue-Green - <Title>".
	Title string
	// Summary is one sentence.
	Summary string
	// Doc is the longer description (Markdown allowed).
	Doc string
	// Params and Outputs, in display order.
	Params  []Param
	Outputs []Output
	// Rules are constraints across params and on their values (see Rule),
	// the ones the outside system really has.
	Rules []Rule
	// Mutates is true when the step changes the outside world. A mutating
	// step must call Call.BeforeChange with its undo before changing
	// anything; a step that does not mutate may be used as a gate.
	Mutates bool
	// Credentials names the connection the step needs.
	Credentials Credentials
	// Preflight, when set, returns the read-only readiness checks the step
	// needs before a run's first change (see Probe).
	Preflight PreflightFunc
	// Traffic names the output that says where production traffic goes
	// once the step has run, so that run reports can draw each colour's
	// share over time without knowing any kind by name. A Map output holds
	// weights keyed by whatever the step routes to (record set identifiers,
	// target group ARNs); a String or Int output names the one target
	// that now takes all traffic (a folder, a port). The engine maps keys
	// to colours through the colours' names and attribute values. Empty means the step does not
	// report traffic.
	Traffic string
	// New returns a fresh step. It must have no side effects: no network,
	// no files, no clients created. Clients are made lazily in Run.
	New func() Step
}

// Step is one executable step instance.
type Step interface {
	// Run does the step's work with already-typed, validated params and
	// returns its outputs (keys as declared in Spec.Outputs).
	Run(ctx context.Context, call *Call) (Outputs, error)
}

// StepFunc adapts a plain function to Step, for steps without state.
type StepFunc func(ctx context.Context, call *Call) (Outputs, error)

// Run calls f.
func (f StepFunc) Run(ctx context.Context, call *Call) (Outputs, error) { return f(ctx, call) }

// Outputs is what a step returns.
type Outputs map[string]any

// Undo is the change that restores what a mutating step changed: a step
// kind and its params, stored as data in the journal so that a different
// process (bluegreen rollback after a crash) can run it.
type Undo struct {
	Kind   string         `json:"kind"`
	Params map[string]any `json:"params"`
	// Note says in words what the undo restores, for logs and plans.
	Note string `json:"note,omitempty"`
	// RestoresCapacity marks an undo that brings a group's capacity back
	// (and waits until it is in service and healthy). Traffic undos applied
	// after it in the same rollback move traffic gradually (see Settle).
	RestoresCapacity bool `json:"restores_capacity,omitempty"`
	// Settle is how long a traffic undo's weights are held before the next
	// undo of the same kind moves more traffic, in a rollback that restored
	// capacity first: the restored colour then takes traffic back in the
	// steps the release took, not all at once while it is cold.
	Settle time.Duration `json:"settle,omitempty"`
}

// Call carries everything a step run gets.
type Call struct {
	// Params are the typed, validated params.
	Params Params
	// Log is the step's logger; it never receives sensitive values unless
	// the step itself writes them (it must not).
	Log zerolog.Logger
	// BeforeChange journals the undo of the change the step is about to
	// make. A mutating step calls it after reading the current state and
	// before changing anything; when it returns an error the step must not
	// apply its change. A step may call it more than once when it makes
	// several changes (each undo is run in reverse order). It is never nil.
	BeforeChange func(Undo) error
	// Undoing is true when this call is itself an undo being applied.
	Undoing bool
}

// NoChange is a convenience BeforeChange for callers (tests, `step run`
// without a journal) that do not record undos.
func NoChange(Undo) error { return nil }

// GoType returns a name of the Go type that values of t have after coercion,
// for docs.
func GoType(t Type) string {
	switch t {
	case String:
		return "string"
	case Int:
		return "int"
	case Number:
		return "float64"
	case Bool:
		return "bool"
	case Duration:
		return "time.Duration"
	case List:
		return "[]any"
	case Map:
		return "map[string]any"
	default:
		return "any"
	}
}
