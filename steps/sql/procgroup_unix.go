//go:build unix

package sql

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup puts the command in a process group of its own and makes
// cancellation kill the whole group: a sync command is typically a shell
// pipeline (pg_dump | psql), and killing only the shell would leave both
// ends running after a timeout, still writing into the idle database.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// A negative pid signals the group whose id is the child's pid.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
