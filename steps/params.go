package steps

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Params holds a step's params after Bind: every declared param that was
// given or has a default, with the Go type of its Type (string, int,
// float64, bool, time.Duration, []any, map[string]any).
type Params map[string]any

// Has reports whether the param was given or defaulted.
func (p Params) Has(name string) bool { _, ok := p[name]; return ok }

// String returns a String param, or "".
func (p Params) String(name string) string { s, _ := p[name].(string); return s }

// Int returns an Int param, or 0.
func (p Params) Int(name string) int { i, _ := p[name].(int); return i }

// Number returns a Number param, or 0.
func (p Params) Number(name string) float64 { f, _ := p[name].(float64); return f }

// Bool returns a Bool param, or false.
func (p Params) Bool(name string) bool { b, _ := p[name].(bool); return b }

// Duration returns a Duration param, or 0.
func (p Params) Duration(name string) time.Duration { d, _ := p[name].(time.Duration); return d }

// List returns a List param, or nil.
func (p Params) List(name string) []any { l, _ := p[name].([]any); return l }

// Map returns a Map param, or nil.
func (p Params) Map(name string) map[string]any { m, _ := p[name].(map[string]any); return m }

// Strings returns a List param as strings (items are formatted with %v).
func (p Params) Strings(name string) []string {
	l := p.List(name)
	if l == nil {
		return nil
	}
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = FormatValue(v)
	}
	return out
}

// StringMap returns a Map param with its values formatted as strings.
func (p Params) StringMap(name string) map[string]string {
	m := p.Map(name)
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = FormatValue(v)
	}
	return out
}

// Redacted returns a copy with every sensitive param's value replaced by
// "***", safe for logs, events, journals and reports.
func (s *Spec) Redacted(p map[string]any) map[string]any {
	out := make(map[string]any, len(p))
	for k, v := range p {
		if prm := s.Param(k); prm != nil && prm.Sensitive {
			out[k] = Redaction
			continue
		}
		out[k] = v
	}
	return out
}

// Redaction is what a sensitive value is replaced with.
const Redaction = "***"

// Param returns the declared param with that name, or nil.
func (s *Spec) Param(name string) *Param {
	for i := range s.Params {
		if s.Params[i].Name == name {
			return &s.Params[i]
		}
	}
	return nil
}

// Output returns the declared output with that name, or nil.
func (s *Spec) Output(name string) *Output {
	for i := range s.Outputs {
		if s.Outputs[i].Name == name {
			return &s.Outputs[i]
		}
	}
	return nil
}

// ParamError is a problem with one param.
type ParamError struct {
	Param string
	Msg   string
	// Unknown marks a param the spec does not declare, Missing a required
	// one that was not given, so that a caller whose params go by another
	// name (a runbook's inputs) can word these two itself.
	Unknown, Missing bool
}

func (e *ParamError) Error() string { return fmt.Sprintf("param %q: %s", e.Param, e.Msg) }

// Bind checks raw params (from interpolation, a journal, or the command
// line) against the spec and returns them typed, with defaults applied.
// It returns every problem found, not just the first; unknown and missing
// params are errors. Strings are accepted for every type and parsed
// (YAML flow syntax for lists and maps), because Octopus and the command
// line hand everything over as text.
func (s *Spec) Bind(raw map[string]any) (Params, []*ParamError) {
	out := Params{}
	var errs []*ParamError
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if s.Param(k) == nil {
			errs = append(errs, &ParamError{Param: k, Msg: fmt.Sprintf("unknown param for %s (expected one of: %s)", s.Kind, strings.Join(s.ParamNames(), ", ")), Unknown: true})
		}
	}
	for _, prm := range s.Params {
		v, ok := raw[prm.Name]
		if !ok || v == nil {
			if prm.Default != nil {
				out[prm.Name] = prm.Default
			} else if prm.Required {
				errs = append(errs, &ParamError{Param: prm.Name, Msg: "required param is missing", Missing: true})
			}
			continue
		}
		cv, err := prm.Check(v)
		if err != nil {
			errs = append(errs, &ParamError{Param: prm.Name, Msg: err.Error()})
			continue
		}
		out[prm.Name] = cv
	}
	if len(errs) == 0 {
		errs = s.CheckRules(explicit(out, raw), nil)
	}
	return out, errs
}

// ParamNames lists the declared param names in order.
func (s *Spec) ParamNames() []string {
	n := make([]string, len(s.Params))
	for i, p := range s.Params {
		n[i] = p.Name
	}
	return n
}
