// Command bluegreen runs zero-downtime blue/green releases of EC2
// applications from declarative runbooks, and publishes itself to Octopus
// Deploy as step templates.
package main

import (
	"os"

	// Step providers register themselves; the engine never names them.
	_ "github.com/bluegreen-deploy/bluegreen/steps/all"

	// State stores other than the file store register their --state
	// scheme the same way, so the engine links none of them (nor, through
	// them, the AWS SDK).
	_ "github.com/bluegreen-deploy/bluegreen/internal/state/dynamostate"
)

func main() {
	os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
