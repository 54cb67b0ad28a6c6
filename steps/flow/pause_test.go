package flow

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

func TestPause(t *testing.T) {
	var logs bytes.Buffer
	if _, err := run(context.Background(), t, "flow.pause", map[string]any{"duration": "1ms", "reason": "ttl"}, &logs); err != nil {
		t.Fatalf("flow.pause: %v", err)
	}
	lines := logLines(t, &logs)
	if len(lines) != 1 || lines[0]["duration"] != "1ms" || lines[0]["reason"] != "ttl" {
		t.Errorf("log = %v; want one line with the duration and the reason", lines)
	}
	if _, err := run(context.Background(), t, "flow.pause", map[string]any{"duration": "0s"}, nil); err != nil {
		t.Errorf("zero pause: %v", err)
	}
}

func TestPauseHonoursCancel(t *testing.T) {
	for name, ctx := range map[string]func() (context.Context, context.CancelFunc){
		"cancelled before": func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		},
		"cancelled during": func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			go func() { time.Sleep(10 * time.Millisecond); cancel() }()
			return ctx, cancel
		},
	} {
		t.Run(name, func(t *testing.T) {
			c, cancel := ctx()
			defer cancel()
			// An hour-long pause can only end this test by honouring the cancel.
			_, err := run(c, t, "flow.pause", map[string]any{"duration": "1h"}, nil)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("flow.pause after cancel: %v; want context.Canceled", err)
			}
		})
	}
	// A zero pause still reports a cancelled run.
	c, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := run(c, t, "flow.pause", map[string]any{"duration": "0s"}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("zero pause after cancel: %v; want context.Canceled", err)
	}
}
