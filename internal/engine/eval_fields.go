package engine

import (
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
