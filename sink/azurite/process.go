package azurite

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is an azurite-blob child process.
type process struct {
	cmd      *exec.Cmd
	dir      string // the server's data folder, removed on stop
	endpoint string
	out      *syncBuffer
	exited   chan struct{}
}

// launch starts azurite-blob on a free loopback port and waits until it
// answers.
func launch() (*process, error) {
	bin, err := findBinary()
	if err != nil {
		return nil, err
	}
	sweepStale()
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", dataPrefix, os.Getpid()))
	if err != nil {
		return nil, fmt.Errorf("make data folder: %w", err)
	}

	// Another process may take the port between our probe and Azurite's
	// bind; then Azurite exits and we try a new port.
	var lastErr error
	for range 3 {
		p, err := startOn(bin, dir)
		if err == nil {
			return p, nil
		}
		lastErr = err
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

func startOn(bin, dir string) (*process, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin,
		"--blobHost", "127.0.0.1",
		"--blobPort", strconv.Itoa(port),
		"--location", dir,
		"--disableTelemetry",
		"--skipApiVersionCheck",
		"--loose",
	)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &process{
		cmd:      cmd,
		dir:      dir,
		endpoint: fmt.Sprintf("http://127.0.0.1:%d/%s", port, AccountName),
		out:      out,
		exited:   make(chan struct{}),
	}
	go func() {
		cmd.Wait()
		close(p.exited)
	}()
	if err := p.waitReady(60 * time.Second); err != nil {
		p.kill()
		return nil, fmt.Errorf("start %s: %w; its output:\n%s", bin, err, out.String())
	}
	return p, nil
}

// dataPrefix starts the name of a server's data folder, followed by the
// test process's ID.
const dataPrefix = "azurite-data-"

// sweepStale removes the data folders of servers whose test process is
// gone: one that never called Run leaves its folder behind when it exits.
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dataPrefix+"*"))
	for _, dir := range dirs {
		pidText, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(dir), dataPrefix), "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 {
			continue
		}
		if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			os.RemoveAll(dir)
		}
	}
}

// waitReady waits until the server answers or its process ends.
func (p *process) waitReady(within time.Duration) error {
	ready := make(chan error, 1)
	go func() { ready <- waitReady(p.endpoint, within) }()
	select {
	case err := <-ready:
		return err
	case <-p.exited:
		return errors.New("azurite-blob exited before it answered")
	}
}

func (p *process) kill() {
	p.cmd.Process.Kill()
	<-p.exited
}

// stop ends the server gently, then surely, and removes its data.
func (p *process) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		p.kill()
	}
	os.RemoveAll(p.dir)
}

// freePort asks the kernel for a free TCP port on the loopback interface.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer collects a child's output from two pipes at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 64<<10 {
		return len(p), nil // enough to tell why it failed to start
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Binary returns the path of azurite-blob: AZURITE_BIN, else the copy in
// the repository's .tools folder, installed there first (pinned to Version)
// if missing. The benchmark starts its own server with it.
func Binary() (string, error) { return findBinary() }

// findBinary is Binary.
func findBinary() (string, error) {
	if bin := os.Getenv(BinEnv); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("%s=%s: %w", BinEnv, bin, err)
		}
		return bin, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	tools := filepath.Join(root, ".tools")
	bin := filepath.Join(tools, "node_modules", ".bin", "azurite-blob")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := install(tools, bin); err != nil {
		return "", err
	}
	return bin, nil
}

// install runs npm to put the pinned Azurite into tools. Test processes of
// several packages may get here at once, so they take turns on a lock file,
// and a later one finds the binary the first one installed.
func install(tools, bin string) error {
	if err := os.MkdirAll(tools, 0o755); err != nil {
		return fmt.Errorf("install azurite: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(tools, ".install.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("install azurite: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("install azurite: lock: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(bin); err == nil {
		return nil
	}

	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("install azurite: npm is needed to install azurite-blob (or set %s): %w", BinEnv, err)
	}
	cmd := exec.Command(npm, "install", "--prefix", tools, "--no-audit", "--no-fund", "azurite@"+Version)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("install azurite: npm install azurite@%s: %w\n%s", Version, err, out)
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("install azurite: npm did not install %s: %w", bin, err)
	}
	return nil
}

// repoRoot returns the nearest folder at or above the working directory
// that holds go.mod. Go runs tests in their package's folder, so this is
// the module root.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repository root: no go.mod above the working directory")
		}
		dir = parent
	}
}
