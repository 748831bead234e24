package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
)

// rawZone keeps an export as received under a local folder, laid out as
// the service lays it out, so that Convert over the folder replays the
// snapshot. Each file is written while it is read for the conversion (a tee,
// not a second download), under a hidden temporary name that is renamed
// into place once the file was read to its end. The export response is
// written last, and only when every file was kept.
type rawZone struct {
	dir  string
	want int
	kept atomic.Int64
	log  *slog.Logger
}

// openRawZone makes dir ready to keep the files rels (slash-separated paths
// below it) of the snapshot generated at snapshot. A folder holding
// anything else than this snapshot's files is refused: its export.json
// would date the other files wrongly.
func openRawZone(dir string, snapshot time.Time, rels []string, log *slog.Logger) (*rawZone, error) {
	own := map[string]bool{ExportResponseFile: true}
	for _, rel := range rels {
		if !filepath.IsLocal(filepath.FromSlash(rel)) {
			return nil, fmt.Errorf("keep raw: file %q would land outside %s", rel, dir)
		}
		top, _, _ := strings.Cut(rel, "/")
		own[top] = true
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("keep raw: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("keep raw: %w", err)
	}
	for _, e := range entries {
		if !own[e.Name()] && !strings.HasPrefix(e.Name(), ".") {
			return nil, fmt.Errorf("keep raw: %s holds %s, not part of this export: give an empty folder per snapshot", dir, e.Name())
		}
	}
	prev, err := readExportResponse(filepath.Join(dir, ExportResponseFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("keep raw: %w", err)
	case !prev.Equal(snapshot.UTC()):
		return nil, fmt.Errorf("keep raw: %s holds the snapshot of %s, not %s: give an empty folder per snapshot",
			dir, prev.Format(time.RFC3339), snapshot.UTC().Format(time.RFC3339))
	}
	return &rawZone{dir: dir, want: len(rels), log: log}, nil
}

// tee returns in with an Open that also writes what it reads to rel below
// the zone, gzip-compressed when compress is set.
func (z *rawZone) tee(in Input, rel string, compress bool) Input {
	open := in.Open
	final := filepath.Join(z.dir, filepath.FromSlash(rel))
	in.Open = func(ctx context.Context) (io.ReadCloser, error) {
		rc, err := open(ctx)
		if err != nil {
			return nil, err
		}
		t, err := newRawTee(rc, final, compress)
		if err != nil {
			rc.Close()
			return nil, err
		}
		t.kept = &z.kept
		return t, nil
	}
	return in
}

// finish writes the export response once every file was kept, with its
// signatures already redacted by the caller.
func (z *rawZone) finish(response []byte) error {
	if n := int(z.kept.Load()); n < z.want {
		z.log.Warn("raw export incomplete: export.json not written", "dir", z.dir, "kept", n, "files", z.want)
		return nil
	}
	path := filepath.Join(z.dir, ExportResponseFile)
	if err := writeFileAtomic(path, response); err != nil {
		return fmt.Errorf("keep raw: %w", err)
	}
	z.log.Info("raw export kept", "dir", z.dir, "files", z.want)
	return nil
}

// rawTee passes a file's bytes through while writing them to a temporary
// file, which becomes final once the reader saw the end.
type rawTee struct {
	rc    io.ReadCloser
	f     *os.File
	w     io.Writer     // f, or zw over f
	zw    *gzip.Writer  // nil when the bytes are kept as read
	final string        // where the file goes once complete
	done  bool          // renamed into place
	kept  *atomic.Int64 // files of the zone kept so far
}

func newRawTee(rc io.ReadCloser, final string, compress bool) (*rawTee, error) {
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return nil, fmt.Errorf("keep raw: %w", err)
	}
	f, err := createHidden(final)
	if err != nil {
		return nil, fmt.Errorf("keep raw: %w", err)
	}
	t := &rawTee{rc: rc, f: f, w: f, final: final}
	if compress {
		t.zw, _ = gzip.NewWriterLevel(f, gzip.BestSpeed)
		t.w = t.zw
	}
	return t, nil
}

func (t *rawTee) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	if n > 0 && !t.done {
		if _, werr := t.w.Write(p[:n]); werr != nil {
			return n, fmt.Errorf("keep raw %s: %w", t.final, werr)
		}
	}
	if err == io.EOF && !t.done {
		if cerr := t.commit(); cerr != nil {
			return n, cerr
		}
	}
	return n, err
}

// commit closes the temporary file and moves it into place.
func (t *rawTee) commit() error {
	var err error
	if t.zw != nil {
		err = t.zw.Close()
	}
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(t.f.Name(), t.final)
	}
	if err != nil {
		os.Remove(t.f.Name())
		return fmt.Errorf("keep raw %s: %w", t.final, err)
	}
	t.done = true
	t.kept.Add(1)
	return nil
}

// Close ends the read; a file not read to its end is not kept.
func (t *rawTee) Close() error {
	err := t.rc.Close()
	if !t.done && t.f != nil {
		t.f.Close()
		os.Remove(t.f.Name())
		t.f = nil
	}
	return err
}

// writeFileAtomic writes data to path through a hidden temporary file.
func writeFileAtomic(path string, data []byte) error {
	f, err := createHidden(path)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// createHidden creates a temporary file beside path, with a hidden name so
// that a conversion of the folder never reads it, and the permissions the
// lake's files get.
func createHidden(path string) (*os.File, error) {
	for {
		var b [6]byte
		rand.Read(b[:])
		tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+hex.EncodeToString(b[:])+".tmp")
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
}

// pagesResponse is the export response kept beside the records of the JSON
// pages method: the file they were kept in, and the snapshot time taken.
func pagesResponse(rel string, snapshot time.Time) []byte {
	body, _ := json.MarshalIndent(ExportResponse{ExportFiles: []string{rel}, GeneratedTime: snapshot.UTC()}, "", "  ")
	return append(body, '\n')
}
