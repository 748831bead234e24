package azurite

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the server when the test process ends,
// even if Run is never called to stop it.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
