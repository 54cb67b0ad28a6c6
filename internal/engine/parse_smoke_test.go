package engine

import "testing"

func TestParseExample(t *testing.T) {
	rb, err := Load("testdata/weighted.yaml", testRegistry(newWorld()))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if len(rb.Steps) != 4 || rb.Steps[2].As != "pct" || len(rb.Steps[2].Steps) != 2 {
		t.Fatalf("unexpected shape: %+v", rb.Steps)
	}
	if got := rb.Phases; len(got) != 2 || got[0] != "main" || got[1] != "cleanup" {
		t.Fatalf("phases = %v", got)
	}
}
