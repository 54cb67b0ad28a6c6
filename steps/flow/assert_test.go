package flow

import (
	"context"
	"testing"
)

func TestAssert(t *testing.T) {
	for _, tc := range []struct {
		name    string
		raw     map[string]any
		wantErr string
	}{
		{"true", map[string]any{"condition": true}, ""},
		{"true as text", map[string]any{"condition": "True"}, ""},
		{"yes as text", map[string]any{"condition": "yes", "message": "unused"}, ""},
		{"false", map[string]any{"condition": false}, "flow.assert: assertion failed: condition is false"},
		{"false as text", map[string]any{"condition": "false"}, "flow.assert: assertion failed: condition is false"},
		{"false with message", map[string]any{"condition": false, "message": "2 of 3 targets healthy"}, "flow.assert: assertion failed: 2 of 3 targets healthy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(context.Background(), t, "flow.assert", tc.raw, nil)
			if tc.wantErr == "" {
				if err != nil || out["ok"] != true {
					t.Errorf("flow.assert = %v, %v; want ok", out, err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr || out["ok"] != false {
				t.Errorf("flow.assert = %v, %v; want ok false and error %q", out, err, tc.wantErr)
			}
		})
	}
}
