package engine

import (
	"github.com/bluegreen-deploy/bluegreen/steps"
	_ "github.com/bluegreen-deploy/bluegreen/steps/aws"
	_ "github.com/bluegreen-deploy/bluegreen/steps/flow"
	_ "github.com/bluegreen-deploy/bluegreen/steps/host"
	_ "github.com/bluegreen-deploy/bluegreen/steps/octopus"
	_ "github.com/bluegreen-deploy/bluegreen/steps/sql"
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
