package pipeline

import (
	"context"
	"io"
)

// Input is one export file to read: a local file, standard input, or a blob
// being downloaded. The read stage opens it once, reads it to the end and
// closes it; it decides gzip or plain text by the first bytes, never by name.
type Input struct {
	// Name identifies the input in lineage columns, rejects, errors and the
	// manifest: a path relative to the folder given, "-" for stdin, or a blob
	// path without its query string. It never holds a secret.
	Name string

	// GroupHint is the RBAC group id taken from an `_RbacGroupId=N` path
	// segment, used for records that carry no group of their own; "" if none.
	GroupHint string

	// Size is the input's size in bytes as stored, or -1 if unknown.
	Size int64

	// Open returns the input's bytes as stored. It is called once; the
	// caller closes the reader. Implementations that download may retry and
	// resume internally, but must never repeat or skip a byte of what they
	// have returned.
	Open func(ctx context.Context) (io.ReadCloser, error)

	path string // the local file, for inputs found by Inputs
}
