package flow

import (
	"context"
	"testing"
)

func TestFail(t *testing.T) {
	_, err := run(context.Background(), t, "flow.fail", map[string]any{"message": "green is already live"}, nil)
	if err == nil || err.Error() != "green is already live" {
		t.Errorf("flow.fail = %v; want the message as the error", err)
	}
}
