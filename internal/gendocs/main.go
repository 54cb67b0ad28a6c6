// Command gendocs writes the step reference (docs/steps.md) from the step
// registry. `make generate` runs it; a test compares the committed file with
// what the registry renders, so the reference can never drift from the code.
//
// It links in the same provider packages as cmd/bluegreen, for their init
// registrations only. Once the CLI grows a hidden `bluegreen docs` command,
// the Makefile can call that instead and this command can go.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/bluegreen-deploy/bluegreen/steps"
	_ "github.com/bluegreen-deploy/bluegreen/steps/aws"
	_ "github.com/bluegreen-deploy/bluegreen/steps/flow"
	_ "github.com/bluegreen-deploy/bluegreen/steps/host"
	_ "github.com/bluegreen-deploy/bluegreen/steps/sql"
)

func main() {
	out := flag.String("out", "", "write the reference to this file instead of stdout")
	flag.Parse()
	md := steps.Markdown(steps.Default)
	if *out == "" {
		os.Stdout.Write(md)
		return
	}
	if err := os.WriteFile(*out, md, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}
