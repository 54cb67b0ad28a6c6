package engine

// Detect and the steps: ids, phases, foreach, and which steps an
// expression may read.

import (
	"fmt"
	"reflect"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func (p *parser) detect(n *yaml.Node) {
	f := p.fields(n, "detect", "uses", "with", "live")
	if n.Kind != yaml.MappingNode {
		return
	}
	det := &Detect{}
	st := &Step{Pos: pos(n), seg: "detect"}
	base := p.globals(nil)
	// detect runs before live and idle are known.
	base = []scopeField{base[0], base[1], base[5]}
	sc := newScope(base)
	if u, ok := f["uses"]; ok {
		st.Uses, st.Spec = p.uses(u)
		if st.Spec != nil && st.Spec.Mutates {
			p.d.add(pos(u), "detect: uses: expected a read-only step, found %s, which changes things", st.Uses)
		}
	} else {
		p.d.add(pos(n), "detect: missing key \"uses\"")
	}
	if w, ok := f["with"]; ok && st.Spec != nil {
		st.With = p.with(w, st.Spec, sc, n)
	} else if st.Spec != nil {
		p.checkRequired(st.Spec, nil, pos(n))
	}
	det.Step = st
	if l, ok := f["live"]; ok {
		if st.Spec != nil {
			lsc := newScope(append(outputFields(st.Spec), base...))
			det.Live = p.boolOrExpr(l, "detect: live", lsc, compileOpts{asString: true})
		}
	} else {
		p.d.add(pos(n), "detect: missing key \"live\" (an expression naming the live colour)")
	}
	p.rb.Detect = det
}

// collectIDs finds every step id up front, so a reference to a step that
// runs later gets its own message, and duplicate ids are reported once.
func (p *parser) collectIDs(n *yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		return
	}
	for _, s := range n.Content {
		if s.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(s.Content); i += 2 {
			k, v := s.Content[i], s.Content[i+1]
			switch k.Value {
			case "id":
				if v.Kind == yaml.ScalarNode && v.Value != "" {
					if first, dup := p.allIDs[v.Value]; dup {
						p.d.add(pos(v), "id: %q is already used by the step at line %d", v.Value, first.Line)
					} else {
						p.allIDs[v.Value] = pos(v)
					}
				}
			case "steps":
				p.collectIDs(v)
			}
		}
	}
}

// stepList parses a list of steps. visible is updated as steps with ids are
// parsed; locals are foreach variables in scope. parent names the foreach
// the list belongs to ("" at the top), for messages about steps without id.
func (p *parser) stepList(n *yaml.Node, locals []scopeField, visible *[]stepOut, parent string, top bool) []*Step {
	var out []*Step
	for i, sn := range n.Content {
		num := strconv.Itoa(i + 1)
		if parent != "" {
			num = parent + "." + num
		}
		st := p.step(sn, i, num, locals, visible, top)
		if st != nil {
			out = append(out, st)
		}
	}
	return out
}

// later returns the ids of steps that run after the point where visible
// is what has run. Steps only become visible in order (visible grows by
// append), so one map is kept and each id is removed once when it becomes
// visible: building a fresh map per step made loading quadratic. The map
// is only read while the current step is parsed, so sharing it is safe.
func (p *parser) later(visible []stepOut) map[string]bool {
	if p.laterAll == nil {
		p.laterAll, p.laterPending = map[string]bool{}, map[string]bool{}
		for id := range p.allIDs {
			p.laterAll[id] = true
			p.laterPending[id] = true
		}
	}
	if visible == nil {
		return p.laterAll
	}
	for ; p.laterSeen < len(visible); p.laterSeen++ {
		delete(p.laterPending, visible[p.laterSeen].id)
	}
	return p.laterPending
}

// stepRef is how messages name a step: by its id when it has one, else by
// its 1-based number in the runbook ("step 3", or "step shift.2" for the
// second step inside the foreach shift).
func stepRef(n *yaml.Node, num string) string {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k, v := n.Content[i], n.Content[i+1]; k.Value == "id" && v.Kind == yaml.ScalarNode && v.Value != "" {
				return v.Value
			}
		}
	}
	return num
}

func (p *parser) step(n *yaml.Node, index int, num string, locals []scopeField, visible *[]stepOut, top bool) *Step {
	ref := stepRef(n, num)
	what := "step " + ref
	f := p.fields(n, what, "id", "name", "uses", "with", "if", "gate", "foreach", "as", "steps", "phase", "timeout")
	if n.Kind != yaml.MappingNode {
		return nil
	}
	st := &Step{Pos: pos(n), seg: fmt.Sprintf("#%d", index)}
	if v, ok := f["id"]; ok {
		if s, ok := p.str(v, "id"); ok {
			if !idRe.MatchString(s) {
				p.d.add(pos(v), "id: expected lower-case letters, digits, '-' or '_' starting with a letter, found %q", s)
			}
			st.ID, st.seg = s, s
		}
	}
	if v, ok := f["name"]; ok {
		st.Name, _ = p.str(v, what+": name")
	}
	if v, ok := f["phase"]; ok {
		if s, ok := p.str(v, what+": phase"); ok {
			if !top {
				p.d.add(pos(v), "%s: phase: only top-level steps can start a phase (steps inside foreach run in the loop's phase)", what)
			} else if !idRe.MatchString(s) {
				p.d.add(pos(v), "%s: phase: expected lower-case letters, digits, '-' or '_', found %q", what, s)
			} else {
				p.phase = s
			}
		}
	}
	st.Phase = p.phase
	if !contains(p.rb.Phases, p.phase) {
		p.rb.Phases = append(p.rb.Phases, p.phase)
	}
	sc := newScope(append(append([]scopeField{}, locals...), p.globals(*visible)...))
	later := p.later(*visible)
	if v, ok := f["timeout"]; ok {
		st.Timeout, st.timeoutT, _ = p.durationOrTmpl(v, what+": timeout", sc, later)
	}
	if v, ok := f["if"]; ok {
		st.If = p.boolOrExpr(v, what+": if", sc, compileOpts{asBool: true})
	}
	_, hasUses := f["uses"]
	_, hasForeach := f["foreach"]
	switch {
	case hasUses && hasForeach:
		p.d.add(pos(n), "%s: expected either uses or foreach, found both", what)
		return nil
	case !hasUses && !hasForeach:
		p.d.add(pos(n), "%s: expected uses (a step kind) or foreach (a loop), found neither", what)
		return nil
	}
	if hasForeach {
		for _, k := range []string{"with", "gate"} {
			if v, ok := f[k]; ok {
				p.d.add(pos(v), "%s: %s is not allowed on a foreach (put it on the nested steps)", what, k)
			}
		}
		fe := f["foreach"]
		st.Foreach = p.tmpl(fe, sc, later)
		if st.Foreach != nil {
			p.checkList(st.Foreach, fe, what)
		}
		st.As = "item"
		if v, ok := f["as"]; ok {
			if s, ok := p.str(v, what+": as"); ok {
				if !varRe.MatchString(s) {
					p.d.add(pos(v), "%s: as: expected a name of lower-case letters, digits and '_', found %q", what, s)
				} else if contains([]string{"inputs", "colours", "live", "idle", "steps", "run", "elapsed", "attempt"}, s) {
					p.d.add(pos(v), "%s: as: %q would hide the runbook's own %s; choose another name", what, s, s)
				} else {
					st.As = s
				}
			}
		}
		body, ok := f["steps"]
		if !ok {
			p.d.add(pos(n), "%s: foreach needs steps (the nested steps to repeat)", what)
			return st
		}
		if body.Kind != yaml.SequenceNode || len(body.Content) == 0 {
			p.d.add(pos(body), "%s: steps: expected a non-empty list of steps, found %s", what, kindName(body))
			return st
		}
		inner := append([]scopeField{{name: st.As, typ: anyType}, {name: st.As + "_index", typ: reflect.TypeOf(0)}}, locals...)
		st.Steps = p.stepList(body, inner, visible, ref, false)
		return st
	}
	if v, ok := f["as"]; ok {
		p.d.add(pos(v), "%s: as is only allowed with foreach", what)
	}
	if v, ok := f["steps"]; ok {
		p.d.add(pos(v), "%s: nested steps are only allowed with foreach", what)
	}
	st.Uses, st.Spec = p.uses(f["uses"])
	if st.Spec == nil {
		return st
	}
	if w, ok := f["with"]; ok {
		st.With = p.withLater(w, st.Spec, sc, n, later)
	} else {
		p.checkRequired(st.Spec, nil, pos(n))
	}
	if g, ok := f["gate"]; ok {
		if st.Spec.Mutates {
			p.d.add(pos(g), "%s: gate: %s changes things and cannot be repeated as a gate (gates poll read-only steps)", what, st.Uses)
		} else {
			gsc := newScope(append(append([]scopeField{{name: "elapsed", typ: reflect.TypeOf(time.Duration(0))}, {name: "attempt", typ: reflect.TypeOf(0)}}, outputFields(st.Spec)...), append(append([]scopeField{}, locals...), p.globals(*visible)...)...))
			st.Gate = p.gate(g, what, gsc, sc, later)
		}
	}
	if st.ID != "" {
		*visible = append(*visible, stepOut{st.ID, st.Spec})
	}
	return st
}

func (p *parser) uses(n *yaml.Node) (string, *steps.Spec) {
	s, ok := p.str(n, "uses")
	if !ok {
		return "", nil
	}
	spec, found := p.reg.Lookup(s)
	if !found {
		p.d.add(pos(n), "uses: unknown step kind %q%s (run `bluegreen steps` to list them)", s, hint(s, p.reg.Kinds()))
		return s, nil
	}
	return s, spec
}

func (p *parser) checkList(t *Tmpl, n *yaml.Node, what string) {
	switch t.kind {
	case tmplList:
		return
	case tmplLiteral:
		if t.lit != nil {
			p.d.add(pos(n), "%s: foreach: expected a list, found %s", what, steps.TypeOf(t.lit))
		}
	case tmplInterp:
		p.d.add(pos(n), "%s: foreach: expected a list, found a string (use exactly one ${{ }} to keep the list's type)", what)
	case tmplMap:
		p.d.add(pos(n), "%s: foreach: expected a list, found a map", what)
	case tmplExpr:
		if typ := t.expr.Type(); typ != nil && typ.Kind() != reflect.Interface && typ.Kind() != reflect.Slice && typ.Kind() != reflect.Array {
			p.d.add(t.expr.Pos, "%s: foreach: expected a list, found an expression of type %s", what, typeWord(typ))
		}
	}
}
