package engine

import (
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
