package engine

import (
	"fmt"
	"reflect"
	"sync"

	"github.com/expr-lang/expr/vm"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// evalState is what one evaluation of an expression needs besides its
// program: the VM (its stack and scopes) and a pointer to the scope's
// struct. Both used to be allocated at every evaluation, which was most of
// the cost of a gate poll once the program itself is compiled at load;
// an expression keeps a pool of them instead. Every evaluation sets each
// field the expression names (to zero when the value is missing), so no
// value of an earlier evaluation is seen; the fields it does not name are
// never set and stay zero, as namedFields requires. The fields, the VM's
// variables and its stack are cleared again after the run (release), so
// that a pooled state does not keep the run's values alive.
type evalState struct {
	vm  vm.VM
	env reflect.Value // *scope.typ
	ptr any           // env.Interface(), boxed once
}

// evalPooled runs the expression with a pooled VM and struct, converting
// only the top-level fields at idx from vals.
func (e *Expr) evalPooled(vals map[string]any, pool *sync.Pool) (any, error) {
	st, _ := pool.Get().(*evalState)
	if st == nil {
		env := reflect.New(e.scope.typ)
		st = &evalState{env: env, ptr: env.Interface()}
	}
	s := st.env.Elem()
	for _, i := range e.fields {
		setInto(s.Field(i), vals[e.scope.fields[i].name])
	}
	out, err := st.vm.Run(e.program, st.ptr)
	st.release(e.fields)
	pool.Put(st)
	if err != nil {
		return nil, fmt.Errorf("expression %q: %s", e.Source, cleanExprError(err))
	}
	return steps.Normalize(out), nil
}

// release clears what the run left in the state before it goes back to
// the pool: the fields it set and the VM's variables and stack. The stack
// matters too: values the program popped (the result, the fields it read,
// an output that may be sensitive) stay in its backing array until a later
// run overwrites them, and the pool may keep the state for long.
func (st *evalState) release(fields []int) {
	s := st.env.Elem()
	for _, i := range fields {
		s.Field(i).SetZero()
	}
	clear(st.vm.Variables)
	clear(st.vm.Stack[:cap(st.vm.Stack)])
	st.vm.Stack = st.vm.Stack[:0]
}

// setInto stores v in dst converted as fill describes, in place: a gate
// poll converts the same few fields of a pooled struct each time, and
// fill, which makes a new value, converts through it too.
func setInto(dst reflect.Value, v any) {
	t := dst.Type()
	if v == nil {
		dst.SetZero()
		return
	}
	if t == anyType {
		// Storing through the field's address keeps the value's own
		// interface box; reflect's Set would copy it into a new one.
		*dst.Addr().Interface().(*any) = v
		return
	}
	if t.Kind() == reflect.Struct {
		m, ok := v.(map[string]any)
		if !ok {
			dst.SetZero()
			return
		}
		for i := 0; i < t.NumField(); i++ {
			setInto(dst.Field(i), m[t.Field(i).Tag.Get("expr")])
		}
		return
	}
	rv := reflect.ValueOf(v)
	switch {
	case rv.Type().AssignableTo(t):
		dst.Set(rv)
	case isNumeric(rv.Kind()) && isNumeric(t.Kind()):
		dst.Set(rv.Convert(t))
	case t.Kind() == reflect.String && rv.Kind() == reflect.String:
		dst.SetString(rv.String())
	default:
		dst.SetZero()
	}
}
