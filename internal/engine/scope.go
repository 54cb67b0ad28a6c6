package engine

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	exprparser "github.com/expr-lang/expr/parser"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

var (
	identRe      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	structTypeRe = regexp.MustCompile(`struct \{[^}]*\}`)
	anyType      = reflect.TypeOf((*any)(nil)).Elem()
)

// scope is the typed environment an expression is compiled in: a struct
// type built with reflect.StructOf whose fields carry `expr:"name"` tags.
// Compiling against it makes expr reject unknown names and mistyped
// operations at load time; at run time the same type is filled from maps.
type scope struct {
	typ    reflect.Type
	fields []scopeField
	// names of the fields, for "did you mean" hints.
	names map[string][]string
}

type scopeField struct {
	name string
	typ  reflect.Type
	// steps is set on the `steps` field of step-level scopes; see
	// scope_steps.go.
	steps *stepsInfo
}

// goType maps a step/input type to the Go type expressions see.
func goType(t steps.Type) reflect.Type {
	switch t {
	case steps.String:
		return reflect.TypeOf("")
	case steps.Int:
		return reflect.TypeOf(0)
	case steps.Number:
		return reflect.TypeOf(0.0)
	case steps.Bool:
		return reflect.TypeOf(false)
	case steps.Duration:
		return reflect.TypeOf(time.Duration(0))
	case steps.List:
		return reflect.TypeOf([]any{})
	case steps.Map:
		return reflect.TypeOf(map[string]any{})
	}
	return anyType
}

// structOf builds a struct type from ordered fields; later duplicates are
// dropped (the first wins, so locals shadow globals).
func structOf(fields []scopeField) (reflect.Type, []scopeField) {
	return structCache.get(fields)
}

func buildStruct(fields []scopeField) (reflect.Type, []scopeField) {
	seen := map[string]bool{}
	var sf []reflect.StructField
	var kept []scopeField
	for _, f := range fields {
		if seen[f.name] {
			continue
		}
		seen[f.name] = true
		kept = append(kept, f)
		sf = append(sf, reflect.StructField{
			Name: fmt.Sprintf("F%d", len(sf)),
			Type: f.typ,
			Tag:  reflect.StructTag(fmt.Sprintf(`expr:%q`, f.name)),
		})
	}
	return reflect.StructOf(sf), kept
}

func newScope(fields []scopeField) *scope {
	t, kept := structOf(fields)
	s := &scope{typ: t, fields: kept, names: map[string][]string{}}
	var top []string
	for _, f := range kept {
		top = append(top, f.name)
	}
	s.names[""] = top
	return s
}

func fieldNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		out = append(out, t.Field(i).Tag.Get("expr"))
	}
	sort.Strings(out)
	return out
}

// value fills the scope's struct type from runtime maps.
func (s *scope) value(vals map[string]any) any {
	return fill(s.typ, vals).Interface()
}

// fill converts v into a value of type t: maps become structs field by
// field, numbers convert between numeric kinds, anything else is set as is
// when assignable and left zero when not (the expression then sees the
// zero value, which is what a skipped step's outputs look like).
func fill(t reflect.Type, v any) reflect.Value {
	out := reflect.New(t).Elem()
	if v == nil {
		return out
	}
	if t.Kind() == reflect.Struct {
		m, ok := v.(map[string]any)
		if !ok {
			return out
		}
		for i := 0; i < t.NumField(); i++ {
			name := t.Field(i).Tag.Get("expr")
			out.Field(i).Set(fill(t.Field(i).Type, m[name]))
		}
		return out
	}
	rv := reflect.ValueOf(v)
	switch {
	case rv.Type().AssignableTo(t):
		out.Set(rv)
	case isNumeric(rv.Kind()) && isNumeric(t.Kind()):
		out.Set(rv.Convert(t))
	case t.Kind() == reflect.String && rv.Kind() == reflect.String:
		out.SetString(rv.String())
	}
	return out
}

func isNumeric(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// compileOpts say what an expression must produce.
type compileOpts struct {
	asBool   bool
	asString bool
	// what names the place (e.g. "step check: gate: until") in the
	// message when the result has the wrong type.
	what string
}

// compileExpr parses and type-checks src in scope sc. at maps a rune offset
// in src to its place in the file, so problems are reported with the line
// and column inside the expression.
// laterSteps names steps that exist but run after this point, for a
// clearer message than "unknown field".
func compileExpr(d *diags, src string, at func(from int) Pos, sc *scope, o compileOpts, laterSteps map[string]bool) *Expr {
	tree, err := exprparser.Parse(src)
	if err != nil {
		d.add(at(errFrom(err)), "invalid expression %q: %s", src, cleanExprError(err))
		return nil
	}
	sc = sc.specialize(tree)
	// Check names first: our messages are better than a type checker's.
	if !checkNames(d, tree, src, at, sc, laterSteps) {
		return nil
	}
	// The environment is made only when the program is compiled, not when
	// the parse's cache already holds it.
	opts := []expr.Option{func(c *conf.Config) { c.WithEnv(reflect.New(sc.typ).Elem().Interface()) }}
	if o.asBool {
		opts = append(opts, expr.AsBool())
	}
	if o.asString {
		opts = append(opts, expr.AsKind(reflect.String))
	}
	prog, err := d.progs.compile(src, sc.typ, o, opts...)
	if err != nil {
		msg := cleanExprError(err)
		want := ""
		switch {
		case o.asBool && strings.HasPrefix(msg, "expected bool, but got"):
			want = "a bool"
		case o.asString && strings.HasPrefix(msg, "expected string, but got"):
			want = "a string"
		}
		if want != "" {
			// The expression is fine but yields the wrong type: say which
			// type, in our words rather than Go's.
			if plain, perr := compileProgram(src, opts[0]); perr == nil && plain.Node().Type() != nil {
				msg = fmt.Sprintf("expected %s, found an expression of type %s: %q", want, typeWord(plain.Node().Type()), src)
				if o.what != "" {
					msg = o.what + ": " + msg
				}
				d.add(at(0), "%s", msg)
				return nil
			}
		}
		d.add(at(errFrom(err)), "invalid expression %q: %s", src, msg)
		return nil
	}
	e := &Expr{Source: src, Pos: at(0), program: prog, scope: sc, reads: readPaths(tree), fields: namedFields(tree, sc)}
	for _, id := range exprIdents(tree) {
		// Keep the paths rooted in the scope: not let-variables, not
		// predicate pointers. Values compiles them when a gate reports.
		if root, _, _ := strings.Cut(strings.SplitN(id, "[", 2)[0], "."); contains(sc.names[""], root) {
			e.idents = append(e.idents, id)
		}
	}
	return e
}

func errFrom(err error) int {
	if fe, ok := err.(*file.Error); ok {
		return fe.From
	}
	return 0
}

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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// hint suggests the closest known name for a typo.
func hint(s string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(s, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(", did you mean %q?", best)
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
