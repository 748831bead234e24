//go:build !linux

package azurite

import "os/exec"

// dieWithParent does nothing where the kernel cannot tie a child's life to
// its parent's: call Run from TestMain to stop the server.
func dieWithParent(*exec.Cmd) {}
