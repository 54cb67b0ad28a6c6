package envswap

import (
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/steps"
	_ "github.com/bluegreen-deploy/bluegreen/steps/all"
)

func TestRunbookIsValid(t *testing.T) {
	if _, err := engine.Load("../env-swap.yaml", steps.Default); err != nil {
		t.Fatal(err)
	}
}
