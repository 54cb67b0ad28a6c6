package engine

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// The journal never holds a secret, and rollback never runs a mask. Every
// string of an undo, however deep in its lists and maps, is stored as a
// template: the parts that are secrets become ${{ REF }}, where REF is the
// expression over the inputs that computes the secret (inputs.pw,
// upper(inputs.pw)); literal text that looks like a template is escaped
// ($${{). Rollback evaluates the templates against the inputs it has (the
// journaled ones and those given again), so the undo runs with the real
// values; a secret that cannot be computed from the inputs (one read from
// a step's output, or a credential) is stored as ${{ withheld }}, and
// rollback refuses that undo with a message instead of running it.

// withheldRef stands for a secret the journal cannot reference.
const withheldRef = "withheld"

// journalValue returns v as the journal stores it, and whether any secret
// was found in it.
func journalValue(v any, secrets []secret) (any, bool) {
	switch x := v.(type) {
	case string:
		return journalString(x, secrets)
	case []any:
		out, found := make([]any, len(x)), false
		for i, e := range x {
			var f bool
			out[i], f = journalValue(e, secrets)
			found = found || f
		}
		return out, found
	case map[string]any:
		out, found := make(map[string]any, len(x)), false
		for k, e := range x {
			var f bool
			out[k], f = journalValue(e, secrets)
			found = found || f
		}
		return out, found
	}
	return v, false
}

func refText(s secret) string {
	if s.ref == "" {
		return "${{ " + withheldRef + " }}"
	}
	return "${{ " + s.ref + " }}"
}

// journalString replaces each secret in s (the earliest first, the longest
// at the same place) by its reference and escapes the rest.
func journalString(s string, secrets []secret) (string, bool) {
	var b strings.Builder
	found := false
	rest := s
	for rest != "" {
		best, at := -1, len(rest)
		for i, sec := range secrets {
			if sec.value == "" {
				continue
			}
			if j := strings.Index(rest, sec.value); j >= 0 && (j < at || (j == at && len(sec.value) > len(secrets[best].value))) {
				best, at = i, j
			}
		}
		if best < 0 {
			b.WriteString(escapeTemplate(rest))
			break
		}
		found = true
		lit := escapeTemplate(rest[:at])
		if strings.HasSuffix(lit, "$") {
			// "$" right before "${{" would read as the escape "$${{".
			lit = lit[:len(lit)-1] + `${{ "$" }}`
		}
		b.WriteString(lit)
		b.WriteString(refText(secrets[best]))
		rest = rest[at+len(secrets[best].value):]
	}
	return b.String(), found
}

func escapeTemplate(s string) string { return strings.ReplaceAll(s, "${{", "$${{") }

// errWithheld is returned for an undo holding a secret the journal could
// not reference.
var errWithheld = errors.New("holds a sensitive value that was not journaled (it did not come from the inputs alone); undo it by hand")

// errMasked is returned for a value that was journaled as a mask.
var errMasked = errors.New("holds a value that was masked when it was journaled (by an older bluegreen); undo it by hand")

// resolveJournaled turns a journaled value back into the value to run:
// every string with ${{ }} is evaluated against the inputs.
func (rc *runCtx) resolveJournaled(v any) (any, error) {
	switch x := v.(type) {
	case string:
		if x == steps.Redaction {
			// Journals written before references existed masked secrets
			// inside lists and maps; running the mask would report an
			// undo that did nothing.
			return nil, errMasked
		}
		if !strings.Contains(x, "${{") {
			return x, nil
		}
		segs, _, err := scanTemplate(x)
		if err != nil {
			return nil, err
		}
		if len(segs) == 1 && segs[0].isExpr {
			return rc.evalRef(segs[0].text)
		}
		var b strings.Builder
		for _, s := range segs {
			if !s.isExpr {
				b.WriteString(s.text)
				continue
			}
			val, err := rc.evalRef(s.text)
			if err != nil {
				return nil, err
			}
			b.WriteString(steps.FormatValue(val))
		}
		return b.String(), nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := rc.resolveJournaled(e)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := rc.resolveJournaled(e)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	}
	return v, nil
}

// evalRef evaluates one journaled reference over the inputs.
func (rc *runCtx) evalRef(src string) (any, error) {
	if src == withheldRef {
		return nil, errWithheld
	}
	var f []scopeField
	for _, in := range rc.rb.Inputs {
		f = append(f, scopeField{name: in.Name, typ: goType(in.Type)})
	}
	inputsT, _ := structOf(f)
	d := newDiags("journal", nil)
	e := compileExpr(d, src, func(int) Pos { return Pos{} }, newScope([]scopeField{{name: "inputs", typ: inputsT}}), compileOpts{}, map[string]bool{})
	if e == nil {
		msg := "invalid reference"
		if len(d.list) > 0 {
			msg = d.list[0].Message
		}
		return nil, fmt.Errorf("journaled reference ${{ %s }}: %s", src, msg)
	}
	// A sensitive input is not journaled with the run: it must be given
	// again to roll back.
	for _, id := range e.idents {
		name, ok := strings.CutPrefix(id, "inputs.")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, ".")
		name, _, _ = strings.Cut(name, "[")
		if in := rc.rb.Input(name); in != nil && in.Sensitive {
			if v, given := rc.inputs[name]; !given || isZero(v) {
				return nil, fmt.Errorf("needs the sensitive input %q: pass it with --set %s=...", name, name)
			}
		}
	}
	v, err := e.Eval(map[string]any{"inputs": rc.inputs})
	if err != nil {
		return nil, err
	}
	// What a reference computes is as secret as what it was computed
	// from: the undo's own logs must not show it.
	rc.addSecretStrings(v, src)
	return v, nil
}

func isZero(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.IsZero() || ((rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map) && rv.Len() == 0)
}
