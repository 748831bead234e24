//go:build unix

package pipeline

import (
	"errors"
	"syscall"
	"time"
)

// processAlive reports whether the process pid of this machine exists.
func processAlive(pid int, _ time.Time) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
