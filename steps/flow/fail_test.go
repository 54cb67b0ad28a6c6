package flow

import (
	"context"
	"testing"
)

func TestFail(t *testing.T) {
	_, err := run(context.Background(), t, "flow.fail", map[string]any{"message": "green is already live"}, nil)
	// The step's error is its message; running it names the kind once.
	if err == nil || err.Error() != "flow.fail: green is already live" {
		t.Errorf("flow.fail = %v; want the message as the error, after the kind", err)
	}
}
