package engine

// Values that may hold ${{ }}, and a step's with: params, checked against
// the step kind's spec.

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// tmpl parses a value that may contain ${{ }}.
func (p *parser) tmpl(n *yaml.Node, sc *scope, later map[string]bool) *Tmpl {
	if later == nil {
		later = map[string]bool{}
	}
	if len(p.expanding) > 0 {
		if p.expanded++; p.expanded == maxAliasValues+1 {
			p.d.add(pos(n), "aliases expand to more than %d values; write the values out or use fewer nested aliases", maxAliasValues)
		}
	}
	t := &Tmpl{Pos: pos(n)}
	switch n.Kind {
	case yaml.SequenceNode:
		t.kind = tmplList
		for _, e := range n.Content {
			t.list = append(t.list, p.tmpl(e, sc, later))
		}
		return t
	case yaml.MappingNode:
		t.kind = tmplMap
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if seen[k.Value] {
				p.d.add(pos(k), "key %q appears twice", k.Value)
			}
			seen[k.Value] = true
			t.keys = append(t.keys, p.tmpl(k, sc, later))
			t.vals = append(t.vals, p.tmpl(n.Content[i+1], sc, later))
		}
		return t
	case yaml.AliasNode:
		switch {
		case n.Alias == nil:
			p.d.add(pos(n), "alias *%s: unknown anchor", n.Value)
		case p.expanding[n.Alias]:
			p.d.add(pos(n), "alias *%s is inside the value it refers to (anchored at line %d), which would never end", n.Value, n.Alias.Line)
		case p.expanded > maxAliasValues:
			// Reported once, when the limit was passed.
		default:
			if p.expanding == nil {
				p.expanding = map[*yaml.Node]bool{}
			}
			p.expanding[n.Alias] = true
			defer delete(p.expanding, n.Alias)
			return p.tmpl(n.Alias, sc, later)
		}
		return &Tmpl{kind: tmplLiteral, Pos: pos(n)}
	}
	if n.Tag != "!!str" || !strings.Contains(n.Value, "${{") {
		var v any
		if err := n.Decode(&v); err != nil {
			p.d.add(pos(n), "invalid value: %v", err)
		}
		t.kind, t.lit = tmplLiteral, steps.Normalize(v)
		if n.Tag == "!!str" {
			t.lit = strings.ReplaceAll(n.Value, "$${{", "${{")
		}
		return t
	}
	at := p.valuePos(n)
	segs, off, err := scanTemplate(n.Value)
	if err != nil {
		p.d.add(at(off), "%v", err)
		return t
	}
	compile := func(s segment) *Expr {
		return compileExpr(p.d, s.text, func(from int) Pos { return at(s.offset + from) }, sc, compileOpts{}, later)
	}
	if len(segs) == 1 && segs[0].isExpr {
		t.kind, t.expr = tmplExpr, compile(segs[0])
		if t.expr == nil {
			t.kind, t.lit = tmplLiteral, nil
		}
		return t
	}
	t.kind = tmplInterp
	for _, s := range segs {
		if s.isExpr {
			t.parts = append(t.parts, part{expr: compile(s)})
		} else {
			t.parts = append(t.parts, part{text: s.text})
		}
	}
	return t
}

func (p *parser) with(n *yaml.Node, spec *steps.Spec, sc *scope, stepNode *yaml.Node) *Tmpl {
	return p.withLater(n, spec, sc, stepNode, p.later(nil))
}

func (p *parser) withLater(n *yaml.Node, spec *steps.Spec, sc *scope, stepNode *yaml.Node, later map[string]bool) *Tmpl {
	if n.Kind != yaml.MappingNode {
		p.d.add(pos(n), "with: expected a mapping of params for %s, found %s", spec.Kind, kindName(n))
		return nil
	}
	t := &Tmpl{kind: tmplMap, Pos: pos(n)}
	given := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		prm := spec.Param(k.Value)
		if prm == nil {
			p.d.add(pos(k), "with: unknown param %q for %s%s (expected one of: %s)", k.Value, spec.Kind, hint(k.Value, spec.ParamNames()), list(spec.ParamNames()))
			continue
		}
		if given[k.Value] {
			p.d.add(pos(k), "with: param %q appears twice", k.Value)
			continue
		}
		given[k.Value] = true
		vt := p.tmpl(v, sc, later)
		p.checkParam(prm, vt, v, spec)
		t.keys = append(t.keys, &Tmpl{kind: tmplLiteral, lit: k.Value, Pos: pos(k)})
		t.vals = append(t.vals, vt)
	}
	p.checkRequired(spec, given, pos(stepNode))
	for _, pr := range checkRules(spec, t, nil, pos(stepNode)) {
		p.d.add(pr.at, "%s", pr.msg)
	}
	return t
}

func (p *parser) checkRequired(spec *steps.Spec, given map[string]bool, at Pos) {
	for _, prm := range spec.Params {
		if prm.Required && !given[prm.Name] {
			p.d.add(at, "with: missing required param %q for %s (%s)", prm.Name, spec.Kind, prm.Doc)
		}
	}
}

// checkParam checks a param value against its declared type: literals are
// coerced now, expressions are checked by their static type.
func (p *parser) checkParam(prm *steps.Param, t *Tmpl, n *yaml.Node, spec *steps.Spec) {
	what := fmt.Sprintf("with: %s", prm.Name)
	if t.IsLiteral() {
		raw, err := t.Eval(nil)
		if err != nil || raw == nil {
			if n.Tag == "!!null" {
				if prm.Required {
					p.d.add(pos(n), "%s: expected %s, found nothing (null)", what, steps.Describe(prm.Type))
				}
			}
			return
		}
		// The same check as Bind's when the step runs (steps.Param.Check).
		if _, err := prm.Check(raw); err != nil {
			p.d.add(pos(n), "%s: %v", what, err)
		}
		return
	}
	switch t.kind {
	case tmplInterp:
		if prm.Type == steps.List || prm.Type == steps.Map {
			p.d.add(pos(n), "%s: expected %s, found text with ${{ }} inside (use exactly one ${{ }} to keep the value's type)", what, steps.Describe(prm.Type))
		}
	case tmplList:
		if prm.Type != steps.List {
			p.d.add(pos(n), "%s: expected %s, found a list", what, steps.Describe(prm.Type))
		}
	case tmplMap:
		if prm.Type != steps.Map {
			p.d.add(pos(n), "%s: expected %s, found a map", what, steps.Describe(prm.Type))
		}
	case tmplExpr:
		if t.expr == nil {
			return
		}
		if typ := t.expr.Type(); typ != nil && !compatible(typ, prm.Type) {
			p.d.add(t.expr.Pos, "%s: expected %s, found an expression of type %s", what, steps.Describe(prm.Type), typeWord(typ))
		}
	}
}

// compatible says whether an expression's static type can fill a param of
// type t. Strings are accepted for scalar params, since they are parsed
// (values from Octopus are text).
func compatible(typ reflect.Type, t steps.Type) bool {
	k := typ.Kind()
	if k == reflect.Interface {
		return true
	}
	switch t {
	case steps.String:
		return k != reflect.Slice && k != reflect.Map && k != reflect.Struct
	case steps.Int, steps.Number:
		return isNumeric(k) || k == reflect.String
	case steps.Bool:
		return k == reflect.Bool || k == reflect.String
	case steps.Duration:
		return typ == reflect.TypeOf(time.Duration(0)) || k == reflect.String
	case steps.List:
		return k == reflect.Slice || k == reflect.Array || k == reflect.String
	case steps.Map:
		return k == reflect.Map || k == reflect.String
	}
	return true
}

func typeWord(t reflect.Type) string {
	if t == reflect.TypeOf(time.Duration(0)) {
		return "duration"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "bool"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map, reflect.Struct:
		return "map"
	case reflect.Float32, reflect.Float64:
		return "number"
	}
	if isNumeric(t.Kind()) {
		return "int"
	}
	return t.String()
}
