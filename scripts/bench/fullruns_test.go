package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestFullRunTables renders the full-run and swap tables from a saved
// `go test -bench` output (testdata/go-bench-sample.txt, one run of each
// benchmark) and checks what a reader relies on: a row per runbook with
// its calls beside the minimum, and a reason for every call made more
// often than the minimum.
func TestFullRunTables(t *testing.T) {
	gb, err := readGoBench("testdata/go-bench-sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	fullRunTables(&b, gb)
	swapTable(&b, gb)
	out := b.String()
	for _, want := range []string{
		"| weighted-dns |", "| alb-weighted |", "| env-swap |", "| same-host |",
		"= 2.00x", // weighted-dns: 24 calls for a minimum of 12
		"| route53:ChangeResourceRecordSets | 3 |",
		"| octopus:PUT /api/{id}/machines/{id} | 2 |",
		"| weighted-dns, alb-weighted: BlueGreen.Live set",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("tables lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "(not explained)") {
		t.Errorf("a call made beyond the minimum has no reason:\n%s", out)
	}
	// Every flow's minimum adds up to the ratio's denominator.
	for _, f := range flows {
		for k, n := range f.min {
			if n.why == "" {
				t.Errorf("%s: %s has no reason", f.name, k)
			}
		}
	}
}
