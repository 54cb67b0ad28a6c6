package engine

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/expr-lang/expr/ast"
	exprparser "github.com/expr-lang/expr/parser"
)

// This file checks the names an expression reads against its scope before
// the expression is type-checked, so an unknown or misspelt name gets our
// message and a hint rather than the type checker's.

// checkNames walks member chains rooted at scope objects (inputs, steps,
// colours, live, idle) and unknown identifiers, reporting each with a hint.
func checkNames(d *diags, tree *exprparser.Tree, src string, at func(int) Pos, sc *scope, laterSteps map[string]bool) bool {
	ok := true
	var visit func(n ast.Node)
	reported := map[int]bool{}
	report := func(from int, format string, args ...any) {
		if reported[from] {
			return
		}
		reported[from] = true
		ok = false
		d.add(at(from), format, args...)
	}
	visit = func(n ast.Node) {
		m, isMember := n.(*ast.MemberNode)
		if !isMember {
			return
		}
		prop, isStr := m.Property.(*ast.StringNode)
		if !isStr {
			return
		}
		parent, path, depth := memberType(sc, m.Node)
		if parent == nil || parent.Kind() != reflect.Struct {
			return
		}
		known := fieldNames(parent)
		if contains(known, prop.Value) {
			return
		}
		from := prop.Location().From
		if si := sc.stepsInfo(); path == "steps" && si != nil {
			// The scope's steps struct holds only the steps this
			// expression names; the message lists all it could name.
			known = si.ids()
		}
		switch {
		case path == "steps":
			if laterSteps[prop.Value] {
				report(from, "step %q runs later: its outputs are not available here (expected a step that runs before this one: %s)", prop.Value, list(known))
			} else {
				report(from, "unknown step %q%s (expected one of the steps that run before this one: %s)", prop.Value, hint(prop.Value, known), list(known))
			}
		case path == "inputs":
			report(from, "unknown input %q%s (declared inputs: %s)", prop.Value, hint(prop.Value, known), list(known))
		case depth == 2 && (strings.HasPrefix(path, "steps.") || strings.HasPrefix(path, "steps[")):
			// steps.<id>.<output>: memberType only returns depth 2 for a
			// member chain, so m.Node is a MemberNode with a string
			// property.
			id := m.Node.(*ast.MemberNode).Property.(*ast.StringNode).Value
			report(from, "step %q has no output %q%s (its outputs: %s)", id, prop.Value, hint(prop.Value, known), list(known))
		default:
			report(from, "unknown field %q of %s%s (expected one of: %s)", prop.Value, path, hint(prop.Value, known), list(known))
		}
	}
	walker := &funcVisitor{fn: visit}
	ast.Walk(&tree.Node, walker)
	// Unknown top-level identifiers.
	idv := &funcVisitor{fn: func(n ast.Node) {
		id, isIdent := n.(*ast.IdentifierNode)
		if !isIdent {
			return
		}
		if contains(sc.names[""], id.Value) || isBuiltin(id.Value) {
			return
		}
		report(id.Location().From, "unknown name %q%s (expected one of: %s)", id.Value, hint(id.Value, sc.names[""]), list(sc.names[""]))
	}}
	ast.Walk(&tree.Node, idv)
	return ok
}

// memberType is the static type of a chain of names rooted at the scope
// (steps.check, colours.blue), with its path as written and its length;
// nil when the chain leaves the typed part of the scope (a map, a local
// variable of unknown type, a function call).
func memberType(sc *scope, n ast.Node) (reflect.Type, string, int) {
	switch x := n.(type) {
	case *ast.IdentifierNode:
		for _, f := range sc.fields {
			if f.name == x.Value {
				return f.typ, x.Value, 1
			}
		}
	case *ast.MemberNode:
		prop, ok := x.Property.(*ast.StringNode)
		if !ok {
			return nil, "", 0
		}
		t, path, depth := memberType(sc, x.Node)
		if t == nil || t.Kind() != reflect.Struct {
			return nil, "", 0
		}
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).Tag.Get("expr") == prop.Value {
				if identRe.MatchString(prop.Value) {
					path += "." + prop.Value
				} else {
					path += fmt.Sprintf("[%q]", prop.Value)
				}
				return t.Field(i).Type, path, depth + 1
			}
		}
	}
	return nil, "", 0
}

type funcVisitor struct{ fn func(ast.Node) }

func (v *funcVisitor) Visit(n *ast.Node) { v.fn(*n) }

// isBuiltin reports expr's own functions and predicates' implicit names,
// which the identifier walk would otherwise flag.
func isBuiltin(name string) bool {
	switch name {
	case "#", "nil", "true", "false", "$env", "#index", "#acc":
		return true
	}
	for _, b := range builtinNames {
		if b == name {
			return true
		}
	}
	return false
}

var builtinNames = []string{
	"all", "none", "any", "one", "filter", "map", "count", "sum", "find", "findIndex", "findLast",
	"findLastIndex", "groupBy", "sortBy", "reduce", "len", "type", "abs", "ceil", "floor", "round",
	"int", "float", "string", "trim", "trimPrefix", "trimSuffix", "upper", "lower", "split",
	"splitAfter", "replace", "repeat", "indexOf", "lastIndexOf", "hasPrefix", "hasSuffix", "max",
	"min", "mean", "median", "toJSON", "fromJSON", "toBase64", "fromBase64", "now", "duration",
	"date", "timezone", "first", "last", "get", "keys", "values", "toPairs", "fromPairs", "sort",
	"concat", "flatten", "uniq", "join", "reverse", "bitand", "bitor", "bitxor", "bitnand",
	"bitnot", "bitshl", "bitshr", "bitushr", "take",
}
