package flow

import (
	"bytes"
	"context"
	"testing"
)

func TestLog(t *testing.T) {
	for _, tc := range []struct {
		level     any
		wantLevel string
	}{
		{nil, "info"},
		{"debug", "debug"},
		{"warn", "warn"},
		{"error", "error"},
	} {
		var logs bytes.Buffer
		raw := map[string]any{"message": "switching app.example.com to green"}
		if tc.level != nil {
			raw["level"] = tc.level
		}
		out, err := run(context.Background(), t, "flow.log", raw, &logs)
		if err != nil || len(out) != 0 {
			t.Fatalf("flow.log level %v = %v, %v; want no outputs and no error", tc.level, out, err)
		}
		lines := logLines(t, &logs)
		if len(lines) != 1 || lines[0]["message"] != "switching app.example.com to green" || lines[0]["level"] != tc.wantLevel {
			t.Errorf("level %v: log = %v; want the message at %s", tc.level, lines, tc.wantLevel)
		}
	}
}
