// Package sink is the storage contract the lake is written through, with one
// implementation per kind of storage in its sub-packages: sink/local for a
// folder on disk and sink/azure for Azure Blob Storage and ADLS Gen2.
//
// A Bucket knows nothing of Parquet, datasets or snapshots. It stores named
// objects ("a/b/c.parquet", always with forward slashes, never starting with
// a slash) below a root chosen when the bucket is opened. The publish protocol
// that makes a snapshot appear all at once is built on top of it, from the
// primitives below, by package pipeline.
package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// ErrNotExist is returned by Open and Move when the named object does not
// exist. Callers test for it with errors.Is.
var ErrNotExist = errors.New("object does not exist")

// ErrAuth is wrapped by errors that come from the storage refusing the
// credential (401/403). It is never retried; the message names the kind of
// credential that was tried, never its secret.
var ErrAuth = errors.New("storage refused the credential")

// ErrInvalidName is wrapped by errors for a name or prefix that CheckName
// refuses. The caller passed a bad name; retrying will not help.
var ErrInvalidName = errors.New("invalid object name")

// MaxNameLen is the longest name, in bytes, that CheckName accepts. It is the
// limit of Azure Blob Storage, so a name valid on one sink is valid on all.
const MaxNameLen = 1024

// Bucket is a place objects are written to and read from.
//
// Every method is safe for concurrent use. Names are validated by the
// implementation with CheckName (prefixes with CheckPrefix): a name that is
// empty, absolute, or holds "." or ".." segments is refused with an error
// wrapping ErrInvalidName, so no input string can escape the root.
//
// A name must not be both an object and a folder of other objects ("a/b" and
// "a/b/c"): a folder on disk, like ADLS Gen2 with its hierarchical namespace,
// cannot hold both, and the Create or Move that would need it fails.
type Bucket interface {
	// Create starts writing the object name. Nothing is visible under name
	// until Close on the returned writer returns nil; then the whole object
	// is, at once. An existing object of that name is replaced.
	//
	// The caller must call Close or Abort. Abort, or a Close that fails,
	// leaves no object and no partial data visible under name. Memory held
	// by a writer is bounded (a block or two), whatever the object's size.
	Create(ctx context.Context, name string) (Writer, error)

	// Open reads the object name. The caller must Close the reader.
	// A missing object yields an error wrapping ErrNotExist.
	Open(ctx context.Context, name string) (io.ReadCloser, error)

	// List calls fn for every object whose name starts with prefix, in
	// lexical order of name. A prefix that matches nothing is not an error.
	// An error returned by fn stops the listing and is returned.
	List(ctx context.Context, prefix string, fn func(Object) error) error

	// Move renames the object from to the name to, replacing any object
	// already there. Readers see either the old object under to or the new
	// one, never a partial one. On object storage, where there is no
	// rename, it is a server-side copy followed by a delete of from.
	Move(ctx context.Context, from, to string) error

	// Delete removes the object name. A missing object is not an error.
	Delete(ctx context.Context, name string) error

	// Location describes where name lives, for logs and manifests
	// ("/data/lake/x", "az://container/x"). It never holds a secret.
	Location(name string) string

	// Close releases what the bucket holds. It does not touch objects.
	Close() error
}

// Writer is an object being written. See Bucket.Create.
type Writer interface {
	io.Writer

	// Close finishes the object and makes it visible. It reports any
	// error of the writes before it.
	Close() error

	// Abort discards what was written. It is safe to call after Close, when
	// it does nothing, and more than once.
	Abort() error
}

// Object is an entry returned by Bucket.List.
type Object struct {
	Name string // full name below the bucket's root
	Size int64  // bytes
}

// Put writes data as the object name in one go.
func Put(ctx context.Context, b Bucket, name string, data []byte) error {
	w, err := b.Create(ctx, name)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// Get reads the whole object name. It is meant for small objects such as
// manifests.
func Get(ctx context.Context, b Bucket, name string) ([]byte, error) {
	r, err := b.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// CheckName reports whether name is a valid object name: non-empty, at most
// MaxNameLen bytes of valid UTF-8, made of "/"-separated segments that are
// neither empty nor "." nor "..", and free of backslashes, NUL and other
// control characters. The error wraps ErrInvalidName. Every sink calls it
// before touching storage, so no name can reach outside the bucket's root.
func CheckName(name string) error {
	if err := checkPath(name, MaxNameLen); err != nil {
		return fmt.Errorf("%w %q: %s", ErrInvalidName, name, err)
	}
	return nil
}

// CheckPrefix reports whether prefix is valid for List: empty, or such that
// appending a character to it gives a valid name ("a/", "a/b", "a/.").
func CheckPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if err := checkPath(prefix+"x", MaxNameLen+1); err != nil {
		return fmt.Errorf("%w prefix %q: %s", ErrInvalidName, prefix, err)
	}
	return nil
}

// checkPath applies the rules of CheckName, with limit bytes at most.
func checkPath(name string, limit int) error {
	switch {
	case name == "":
		return errors.New("empty")
	case len(name) > limit:
		return fmt.Errorf("longer than %d bytes", MaxNameLen)
	case !utf8.ValidString(name):
		return errors.New("not valid UTF-8")
	case name[0] == '/':
		return errors.New("starts with a slash")
	}
	for _, r := range name {
		if r == '\\' {
			return errors.New("holds a backslash")
		}
		if r < 0x20 || r == 0x7f {
			return errors.New("holds a control character")
		}
	}
	for seg := range strings.SplitSeq(name, "/") {
		switch seg {
		case "":
			return errors.New("has an empty segment")
		case ".", "..":
			return fmt.Errorf("has a %q segment", seg)
		}
	}
	return nil
}
