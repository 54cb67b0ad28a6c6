package engine

// Gates, and the conditions and durations they are written with.

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// durationOrTmpl parses a duration written literally ("30s") or as one
// expression ("${{ inputs.bake }}"), whose static type must fit.
func (p *parser) durationOrTmpl(n *yaml.Node, what string, sc *scope, later map[string]bool) (time.Duration, *Tmpl, bool) {
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${{") {
		t := p.tmpl(n, sc, later)
		if t.kind != tmplExpr {
			p.d.add(pos(n), "%s: expected a duration or exactly one ${{ }} expression, found %q", what, n.Value)
			return 0, nil, false
		}
		if t.expr != nil {
			if typ := t.expr.Type(); typ != nil && !durationExpr(typ) {
				p.d.add(t.expr.Pos, "%s: expected a duration, found an expression of type %s%s", what, typeWord(typ), durationHint(typ))
				return 0, nil, false
			}
		}
		return 0, t, true
	}
	d, ok := p.duration(n, what)
	return d, nil, ok
}

func (p *parser) gate(n *yaml.Node, what string, sc, outer *scope, later map[string]bool) *Gate {
	f := p.fields(n, what+": gate", "until", "fail", "every", "timeout", "passes", "max_errors")
	if n.Kind != yaml.MappingNode {
		return nil
	}
	g := &Gate{Every: DefaultGateEvery, Timeout: DefaultGateTimeout, Passes: 1, Pos: pos(n)}
	if v, ok := f["until"]; ok {
		g.Until = p.boolOrExprLater(v, what+": gate: until", sc, compileOpts{asBool: true}, later)
	}
	if v, ok := f["fail"]; ok {
		g.Fail = p.boolOrExprLater(v, what+": gate: fail", sc, compileOpts{asBool: true}, later)
	}
	if f["until"] == nil && f["fail"] == nil {
		p.d.add(pos(n), "%s: gate: expected until (the condition to wait for) or fail (the condition that fails at once), found neither", what)
	}
	if v, ok := f["every"]; ok {
		if d, t, ok := p.durationOrTmpl(v, what+": gate: every", outer, later); ok {
			if t == nil && d <= 0 {
				p.d.add(pos(v), "%s: gate: every: expected a duration above zero, found %q", what, v.Value)
			}
			g.Every, g.everyT = d, t
		}
	}
	if v, ok := f["timeout"]; ok {
		if d, t, ok := p.durationOrTmpl(v, what+": gate: timeout", outer, later); ok {
			if t == nil && d < 0 {
				p.d.add(pos(v), "%s: gate: timeout: expected a duration of zero (check once) or more, found %q", what, v.Value)
			}
			g.Timeout, g.timeoutT = d, t
		}
	}
	if v, ok := f["passes"]; ok {
		if i, ok := p.integer(v, what+": gate: passes"); ok {
			if i < 1 {
				p.d.add(pos(v), "%s: gate: passes: expected 1 or more, found %d", what, i)
			}
			g.Passes = i
		}
	}
	if v, ok := f["max_errors"]; ok {
		if i, ok := p.integer(v, what+": gate: max_errors"); ok {
			if i < 0 {
				p.d.add(pos(v), "%s: gate: max_errors: expected 0 (no limit) or more, found %d", what, i)
			}
			g.MaxErrors = i
		}
	}
	return g
}

// boolOrExpr compiles a condition written either bare (`healthy > 0`) or
// wrapped (`${{ healthy > 0 }}`).
func (p *parser) boolOrExpr(n *yaml.Node, what string, sc *scope, o compileOpts) *Expr {
	return p.boolOrExprLater(n, what, sc, o, p.later(nil))
}

func (p *parser) boolOrExprLater(n *yaml.Node, what string, sc *scope, o compileOpts, later map[string]bool) *Expr {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.d.add(pos(n), "%s: expected an expression, found %s", what, kindName(n))
		return nil
	}
	o.what = what
	src := n.Value
	at := p.valuePos(n)
	base := 0
	segs, off, err := scanTemplate(src)
	switch {
	case err != nil:
		p.d.add(at(off), "%s: %v", what, err)
		return nil
	case len(segs) == 1 && segs[0].isExpr:
		base, src = segs[0].offset, segs[0].text
	case strings.Contains(src, "${{"):
		p.d.add(at(0), "%s: expected one expression, found text mixed with ${{ }}", what)
		return nil
	default:
		trimmed := strings.TrimLeftFunc(src, unicode.IsSpace)
		base = utf8.RuneCountInString(src) - utf8.RuneCountInString(trimmed)
		src = strings.TrimSpace(src)
	}
	if src == "" {
		p.d.add(pos(n), "%s: expected an expression, found an empty string", what)
		return nil
	}
	return compileExpr(p.d, src, func(from int) Pos { return at(base + from) }, sc, o, later)
}
