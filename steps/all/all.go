// Package all links every step provider into a program with one blank
// import, as Caddy's standard modules do.
//
// A provider registers its step kinds with steps.Default in init, and the
// engine never names a provider, so a program gets exactly the step kinds
// whose packages it links. The binary, the generators (docs, schema,
// templates) and the tests that need the real, complete registry import
// this package instead of repeating the list, so a new provider is added
// here once and reaches all of them. Tests that need only some providers
// import those directly.
package all

import (
	_ "github.com/bluegreen-deploy/bluegreen/steps/aws"
	_ "github.com/bluegreen-deploy/bluegreen/steps/flow"
	_ "github.com/bluegreen-deploy/bluegreen/steps/host"
	_ "github.com/bluegreen-deploy/bluegreen/steps/octopus"
	_ "github.com/bluegreen-deploy/bluegreen/steps/sql"
)
