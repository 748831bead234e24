// Package local is the sink.Bucket for a folder on disk.
//
// An object is a file below the root; its name's segments are directories.
// A writer fills a hidden temporary file in the target's own directory and
// renames it into place on Close, so readers see whole files only. Empty
// directories left behind by Delete and Move are removed, up to the root.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/mdvm-parquet/mdvm-parquet/sink"
)

// bucket is a sink.Bucket rooted at a directory.
type bucket struct {
	root string // absolute, cleaned
}

// New returns a bucket storing objects below the directory root, creating
// it if needed. It fails at once when root cannot be written to.
func New(root string) (sink.Bucket, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("open local root %s: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("open local root %s: %w", root, unwrapPath(err))
	}
	if err := probeWritable(abs); err != nil {
		return nil, fmt.Errorf("open local root %s: not writable: %w", root, unwrapPath(err))
	}
	return &bucket{root: abs}, nil
}

// probeWritable creates and removes a temporary file in dir.
func probeWritable(dir string) error {
	f, err := createTemp(dir)
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// unwrapPath drops the *fs.PathError around err: callers name the path
// themselves, and the one-line message should not repeat it.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// path maps a checked name to its file path.
func (b *bucket) path(name string) string {
	return filepath.Join(b.root, filepath.FromSlash(name))
}

func (b *bucket) Create(ctx context.Context, name string) (sink.Writer, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	return newWriter(ctx, b, name)
}

func (b *bucket) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	f, err := os.Open(b.path(name))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, notExist(err))
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("open %s: %w", name, sink.ErrNotExist)
	}
	return f, nil
}

// notExist makes a missing-file error wrap sink.ErrNotExist, and drops the
// path from it.
func notExist(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return sink.ErrNotExist
	}
	return unwrapPath(err)
}

func (b *bucket) Move(ctx context.Context, from, to string) error {
	if err := checkName(from); err != nil {
		return err
	}
	if err := checkName(to); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("move %s to %s: %w", from, to, err)
	}
	src, dst := b.path(from), b.path(to)
	if st, err := os.Stat(src); err != nil || !st.Mode().IsRegular() {
		return fmt.Errorf("move %s to %s: %w", from, to, sink.ErrNotExist)
	}
	err := inDir(filepath.Dir(dst), func() error { return os.Rename(src, dst) })
	if err != nil {
		return fmt.Errorf("move %s to %s: %w", from, to, notExist(err))
	}
	syncDir(filepath.Dir(dst))
	if from != to {
		b.prune(filepath.Dir(src))
	}
	return nil
}

func (b *bucket) Delete(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	p := b.path(name)
	if st, err := os.Lstat(p); err == nil && st.IsDir() {
		return nil // a directory is not an object
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", name, unwrapPath(err))
	}
	b.prune(filepath.Dir(p))
	return nil
}

// prune removes dir and its parents while they are empty, stopping below
// the root. It is best effort: a directory that gained a file, or that a
// concurrent prune removed first, ends it quietly.
func (b *bucket) prune(dir string) {
	for dir != b.root && strings.HasPrefix(dir, b.root+string(filepath.Separator)) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

// inDir runs op, which creates an entry in dir, after making dir. A
// concurrent prune may remove dir between the two steps, so op is retried a
// few times while dir is missing.
func inDir(dir string, op func() error) error {
	var err error
	for range 8 {
		if err = os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		err = op()
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if _, statErr := os.Stat(dir); statErr == nil {
			return err // dir is there: the missing thing is something else
		}
	}
	return err
}

func (b *bucket) List(ctx context.Context, prefix string, fn func(sink.Object) error) error {
	if err := sink.CheckPrefix(prefix); err != nil {
		return err
	}
	// Start at the deepest directory the prefix names in full.
	dir := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir = prefix[:i]
	}
	return b.walk(ctx, dir, prefix, fn)
}

// walk calls fn for each object below the directory dir (a name, or "" for
// the root) that starts with prefix, in lexical order of full name.
func (b *bucket) walk(ctx context.Context, dir, prefix string, fn func(sink.Object) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list %s: %w", prefix, err)
	}
	entries, err := os.ReadDir(filepath.Join(b.root, filepath.FromSlash(dir)))
	if err != nil {
		if errors.Is(notExist(err), sink.ErrNotExist) {
			return nil // pruned while we walked, never there, or a file
		}
		return fmt.Errorf("list %s: %w", prefix, unwrapPath(err))
	}
	// A directory sorts as its name plus "/", so that "a.txt" comes before
	// "a/b" just as the full names compare.
	key := func(e fs.DirEntry) string {
		if e.IsDir() {
			return e.Name() + "/"
		}
		return e.Name()
	}
	slices.SortFunc(entries, func(x, y fs.DirEntry) int { return strings.Compare(key(x), key(y)) })

	for _, e := range entries {
		name := e.Name()
		if dir != "" {
			name = dir + "/" + name
		}
		if err := b.visit(ctx, e, name, prefix, fn); err != nil {
			return err
		}
	}
	return nil
}

// visit handles one directory entry of walk.
func (b *bucket) visit(ctx context.Context, e fs.DirEntry, name, prefix string, fn func(sink.Object) error) error {
	if isTemp(e.Name()) {
		return nil
	}
	if e.IsDir() {
		if !strings.HasPrefix(name+"/", prefix) && !strings.HasPrefix(prefix, name+"/") {
			return nil
		}
		return b.walk(ctx, name, prefix, fn)
	}
	if !e.Type().IsRegular() || !strings.HasPrefix(name, prefix) {
		return nil
	}
	info, err := e.Info()
	if errors.Is(err, fs.ErrNotExist) {
		return nil // deleted while we walked
	}
	if err != nil {
		return fmt.Errorf("list %s: %w", prefix, err)
	}
	return fn(sink.Object{Name: name, Size: info.Size()})
}

func (b *bucket) Location(name string) string {
	return b.path(name)
}

func (b *bucket) Close() error { return nil }
