package aws

import (
	"context"
	"testing"

	"github.com/rs/zerolog"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func lookup(t *testing.T, kind string) *steps.Spec {
	t.Helper()
	s, ok := steps.Lookup(kind)
	if !ok {
		t.Fatalf("%s not registered", kind)
	}
	return s
}

func nopCall(p steps.Params) *steps.Call {
	return &steps.Call{Params: p, Log: zerolog.Nop(), BeforeChange: steps.NoChange}
}

func ctxBG() context.Context { return context.Background() }
