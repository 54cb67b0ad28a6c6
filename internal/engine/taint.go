package engine

import (
	"strings"

	"github.com/expr-lang/expr/ast"
	exprparser "github.com/expr-lang/expr/parser"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// A value computed from a secret is a secret: `upper(inputs.pw)`,
// `toBase64(inputs.user + ":" + inputs.pw)` or "--password=${{ inputs.pw }}"
// must be masked like the input itself. Which expressions carry a secret
// is decided once, after load, from what each reads (taintOf): a
// sensitive input, a colour attribute computed from one, a sensitive
// output of a step, or a foreach variable whose list carries one. When
// the executor evaluates a tainted expression it registers the resulting
// strings as secrets (noteSecrets), with the expression as their
// reference when it reads nothing but inputs, so the journal can store
// the reference and rollback compute the value again.
//
// Only strings are registered: a number or a bool computed from a secret
// (its length, whether it matches) is not itself secret enough to mask
// every "8" or "true" in every line.

// exprTaint is what the taint pass records on an expression.
type exprTaint struct {
	tainted bool
	// ref is the expression's source when it reads only inputs, so it can
	// be evaluated again from the inputs alone.
	ref string
}

// readPaths lists the longest static member paths an expression reads,
// rooted at a name: "inputs.pw", "steps.check.token", "inputs" (the whole
// object), "pct".
func readPaths(tree *exprparser.Tree) []string {
	var out []string
	inner := map[ast.Node]bool{}
	ast.Walk(&tree.Node, &funcVisitor{fn: func(n ast.Node) {
		// Walk visits children first: mark every node under a member
		// chain, so only the outermost chain is reported.
		if m, ok := n.(*ast.MemberNode); ok {
			inner[m.Node] = true
		}
	}})
	ast.Walk(&tree.Node, &funcVisitor{fn: func(n ast.Node) {
		if inner[n] {
			return
		}
		switch n.(type) {
		case *ast.MemberNode, *ast.IdentifierNode:
			if p := memberPath(n); p != "" {
				out = append(out, p)
			} else if m, ok := n.(*ast.MemberNode); ok {
				// A computed member (inputs[name]) reads the whole object.
				if root := memberPath(m.Node); root != "" {
					out = append(out, root)
				}
			}
		}
	}})
	return out
}

// taintCtx is what makes a name carry a secret at one point of a runbook.
type taintCtx struct {
	sensitiveInputs map[string]bool
	anyInput        bool
	taintedAttrs    map[string]bool
	stepSpecs       map[string]*steps.Spec
	locals          map[string]bool // foreach variables and their taint
	own             *steps.Spec     // a gate's step: its outputs are names
}

func sensitiveOutputs(s *steps.Spec) bool {
	for _, o := range s.Outputs {
		if o.Sensitive {
			return true
		}
	}
	return false
}

func outputSensitive(s *steps.Spec, name string) bool {
	for _, o := range s.Outputs {
		if o.Name == name {
			return o.Sensitive
		}
	}
	return false
}

// pathTainted says whether reading path carries a secret.
func (c *taintCtx) pathTainted(path string) (tainted, onlyInputs bool) {
	segs := splitPath(path)
	root := segs[0]
	if t, isLocal := c.locals[root]; isLocal {
		return t, false
	}
	if c.own != nil {
		for _, o := range c.own.Outputs {
			if o.Name == root {
				return o.Sensitive, false
			}
		}
	}
	switch root {
	case "inputs":
		if len(segs) == 1 {
			return c.anyInput, true
		}
		return c.sensitiveInputs[segs[1]], true
	case "colours", "live", "idle":
		attr := 1
		if root == "colours" {
			attr = 2
		}
		if len(segs) <= attr {
			return len(c.taintedAttrs) > 0, false
		}
		return c.taintedAttrs[segs[attr]], false
	case "steps":
		if len(segs) == 1 {
			for _, s := range c.stepSpecs {
				if sensitiveOutputs(s) {
					return true, false
				}
			}
			return false, false
		}
		s := c.stepSpecs[segs[1]]
		if s == nil {
			return false, false
		}
		if len(segs) == 2 {
			return sensitiveOutputs(s), false
		}
		return outputSensitive(s, segs[2]), false
	case "run":
		return false, false
	}
	// Anything else is a name the expression binds itself (let x = ...;
	// a predicate's variable): what it holds is read, and judged, where
	// it is bound.
	return false, true
}

// splitPath splits a.b["c-d"].e into its names.
func splitPath(p string) []string {
	var out []string
	for p != "" {
		switch {
		case strings.HasPrefix(p, "."):
			p = p[1:]
		case strings.HasPrefix(p, `["`):
			end := strings.Index(p, `"]`)
			if end < 0 {
				return append(out, p)
			}
			out = append(out, p[2:end])
			p = p[end+2:]
			continue
		}
		i := strings.IndexAny(p, ".[")
		if i < 0 {
			return append(out, p)
		}
		if i > 0 {
			out = append(out, p[:i])
		}
		p = p[i:]
	}
	return out
}

// mark records an expression's taint in context c.
func (c *taintCtx) mark(e *Expr) bool {
	if e == nil {
		return false
	}
	t, only := false, true
	for _, p := range e.reads {
		pt, pi := c.pathTainted(p)
		t = t || pt
		only = only && pi
	}
	e.taint = exprTaint{tainted: t}
	if t && only {
		e.taint.ref = e.Source
	}
	return t
}

func (c *taintCtx) markTmpl(t *Tmpl) bool {
	any := false
	for _, e := range t.exprs() {
		if c.mark(e) {
			any = true
		}
	}
	return any
}

// markTaint runs the taint pass over a parsed runbook.
func (rb *Runbook) markTaint() {
	c := &taintCtx{sensitiveInputs: map[string]bool{}, taintedAttrs: map[string]bool{}, stepSpecs: map[string]*steps.Spec{}, locals: map[string]bool{}}
	for _, in := range rb.Inputs {
		if in.Sensitive {
			c.sensitiveInputs[in.Name], c.anyInput = true, true
		}
	}
	for _, col := range rb.Colours {
		for _, a := range col.Attrs {
			if c.markTmpl(a.Value) {
				c.taintedAttrs[a.Name] = true
			}
		}
	}
	if d := rb.Detect; d != nil && d.Step != nil {
		c.markTmpl(d.Step.With)
		c.own = d.Step.Spec
		c.mark(d.Live)
		c.own = nil
	}
	var walk func(list []*Step)
	walk = func(list []*Step) {
		for _, st := range list {
			c.mark(st.If)
			if st.timeoutT != nil {
				c.markTmpl(st.timeoutT)
			}
			if st.Foreach != nil {
				tainted := c.markTmpl(st.Foreach)
				prev, had := c.locals[st.As]
				c.locals[st.As] = tainted
				c.locals[st.As+"_index"] = false
				walk(st.Steps)
				if had {
					c.locals[st.As] = prev
				} else {
					delete(c.locals, st.As)
				}
				continue
			}
			c.markTmpl(st.With)
			if g := st.Gate; g != nil {
				c.own = st.Spec
				c.mark(g.Until)
				c.mark(g.Fail)
				c.own = nil
			}
			if st.ID != "" && st.Spec != nil {
				c.stepSpecs[st.ID] = st.Spec
			}
		}
	}
	walk(rb.Steps)
}

// noteSecrets registers the strings the tainted expressions of t produce
// with vals as the run's secrets, before anything reports them.
func (rc *runCtx) noteSecrets(t *Tmpl, vals map[string]any) {
	if t == nil {
		return
	}
	for _, e := range t.exprs() {
		if e == nil || !e.taint.tainted {
			continue
		}
		v, err := e.Eval(vals)
		if err != nil {
			continue
		}
		rc.addSecretStrings(v, e.taint.ref)
	}
}

// addSecretStrings registers every string in v. Only a string that is the
// whole value keeps the reference: a string inside a list is a part of it.
func (rc *runCtx) addSecretStrings(v any, ref string) {
	switch x := v.(type) {
	case string:
		rc.secrets.add(x, ref)
	case []any:
		for _, e := range x {
			rc.addSecretStrings(e, "")
		}
	case map[string]any:
		for _, e := range x {
			rc.addSecretStrings(e, "")
		}
	}
}
