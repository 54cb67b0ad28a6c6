package engine

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestProgressSinkRewritesGateLinesOnATerminal(t *testing.T) {
	for _, tty := range []bool{true, false} {
		h := newHarness(t)
		h.w.healthAfter["web-green"] = 2
		var buf bytes.Buffer
		x := h.exec("")
		x.Sinks = []Sink{ProgressSink(&buf, tty)}
		if _, err := x.Run(context.Background(), h.load(gateRunbook), nil); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, want := range []string{"▶ gates: live blue, releasing green", "• scale", "✓ scale", "✓ gate wait poll 5", "(3/3 in a row)", "✔ succeeded"} {
			if !strings.Contains(out, want) {
				t.Errorf("tty=%v: output lacks %q:\n%s", tty, want, out)
			}
		}
		rewrites := strings.Count(out, "\r\033[K")
		if tty && rewrites == 0 {
			t.Errorf("on a terminal, waiting polls must be rewritten in place:\n%q", out)
		}
		if !tty && rewrites != 0 {
			t.Errorf("without a terminal, no control sequences:\n%q", out)
		}
	}
}
