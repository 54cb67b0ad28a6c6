package engine

import (
	"reflect"
	"sync"
	"testing"
)

// TestPooledEvalForgetsEarlierValues checks that an expression evaluated
// with a pooled VM and scope struct sees only the values of this
// evaluation: a name missing now reads as zero even when the previous
// evaluation set it, numbers still convert to the declared type, and
// evaluations running at the same time do not see each other's values.
func TestPooledEvalForgetsEarlierValues(t *testing.T) {
	rb, err := Load("testdata/weighted.yaml", testRegistry(newWorld()))
	if err != nil {
		t.Fatal(err)
	}
	until := rb.Steps[1].Gate.Until
	if until.fields == nil {
		t.Fatalf("gate %q converts every field; want only the ones it names", until.Source)
	}
	cases := []struct {
		vals map[string]any
		want bool
	}{
		{map[string]any{"healthy": 3, "total": 3}, true},
		{map[string]any{"healthy": 3}, false}, // total is zero now
		{map[string]any{"healthy": 2.0, "total": int64(2)}, true},
		{map[string]any{"healthy": 2, "total": 3}, false},
		{map[string]any{}, false},
		{map[string]any{"healthy": "3", "total": 3}, false}, // a string is not an int: zero
	}
	for round := 0; round < 3; round++ {
		for _, c := range cases {
			got, err := until.EvalBool(c.vals)
			if err != nil || got != c.want {
				t.Fatalf("round %d: %q with %v = %v, %v; want %v", round, until.Source, c.vals, got, err, c.want)
			}
		}
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				c := cases[(g+i)%len(cases)]
				if got, err := until.EvalBool(c.vals); err != nil || got != c.want {
					t.Errorf("concurrent: %v = %v, %v; want %v", c.vals, got, err, c.want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestPooledStateKeepsNoValues: a state going back to the pool holds none
// of the run's values, in the scope struct or in the VM, not even the
// ones the program popped off its stack (they stay in its backing array).
func TestPooledStateKeepsNoValues(t *testing.T) {
	rb, err := Load("testdata/weighted.yaml", testRegistry(newWorld()))
	if err != nil {
		t.Fatal(err)
	}
	until := rb.Steps[1].Gate.Until
	env := reflect.New(until.scope.typ)
	st := &evalState{env: env, ptr: env.Interface()}
	s := env.Elem()
	for _, i := range until.fields {
		setInto(s.Field(i), map[string]any{"healthy": 3, "total": 3}[until.scope.fields[i].name])
	}
	if out, err := st.vm.Run(until.program, st.ptr); err != nil || out != true {
		t.Fatalf("%q = %v, %v", until.Source, out, err)
	}
	held := 0
	for _, v := range st.vm.Stack[:cap(st.vm.Stack)] {
		if v != nil {
			held++
		}
	}
	if held == 0 {
		t.Fatal("the run left nothing on the stack's backing array; this test checks nothing")
	}
	st.release(until.fields)
	if !s.IsZero() {
		t.Errorf("scope struct after release: %+v", s.Interface())
	}
	for i, v := range st.vm.Stack[:cap(st.vm.Stack)] {
		if v != nil {
			t.Errorf("stack slot %d after release: %v", i, v)
		}
	}
	for i, v := range st.vm.Variables {
		if v != nil {
			t.Errorf("variable %d after release: %v", i, v)
		}
	}
}
