package engine

import (
	"reflect"
	"sort"

	"github.com/expr-lang/expr/ast"
	exprparser "github.com/expr-lang/expr/parser"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// Loading must cost time and memory linear in the number of steps. A
// scope whose `steps` field were a struct of every step visible at that
// point would make each step's scope as large as the runbook before it,
// and building those types quadratic (10,000 steps took minutes and
// gigabytes). Instead a scope only remembers which steps are visible (a
// prefix of one shared slice, so remembering costs nothing), and each
// expression is compiled against a `steps` struct holding just the steps
// it names. An expression that uses `steps` as a whole (keys(steps),
// toJSON(steps), steps[name] with a computed name) still gets every
// visible step, as before.

// stepsInfo is what a scope knows about the steps it can see.
type stepsInfo struct {
	visible []stepOut
	// outTypes caches each step kind's outputs struct, shared by the whole
	// parse.
	outTypes map[*steps.Spec]reflect.Type
}

// emptyStruct stands for `steps` in a scope's own type; specialize
// replaces it for each expression.
var emptyStruct = reflect.TypeOf(struct{}{})

// stepsField is the `steps` entry of a step-level scope.
func (p *parser) stepsField(visible []stepOut) scopeField {
	if p.outTypes == nil {
		p.outTypes = map[*steps.Spec]reflect.Type{}
	}
	return scopeField{name: "steps", typ: emptyStruct, steps: &stepsInfo{visible: visible[:len(visible):len(visible)], outTypes: p.outTypes}}
}

// outputsOf is the outputs struct of a visible step kind, built once.
func (si *stepsInfo) outputsOf(s *steps.Spec) reflect.Type {
	t, ok := si.outTypes[s]
	if !ok {
		t = outputsType(s)
		si.outTypes[s] = t
	}
	return t
}

// ids lists the visible step ids, sorted, for messages.
func (si *stepsInfo) ids() []string {
	out := make([]string, 0, len(si.visible))
	for _, s := range si.visible {
		out = append(out, s.id)
	}
	sort.Strings(out)
	return out
}

// stepsRefs returns the step ids an expression names as steps.<id> or
// steps["<id>"], and whether it uses steps in any other way.
func stepsRefs(tree *exprparser.Tree) (ids map[string]bool, whole bool) {
	ids = map[string]bool{}
	named := map[ast.Node]bool{}
	ast.Walk(&tree.Node, &funcVisitor{fn: func(n ast.Node) {
		m, ok := n.(*ast.MemberNode)
		if !ok {
			return
		}
		id, ok := m.Node.(*ast.IdentifierNode)
		if !ok || id.Value != "steps" {
			return
		}
		if prop, ok := m.Property.(*ast.StringNode); ok {
			ids[prop.Value] = true
			named[id] = true
		}
	}})
	ast.Walk(&tree.Node, &funcVisitor{fn: func(n ast.Node) {
		if id, ok := n.(*ast.IdentifierNode); ok && id.Value == "steps" && !named[id] {
			whole = true
		}
	}})
	return ids, whole
}

// specialize returns the scope an expression is compiled in: sc with its
// `steps` field holding the visible steps the expression names (all of
// them when it uses steps as a whole). Names that are not visible are left
// out, so the name check reports them.
func (sc *scope) specialize(tree *exprparser.Tree) *scope {
	si := sc.stepsInfo()
	if si == nil {
		return sc
	}
	ids, whole := stepsRefs(tree)
	if len(ids) == 0 && !whole {
		return sc
	}
	seen := map[string]bool{}
	var sf []scopeField
	for _, s := range si.visible {
		if (whole || ids[s.id]) && !seen[s.id] {
			seen[s.id] = true
			sf = append(sf, scopeField{name: s.id, typ: si.outputsOf(s.spec)})
		}
	}
	stepsT, _ := structOf(sf)
	fields := append([]scopeField(nil), sc.fields...)
	for i := range fields {
		if fields[i].steps != nil {
			fields[i].typ = stepsT
		}
	}
	out := newScope(fields)
	return out
}

// stepsInfo returns what the scope knows about visible steps, or nil when
// `steps` is not in it (or is hidden by a local of the same name).
func (sc *scope) stepsInfo() *stepsInfo {
	for _, f := range sc.fields {
		if f.name == "steps" {
			return f.steps
		}
	}
	return nil
}
