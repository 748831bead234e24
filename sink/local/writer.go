package local

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// errClosed is returned by a writer used after Close or Abort.
var errClosed = errors.New("writer already closed")

// writer fills a temporary file beside its target and renames it into place
// on Close.
type writer struct {
	ctx  context.Context
	b    *bucket
	name string // object name, for errors
	dst  string // final path

	mu   sync.Mutex
	tmp  *os.File // nil once closed or aborted
	err  error    // first write error, reported by Close
	done bool
}

func newWriter(ctx context.Context, b *bucket, name string) (*writer, error) {
	dst := b.path(name)
	var tmp *os.File
	err := inDir(filepath.Dir(dst), func() error {
		var err error
		tmp, err = createTemp(filepath.Dir(dst))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", name, unwrapPath(err))
	}
	return &writer{ctx: ctx, b: b, name: name, dst: dst, tmp: tmp}, nil
}

// createTemp makes a new temporary file in dir. Unlike os.CreateTemp it
// leaves the mode to the umask, as the published file will keep it.
func createTemp(dir string) (*os.File, error) {
	for {
		p := filepath.Join(dir, tempPrefix+rand.Text())
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
}

func (w *writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return 0, fmt.Errorf("write %s: %w", w.name, errClosed)
	}
	if w.err != nil {
		return 0, w.err
	}
	if err := w.ctx.Err(); err != nil {
		w.err = fmt.Errorf("write %s: %w", w.name, err)
		return 0, w.err
	}
	n, err := w.tmp.Write(p)
	if err != nil {
		w.err = fmt.Errorf("write %s: %w", w.name, unwrapPath(err))
	}
	return n, w.err
}

// Close syncs the temporary file and renames it over the target. On any
// failure the temporary file is removed and nothing appears.
func (w *writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return fmt.Errorf("close %s: %w", w.name, errClosed)
	}
	w.done = true
	err := w.publish()
	if err != nil {
		w.discard()
	}
	w.tmp = nil
	return err
}

func (w *writer) publish() error {
	if w.err != nil {
		return w.err
	}
	if err := w.ctx.Err(); err != nil {
		return fmt.Errorf("close %s: %w", w.name, err)
	}
	if err := w.tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", w.name, unwrapPath(err))
	}
	if err := w.tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", w.name, unwrapPath(err))
	}
	if err := os.Rename(w.tmp.Name(), w.dst); err != nil {
		return fmt.Errorf("publish %s: %w", w.name, unwrapPath(err))
	}
	syncDir(filepath.Dir(w.dst))
	return nil
}

// syncDir makes a rename in dir durable. It is best effort: some file
// systems refuse to sync a directory, and the data itself is already synced.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

// discard closes and removes the temporary file, and the directories made
// for it if they are now empty. It ignores errors: the file may already be
// closed, and nothing else can be done about a failed remove.
func (w *writer) discard() {
	w.tmp.Close()
	os.Remove(w.tmp.Name())
	w.b.prune(filepath.Dir(w.dst))
}

func (w *writer) Abort() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil
	}
	w.done = true
	w.discard()
	w.tmp = nil
	return nil
}
