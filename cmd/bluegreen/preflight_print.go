package main

import (
	"fmt"
	"strings"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
)

// printPreflight shows under a plan what a run would check before its
// first change. Problems themselves are printed by the caller's error
// handling (exit code 2), with their positions.
func printPreflight(a *app, p *engine.Preflight) {
	if p == nil {
		return
	}
	fmt.Fprintln(a.stdout, "\npreflight (before the first change):")
	if len(p.Checks) == 0 {
		fmt.Fprintln(a.stdout, "  no outside system to probe")
	}
	for _, c := range p.Checks {
		mark := "ok  "
		switch {
		case c.Skipped:
			mark = "skip"
		case !c.OK:
			mark = "FAIL"
		}
		fmt.Fprintf(a.stdout, "  %s %s (steps %s)\n", mark, c.What, strings.Join(c.Steps, ", "))
		if c.Error != "" {
			fmt.Fprintf(a.stdout, "       %s\n", c.Error)
		}
	}
	if len(p.Deferred) > 0 {
		fmt.Fprintf(a.stdout, "  checked just before they run (values depend on earlier outputs): %s\n", strings.Join(p.Deferred, ", "))
	}
	if n := len(p.Problems); n > 0 {
		fmt.Fprintf(a.stdout, "  %d problem(s): a run would stop before changing anything\n", n)
	}
}
