package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// measurement is one child process's run.
type measurement struct {
	Wall    time.Duration
	PeakRSS int64 // bytes; 0 where the system does not tell
	Stdout  []byte
}

// tailBuffer keeps the last bytes written to it, for error messages.
type tailBuffer struct {
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

// measure runs name with args and env added to this process's environment,
// and returns its wall time and peak resident set size. A failed run
// returns the tail of what it printed to stderr.
func measure(ctx context.Context, env []string, name string, args ...string) (measurement, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout bytes.Buffer
	stderr := &tailBuffer{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = &stdout, stderr

	start := time.Now()
	err := cmd.Run()
	m := measurement{Wall: time.Since(start), Stdout: stdout.Bytes()}
	if cmd.ProcessState != nil {
		m.PeakRSS = peakRSS(cmd.ProcessState)
	}
	if err != nil {
		what := filepath.Base(name)
		if len(args) > 0 {
			what += " " + args[0]
		}
		return m, fmt.Errorf("%s: %w: %s", what, err, bytes.TrimSpace(stderr.buf))
	}
	return m, nil
}
