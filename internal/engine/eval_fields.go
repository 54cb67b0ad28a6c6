package engine

import (
	"reflect"

	"github.com/expr-lang/expr/ast"
	exprparser "github.com/expr-lang/expr/parser"
)

// namedFields returns the indices of the scope's top-level fields an
// expression names, so that evaluating it converts only those from the
// runtime maps. Filling the whole scope (inputs, colours, every earlier
// step's outputs) at each gate poll cost ten times the evaluation itself;
// a gate reading `healthy` and `total` now converts two integers. Every
// read of a top-level name goes through an identifier node, so walking the
// identifiers finds them all; an expression that reads the environment as
// a whole ($env) gets every field (nil).
func namedFields(tree *exprparser.Tree, sc *scope) []int {
	named := map[string]bool{}
	all := false
	ast.Walk(&tree.Node, &funcVisitor{fn: func(n ast.Node) {
		if id, ok := n.(*ast.IdentifierNode); ok {
			named[id.Value] = true
			if id.Value == "$env" {
				all = true
			}
		}
	}})
	if all {
		return nil
	}
	idx := []int{}
	for i, f := range sc.fields {
		if named[f.name] {
			idx = append(idx, i)
		}
	}
	return idx
}

// namedEnv fills a new scope struct with only the top-level fields the
// expression names (all of them when it reads $env), for the gate report's
// Values: at every poll it reads the same few names Eval does, and a full
// fill cost it ten times the evaluation. It returns a pointer, through
// which expr reads the fields without copying the struct.
func (e *Expr) namedEnv(vals map[string]any) any {
	if e.fields == nil {
		return e.scope.value(vals)
	}
	ptr := reflect.New(e.scope.typ)
	s := ptr.Elem()
	for _, i := range e.fields {
		setInto(s.Field(i), vals[e.scope.fields[i].name])
	}
	return ptr.Interface()
}
