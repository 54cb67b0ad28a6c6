package engine

import (
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	exprparser "github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// Expr is an expression compiled once, at load time, against the typed
// environment of the place it appears in.
type Expr struct {
	Source  string
	Pos     Pos // where the expression text starts in the file
	program *vm.Program
	scope   *scope
	// fields are the scope's top-level fields the expression names, the
	// only ones Eval converts (nil: all); see namedFields.
	fields []int
	// idents are the top-level names and member paths the expression reads,
	// shown with their values when a gate is evaluated.
	idents []string
	// identProgs evaluate idents; they are compiled on first use, since
	// only gate reports need them and compiling them for every expression
	// was most of the cost of loading a runbook.
	// reads and taint: see taint.go.
	reads      []string
	taint      exprTaint
	identOnce  sync.Once
	identNames []string
	identProgs []*vm.Program
	// pool holds VMs and scope structs for Eval; see eval_pool.go.
	pool sync.Pool
}

// Type is the expression's static result type (nil when unknown).
func (e *Expr) Type() reflect.Type {
	if e == nil || e.program == nil {
		return nil
	}
	return e.program.Node().Type()
}

// Eval runs the expression against runtime values (a map keyed like the
// scope it was compiled in).
func (e *Expr) Eval(vals map[string]any) (any, error) {
	if e.fields != nil {
		return e.evalPooled(vals, &e.pool)
	}
	// The expression reads the environment as a whole ($env): every field
	// is filled.
	env := e.scope.value(vals)
	out, err := expr.Run(e.program, env)
	if err != nil {
		return nil, fmt.Errorf("expression %q: %s", e.Source, cleanExprError(err))
	}
	return steps.Normalize(out), nil
}

// EvalBool runs a bool expression.
func (e *Expr) EvalBool(vals map[string]any) (bool, error) {
	v, err := e.Eval(vals)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("expression %q: expected a bool, found %s", e.Source, steps.TypeOf(v))
	}
	return b, nil
}

// Values returns the current values of the names the expression reads, for
// gate reports ("healthy=2 total=3").
func (e *Expr) Values(vals map[string]any) map[string]any {
	e.identOnce.Do(func() {
		env := expr.Env(reflect.New(e.scope.typ).Elem().Interface())
		for _, id := range e.idents {
			if p, err := expr.Compile(id, env); err == nil {
				e.identNames = append(e.identNames, id)
				e.identProgs = append(e.identProgs, p)
			}
		}
	})
	out := map[string]any{}
	env := e.namedEnv(vals)
	for i, id := range e.identNames {
		if v, err := expr.Run(e.identProgs[i], env); err == nil {
			switch v.(type) {
			case map[string]any, []any:
				// Whole objects are noise in a gate report; their fields
				// are listed on their own when the expression reads them.
				continue
			}
			if reflect.ValueOf(v).Kind() == reflect.Struct {
				continue
			}
			out[id] = steps.Normalize(v)
		}
	}
	return out
}

// tmplKind says what a template is.
type tmplKind int

const (
	tmplLiteral tmplKind = iota // a plain value
	tmplExpr                    // exactly one ${{ }}: keeps the expression's type
	tmplInterp                  // text with ${{ }} inside: always a string
	tmplList
	tmplMap
)

// Tmpl is a value from the runbook that may contain ${{ expressions }}.
type Tmpl struct {
	kind  tmplKind
	lit   any
	expr  *Expr
	parts []part
	list  []*Tmpl
	keys  []*Tmpl
	vals  []*Tmpl
	Pos   Pos
}

type part struct {
	text string
	expr *Expr
}

// IsLiteral reports whether the template holds no expression at all.
func (t *Tmpl) IsLiteral() bool {
	if t == nil {
		return true
	}
	switch t.kind {
	case tmplLiteral:
		return true
	case tmplList:
		for _, e := range t.list {
			if !e.IsLiteral() {
				return false
			}
		}
		return true
	case tmplMap:
		for i := range t.keys {
			if !t.keys[i].IsLiteral() || !t.vals[i].IsLiteral() {
				return false
			}
		}
		return true
	}
	return false
}

// Eval resolves the template to a value.
func (t *Tmpl) Eval(vals map[string]any) (any, error) {
	if t == nil {
		return nil, nil
	}
	switch t.kind {
	case tmplLiteral:
		return t.lit, nil
	case tmplExpr:
		return t.expr.Eval(vals)
	case tmplInterp:
		var b strings.Builder
		for _, p := range t.parts {
			if p.expr == nil {
				b.WriteString(p.text)
				continue
			}
			v, err := p.expr.Eval(vals)
			if err != nil {
				return nil, err
			}
			b.WriteString(steps.FormatValue(v))
		}
		return b.String(), nil
	case tmplList:
		out := make([]any, len(t.list))
		for i, e := range t.list {
			v, err := e.Eval(vals)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case tmplMap:
		out := make(map[string]any, len(t.keys))
		for i := range t.keys {
			k, err := t.keys[i].Eval(vals)
			if err != nil {
				return nil, err
			}
			v, err := t.vals[i].Eval(vals)
			if err != nil {
				return nil, err
			}
			out[steps.FormatValue(k)] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("invalid template")
}

// exprs lists every expression in the template.
func (t *Tmpl) exprs() []*Expr {
	if t == nil {
		return nil
	}
	var out []*Expr
	switch t.kind {
	case tmplExpr:
		out = append(out, t.expr)
	case tmplInterp:
		for _, p := range t.parts {
			if p.expr != nil {
				out = append(out, p.expr)
			}
		}
	case tmplList:
		for _, e := range t.list {
			out = append(out, e.exprs()...)
		}
	case tmplMap:
		for i := range t.keys {
			out = append(out, t.keys[i].exprs()...)
			out = append(out, t.vals[i].exprs()...)
		}
	}
	return out
}

// segment is a piece of a scanned string: literal text or an expression
// with its offset (in runes) from the start of the string.
type segment struct {
	text   string
	isExpr bool
	offset int
}

// scanTemplate splits s into text and ${{ expr }} segments. It understands
// quotes and braces inside the expression, so `${{ {"a": 1}["a"] }}` works,
// and `$${{` escapes a literal `${{`. It returns the rune offset of a
// problem along with the error.
func scanTemplate(s string) ([]segment, int, error) {
	var segs []segment
	r := []rune(s)
	var text strings.Builder
	i := 0
	for i < len(r) {
		if r[i] == '$' && i+3 < len(r)+1 && strings.HasPrefix(string(r[i:]), "$${{") {
			text.WriteString("${{")
			i += 4
			continue
		}
		if strings.HasPrefix(string(r[i:min(i+3, len(r))]), "${{") {
			start := i
			j := i + 3
			depth := 0
			var quote rune
			end := -1
			for j < len(r) {
				c := r[j]
				switch {
				case quote != 0:
					if c == '\\' {
						j++
					} else if c == quote {
						quote = 0
					}
				case c == '"' || c == '\'' || c == '`':
					quote = c
				case c == '{':
					depth++
				case c == '}':
					if depth == 0 && j+1 < len(r) && r[j+1] == '}' {
						end = j
					} else if depth > 0 {
						depth--
					}
				}
				if end >= 0 {
					break
				}
				j++
			}
			if end < 0 {
				return nil, start, fmt.Errorf("expected }} to close the ${{ opened here")
			}
			if text.Len() > 0 {
				segs = append(segs, segment{text: text.String()})
				text.Reset()
			}
			body := string(r[i+3 : end])
			lead := len([]rune(body)) - len([]rune(strings.TrimLeft(body, " \t\n")))
			trimmed := strings.TrimSpace(body)
			if trimmed == "" {
				return nil, start, fmt.Errorf("expected an expression inside ${{ }}, found nothing")
			}
			segs = append(segs, segment{text: trimmed, isExpr: true, offset: i + 3 + lead})
			i = end + 2
			continue
		}
		text.WriteRune(r[i])
		i++
	}
	if text.Len() > 0 {
		segs = append(segs, segment{text: text.String()})
	}
	return segs, 0, nil
}

// cleanExprError turns expr's messages into ours: no Go struct types, no
// snippet (we print our own, pointing into the YAML).
func cleanExprError(err error) string {
	msg := err.Error()
	if fe, ok := err.(*file.Error); ok {
		msg = fe.Message
	}
	if i := strings.Index(msg, "\n"); i >= 0 {
		msg = msg[:i]
	}
	msg = structTypeRe.ReplaceAllString(msg, "object")
	// The lexer calls the end of the text a token; people do not.
	msg = strings.ReplaceAll(msg, "unexpected token EOF", "unexpected end of the expression")
	return msg
}

// exprIdents collects the member paths an expression reads (a.b.c), for
// gate reports.
func exprIdents(tree *exprparser.Tree) []string {
	seen := map[string]bool{}
	var out []string
	v := &identVisitor{fn: func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}}
	ast.Walk(&tree.Node, v)
	return out
}

type identVisitor struct{ fn func(string) }

func (v *identVisitor) Visit(n *ast.Node) {
	switch x := (*n).(type) {
	case *ast.MemberNode:
		if p := memberPath(x); p != "" {
			v.fn(p)
		}
	case *ast.IdentifierNode:
		v.fn(x.Value)
	}
}

// memberPath renders a.b["c-d"].e for member chains rooted at an
// identifier; "" for anything else.
func memberPath(n ast.Node) string {
	switch x := n.(type) {
	case *ast.IdentifierNode:
		return x.Value
	case *ast.MemberNode:
		base := memberPath(x.Node)
		if base == "" {
			return ""
		}
		s, ok := x.Property.(*ast.StringNode)
		if !ok {
			return ""
		}
		if identRe.MatchString(s.Value) {
			return base + "." + s.Value
		}
		return fmt.Sprintf("%s[%q]", base, s.Value)
	}
	return ""
}
