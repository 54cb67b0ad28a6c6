package engine

import (
	"github.com/bluegreen-deploy/bluegreen/steps"
	_ "github.com/bluegreen-deploy/bluegreen/steps/all"
)

// brokenRegistry holds the engine's throwaway test kinds and every real
// step kind, so broken runbooks can show the real specs' rules too.
func brokenRegistry() *steps.Registry {
	r := testRegistry(newWorld())
	for _, s := range steps.Default.All() {
		r.Register(*s)
	}
	return r
}
