package steps

import (
	"fmt"
	"slices"
	"strings"
)

// ParamTypes are the types a param may have (Any is only for outputs and
// items). A runbook's inputs are declared with the same types.
var ParamTypes = []Type{String, Int, Number, Bool, Duration, List, Map}

// ValidParamType reports whether t is one of ParamTypes.
func ValidParamType(t Type) bool {
	return slices.Contains(ParamTypes, t)
}

// Check types one value as the param declares it: coerced to its Type (and
// Items), and one of its Enum when it has one. It is the one check a value
// gets, whether it is written literally in a runbook (checked when the
// runbook loads), bound when the step runs, or given for a runbook input,
// so all three report the same problem in the same words. The error never
// holds a sensitive param's value.
func (p *Param) Check(v any) (any, error) {
	cv, err := Coerce(p.Type, p.Items, v)
	if err != nil {
		if p.Sensitive {
			// Coerce quotes what it found; a secret must not reach an
			// error message, so only the expected type is named.
			return nil, fmt.Errorf("expected %s, found a value that is not %s", Describe(p.Type), notShown)
		}
		return nil, err
	}
	if len(p.Enum) > 0 {
		if str, _ := cv.(string); !slices.Contains(p.Enum, str) {
			found := fmt.Sprintf("%q", str)
			if p.Sensitive {
				found = "another value " + notShown
			}
			return nil, fmt.Errorf("expected one of %s, found %s", strings.Join(p.Enum, ", "), found)
		}
	}
	return cv, nil
}

// notShown stands in an error message for a sensitive value.
const notShown = "(not shown: the value is sensitive)"

// DeclError is a mistake in a param's declaration. Field is the part at
// fault (type, enum, required or default), so that a declaration written
// in YAML, as a runbook's inputs are, can be pointed at.
type DeclError struct {
	Field string
	Msg   string
}

func (e *DeclError) Error() string { return e.Field + ": " + e.Msg }

// CheckDecl checks what a param's declaration says of its values: a type
// from ParamTypes, an enum only on a string, no default on a required
// param, and a default of the Go type its Type maps to. Register checks
// every param with it, and the engine every runbook input; both then check
// the default's value with Check.
func (p *Param) CheckDecl() *DeclError {
	if !ValidParamType(p.Type) {
		return &DeclError{"type", fmt.Sprintf("invalid type %q", p.Type)}
	}
	if len(p.Enum) > 0 && p.Type != String {
		return &DeclError{"enum", fmt.Sprintf("an enum needs type string, found type %s", p.Type)}
	}
	if p.Default == nil {
		return nil
	}
	if p.Required {
		return &DeclError{"required", "cannot be required with a default"}
	}
	if err := checkGoType(p.Type, p.Default); err != nil {
		return &DeclError{"default", err.Error()}
	}
	return nil
}
