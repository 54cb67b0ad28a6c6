package steps_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func TestConfigErrorMatchesErrConfig(t *testing.T) {
	errNoURL := steps.NewConfigError("connection is not configured")
	errOther := steps.NewConfigError("space not found")
	wrapped := fmt.Errorf("step x: %w", fmt.Errorf("%w: set URL", errNoURL))
	if !errors.Is(wrapped, steps.ErrConfig) || !errors.Is(wrapped, errNoURL) {
		t.Errorf("a wrapped configuration error matches ErrConfig %v and itself %v", errors.Is(wrapped, steps.ErrConfig), errors.Is(wrapped, errNoURL))
	}
	if errors.Is(wrapped, errOther) {
		t.Error("two configuration errors match each other")
	}
	if errNoURL.Error() != "connection is not configured" || wrapped.Error() != "step x: connection is not configured: set URL" {
		t.Errorf("the text changed: %q, %q", errNoURL, wrapped)
	}
	if errors.Is(errors.New("connection is not configured"), steps.ErrConfig) {
		t.Error("a plain error matches ErrConfig")
	}
}
