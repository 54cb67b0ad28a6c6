package engine

import (
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// ParseSets turns --set k=v arguments into raw values (text, typed later
// by the input's declared type).
func ParseSets(sets []string) (map[string]any, error) {
	out := map[string]any{}
	for _, s := range sets {
		k, v, ok := strings.Cut(s, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, invalid("--set", "expected key=value, found %q", s)
		}
		out[k] = v
	}
	return out, nil
}

// ReadInputsFile reads an --inputs YAML (or JSON) file of key: value.
func ReadInputsFile(path string) (map[string]any, error) {
	b, err := readLimited(path, "inputs file", MaxInputsBytes)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	extra, err := decodeOne(b, &doc)
	if err != nil {
		return nil, invalid(path, "expected a mapping of input names to values: %v", err)
	}
	if extra != nil {
		e := invalid(path, "%s", secondDocument)
		e.Diags[0].Pos = *extra
		return nil, e
	}
	var m map[string]any
	if err := doc.Decode(&m); err != nil && len(doc.Content) > 0 {
		return nil, invalid(path, "expected a mapping of input names to values: %v", err)
	}
	n, _ := steps.Normalize(m).(map[string]any)
	return n, nil
}

// ResolveInputs types raw inputs by their declarations, applies defaults
// and reports every unknown, missing or mistyped input at once. The inputs
// are bound as a step's params are (inputSpec, steps.Spec.Bind); then each
// given value is checked against the input's validate: rules. Values of
// sensitive inputs never appear in the errors.
func (r *Runbook) ResolveInputs(raw map[string]any) (map[string]any, error) {
	out, probs := r.bindInputs(raw)
	if len(probs) > 0 {
		return nil, r.inputsError(probs)
	}
	return out, nil
}

// inputProblem is one problem with the given inputs. Problems with a
// declared input point at its declaration; an unknown input exists only on
// the command line, so it has no line (a made-up one would send the reader
// to the wrong place).
type inputProblem struct {
	// input names the input the problem is about, declared or not.
	input   string
	missing bool
	at      Pos
	msg     string
}

// bindInputs binds raw inputs through the runbook's input spec and checks
// each given value against its validate: rules. It returns what bound (an
// input with a problem is left out) and the problems: unknown inputs
// first, then in the order the inputs are declared.
func (r *Runbook) bindInputs(raw map[string]any) (map[string]any, []inputProblem) {
	var unknown []inputProblem
	byInput := map[string][]inputProblem{}
	bound, errs := r.inputSpec().Bind(raw)
	for _, e := range errs {
		in := r.inputs[e.Param]
		switch {
		case e.Unknown || in == nil:
			var names []string
			for _, in := range r.Inputs {
				names = append(names, in.Name)
			}
			unknown = append(unknown, inputProblem{input: e.Param, msg: fmt.Sprintf("unknown input %q%s (declared inputs: %s)", e.Param, hint(e.Param, names), list(names))})
		case e.Missing:
			byInput[in.Name] = append(byInput[in.Name], inputProblem{input: in.Name, missing: true, at: in.Pos, msg: fmt.Sprintf("missing required input %q (%s): pass it with --set %s=VALUE", in.Name, orType(in), in.Name)})
		default:
			byInput[in.Name] = append(byInput[in.Name], inputProblem{input: in.Name, at: in.Pos, msg: fmt.Sprintf("input %q: %s", in.Name, e.Msg)})
		}
	}
	out := map[string]any(bound)
	for _, in := range r.Inputs {
		v, ok := out[in.Name]
		switch {
		case !ok && !in.Required && len(byInput[in.Name]) == 0:
			out[in.Name] = zero(in.Type)
		case ok && raw[in.Name] != nil:
			// A default was checked against the rules when the runbook
			// loaded; a given value is checked now.
			if msg := in.check(v); msg != "" {
				delete(out, in.Name)
				byInput[in.Name] = append(byInput[in.Name], inputProblem{input: in.Name, at: in.Pos, msg: fmt.Sprintf("input %q: %s", in.Name, msg)})
			}
		}
	}
	probs := unknown
	for _, in := range r.Inputs {
		probs = append(probs, byInput[in.Name]...)
	}
	return out, probs
}

// inputsError reports input problems as one InvalidError, each at its
// place and quoting the declaration.
func (r *Runbook) inputsError(probs []inputProblem) error {
	// A file that cannot be read again just goes without snippets.
	src, _ := os.ReadFile(r.File)
	d := newDiags(r.File, src)
	e := &InvalidError{}
	for _, p := range probs {
		e.Diags = append(e.Diags, &Diagnostic{File: r.File, Pos: p.at, Message: p.msg, Snippet: d.snippet(p.at)})
	}
	return e
}

// rollbackInputs binds a rollback's inputs, those the run journaled
// overlaid with those given now, through the same input spec as a run's
// (bindInputs). A rollback needs them only to resolve sensitive undo
// params, so an input that is missing (a sensitive one not given again)
// or a journaled one the runbook no longer accepts is left out: the undo
// that needs it says so. An input given now that is unknown or wrong is
// reported as a run reports it. complete says whether every input bound,
// as a run's would.
func (r *Runbook) rollbackInputs(journaled, given map[string]any) (inputs map[string]any, complete bool, err error) {
	out, probs := r.bindInputs(mergeInputs(journaled, given))
	var wrong []inputProblem
	for _, p := range probs {
		if _, ok := given[p.input]; ok && !p.missing {
			wrong = append(wrong, p)
		}
	}
	if len(wrong) > 0 {
		return nil, false, r.inputsError(wrong)
	}
	return out, len(probs) == 0, nil
}

func orType(in *Input) string {
	if in.Description != "" {
		return in.Description
	}
	return string(in.Type)
}

func zero(t steps.Type) any {
	v, _ := steps.Coerce(t, "", "")
	switch t {
	case steps.List:
		return []any{}
	case steps.Map:
		return map[string]any{}
	case steps.Int:
		return 0
	case steps.Number:
		return 0.0
	}
	return v
}

// RedactInputs returns inputs with sensitive values left out, each
// encoded by its declared type as params are (steps.EncodeValue:
// durations as text), so they survive a JSON journal and are typed again
// by their declaration on resume.
func (r *Runbook) RedactInputs(in map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range in {
		if i := r.inputs[k]; i != nil {
			if i.Sensitive {
				continue
			}
			v = steps.EncodeValue(i.Type, "", v)
		}
		out[k] = v
	}
	return out
}

// secretSet returns the run's secrets: every sensitive input's value, each
// with the reference that reads it. Each secret, and each one added later
// (taint.go), is handed to sink (the log filter) before anything can log.
func (r *Runbook) secretSet(in map[string]any, sink SecretSink) *secretSet {
	s := &secretSet{}
	if sink != nil {
		s.added = sink.Add
	}
	for _, i := range r.Inputs {
		if i.Sensitive {
			s.addInput("inputs."+i.Name, in[i.Name])
		}
	}
	return s
}
