//go:build unix

package host

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup puts the command in a process group of its own and makes
// cancellation kill that whole group. Killing only the direct child would
// leave its children (a shell's pipeline, a script's background job)
// running after a timeout, holding ports and output pipes.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// A negative pid signals the group whose id is the child's pid.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
