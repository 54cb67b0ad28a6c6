//go:build !unix

package sql

import "os/exec"

// ownProcessGroup is a no-op where process groups do not exist; the
// command's own process is still killed on cancellation.
func ownProcessGroup(*exec.Cmd) {}
