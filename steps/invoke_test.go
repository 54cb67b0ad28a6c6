package steps

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

func TestInvocation(t *testing.T) {
	boom := errors.New("boom")
	spec := &Spec{
		Kind:    "x.invoke",
		Params:  []Param{{Name: "mode", Type: String, Required: true}},
		Outputs: []Output{{Name: "token", Type: String, Sensitive: true}, {Name: "n", Type: Int}},
		New: func() Step {
			return StepFunc(func(_ context.Context, c *Call) (Outputs, error) {
				switch c.Params.String("mode") {
				case "panic":
					var m map[string]int
					m["x"]++
				case "fail":
					return Outputs{"n": int64(1)}, Halt(boom)
				}
				return Outputs{"token": "t0k", "n": int64(2)}, nil
			})
		},
	}
	if _, err := spec.Invoke(map[string]any{"nope": 1}); err == nil || err.Error() != `x.invoke: param "nope": unknown param for x.invoke (expected one of: mode); param "mode": required param is missing` {
		t.Errorf("bind error = %v", err)
	}
	run := func(mode string) (*Result, error) {
		inv, err := spec.Invoke(map[string]any{"mode": mode})
		if err != nil {
			t.Fatal(err)
		}
		return inv.Run(context.Background(), Call{})
	}
	res, err := run("ok")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Public, map[string]any{"n": 2}) || !reflect.DeepEqual(res.Sensitive, map[string]any{"token": "t0k"}) ||
		!reflect.DeepEqual(res.Withheld(), []string{"token"}) || res.Outputs["n"] != int64(2) {
		t.Errorf("result = %+v", res)
	}
	res, err = run("fail")
	if err == nil || err.Error() != "x.invoke: boom" || !IsHalt(err) || !errors.Is(err, boom) || res.Public["n"] != 1 {
		t.Errorf("failure = %v (halt %v), result %+v", err, IsHalt(err), res)
	}
	if _, err := run("panic"); err == nil || err.Error() != "x.invoke: step panicked: assignment to entry in nil map" {
		t.Errorf("panic = %v", err)
	}
}
