package engine

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/expr-lang/expr"
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
// zero value, which is what a skipped step's outputs look like). The
// conversion is setInto's (eval_pool.go), into a new value.
func fill(t reflect.Type, v any) reflect.Value {
	out := reflect.New(t).Elem()
	setInto(out, v)
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
