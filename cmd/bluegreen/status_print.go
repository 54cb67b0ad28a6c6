package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
)

// printWorldStatus prints the detected and the remembered live colour of
// `bluegreen status`, and says when they differ.
func printWorldStatus(a *app, rb *engine.Runbook, key string, ws *engine.WorldStatus) {
	fmt.Fprintf(a.stdout, "runbook:  %s\nkey:      %s\n", rb.Name, key)
	switch {
	case ws.Live != "":
		fmt.Fprintf(a.stdout, "live:     %s (detected now)\n", ws.Live)
	case rb.Detect == nil:
		fmt.Fprintf(a.stdout, "live:     %s (remembered: the runbook has no detect)\n", orDash(ws.Remembered))
	default:
		fmt.Fprintf(a.stdout, "live:     - (%s)\n", ws.DetectError)
	}
	if len(ws.Traffic) > 0 {
		names := make([]string, 0, len(ws.Traffic))
		for c := range ws.Traffic {
			names = append(names, c)
		}
		sort.Strings(names)
		parts := make([]string, len(names))
		for i, c := range names {
			parts[i] = fmt.Sprintf("%s %g%%", c, ws.Traffic[c])
		}
		fmt.Fprintf(a.stdout, "traffic:  %s\n", strings.Join(parts, ", "))
	}
	if rb.Detect != nil {
		fmt.Fprintf(a.stdout, "remembered: %s\n", orDash(ws.Remembered))
	}
	if ws.Drift {
		fmt.Fprintf(a.stdout, "drift:    the world has %s live but the state remembers %s: it was changed outside bluegreen, or a run did not finish; the next run detects %s\n", ws.Live, ws.Remembered, ws.Live)
	}
}
