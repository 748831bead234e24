package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	path2 "path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"
)

// ExportResponseFile is the name under which a saved export response (the
// body of the via-files call) is kept beside its files. It is metadata, never
// records.
const ExportResponseFile = "export.json"

// ErrNoInputs is returned by Inputs when the paths hold no export file.
var ErrNoInputs = errors.New("no export files found")

// ErrNoSnapshotTime is returned by SnapshotTime when nothing tells when the
// export was generated.
var ErrNoSnapshotTime = errors.New("cannot tell the snapshot time: give --snapshot-time (the export's generatedTime), or keep export.json beside the files")

// ErrBadExportResponse is returned by SnapshotTime, wrapping an error that
// names the file, when an export.json found in or above the inputs cannot
// be read, is not a JSON object or has no generatedTime. The caller should
// have the file fixed or removed, or give the snapshot time itself.
var ErrBadExportResponse = errors.New("unusable export.json: fix or remove it, or give --snapshot-time")

// Inputs returns the export files named by paths: files, folders searched
// recursively in lexical order, or "-" for standard input. Hidden files,
// files whose name starts with "_" or ".", and export.json are skipped.
func Inputs(paths []string, stdin io.Reader) ([]Input, error) {
	var inputs []Input
	seen := map[string]bool{}
	for _, p := range paths {
		if p == "-" {
			inputs = append(inputs, Input{Name: "-", Size: -1, Open: func(context.Context) (io.ReadCloser, error) {
				return io.NopCloser(stdin), nil
			}})
			continue
		}
		found, err := filesUnder(p)
		if err != nil {
			return nil, err
		}
		for _, in := range found {
			// A file named twice (the same path, a folder and its
			// subfolder, a link) is read once.
			key, _ := filepath.Abs(in.path)
			if real, err := filepath.EvalSymlinks(key); err == nil {
				key = real
			}
			if !seen[key] {
				seen[key] = true
				inputs = append(inputs, in)
			}
		}
	}
	if len(inputs) == 0 {
		return nil, fmt.Errorf("%w in %s", ErrNoInputs, strings.Join(paths, ", "))
	}
	return inputs, nil
}

func filesUnder(root string) ([]Input, error) {
	// A root that is a link is followed; links inside it are followed to
	// files, not to folders, so a link loop cannot make the walk endless.
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	info, err := os.Stat(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist", ErrNoInputs, root)
	}
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	if !info.IsDir() {
		return []Input{fileInput(root, filepath.Base(root), info.Size())}, nil
	}
	var inputs []Input
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("input: %w", err)
		}
		if path != root && skipped(d.Name(), d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		info, err := os.Stat(path) // through a link
		if err != nil {
			return fmt.Errorf("input: %w", err)
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		inputs = append(inputs, fileInput(path, filepath.ToSlash(rel), info.Size()))
		return nil
	})
	sort.Slice(inputs, func(i, j int) bool { return inputs[i].Name < inputs[j].Name })
	return inputs, err
}

// skipped reports whether a folder entry is not export data: hidden
// entries (temporary files among them), the saved export response, and the
// bookkeeping of a lake (its staging, journal and rejects folders, _SUCCESS
// and manifests, Parquet files), should a lake sit inside the input folder.
// Any other "_" folder is read: the export's own `_RbacGroupId=…` folders
// hold records whatever their value.
func skipped(name string, dir bool) bool {
	switch {
	case strings.HasPrefix(name, "."):
		return true
	case dir:
		return name == stagingDir || name == journalDir || name == RejectedDir
	}
	return name == ExportResponseFile || name == SuccessFile || name == ManifestFile || strings.HasSuffix(name, ".parquet")
}

func fileInput(path, name string, size int64) Input {
	return Input{
		Name:      name,
		path:      path,
		GroupHint: GroupHint(path),
		Size:      size,
		Open:      func(context.Context) (io.ReadCloser, error) { return os.Open(path) },
	}
}

var (
	groupSegment = regexp.MustCompile(`^_RbacGroupId=(-?[0-9]{1,18})$`)
	timeSegments = regexp.MustCompile(`(?:^|/)([0-9]{4}-[0-9]{2}-[0-9]{2})/([0-9]{4})(?:/|$)`)
)

// GroupHint returns the RBAC group id of an `_RbacGroupId=N` segment of a
// path or URL path, or "".
func GroupHint(path string) string {
	for _, seg := range strings.Split(filepath.ToSlash(path), "/") {
		if m := groupSegment.FindStringSubmatch(seg); m != nil {
			return m[1]
		}
	}
	return ""
}

// SnapshotTime decides when the export named by paths was generated: from an
// export.json found in or beside them, else from the `YYYY-MM-DD/HHMM/`
// segment of the inputs' paths (UTC). It never falls back to the clock.
func SnapshotTime(paths []string, inputs []Input) (time.Time, error) {
	for _, p := range paths {
		if p == "-" {
			continue
		}
		// The export root may sit a few folders above a file given alone.
		dir, _ := filepath.Abs(p)
		for range 8 {
			path := filepath.Join(dir, ExportResponseFile)
			r, err := readExportFile(path)
			if err == nil {
				warnMissing(path, r, inputs)
				return r.GeneratedTime.UTC(), nil
			}
			if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
				return time.Time{}, fmt.Errorf("%w: %w", err, ErrBadExportResponse)
			}
			if dir = filepath.Dir(dir); dir == filepath.Dir(dir) {
				break
			}
		}
	}
	names := make([]string, 0, len(inputs))
	for _, in := range inputs {
		names = append(names, in.Name)
	}
	for _, p := range paths {
		if abs, err := filepath.Abs(p); err == nil && p != "-" {
			names = append(names, abs)
		}
	}
	var found time.Time
	for _, name := range names {
		t, ok := timeFromPath(name)
		if !ok {
			continue
		}
		if !found.IsZero() && !t.Equal(found) {
			return time.Time{}, fmt.Errorf("inputs come from two exports (%s and %s): convert them one at a time", found.Format(time.RFC3339), t.Format(time.RFC3339))
		}
		found = t
	}
	if found.IsZero() {
		return time.Time{}, ErrNoSnapshotTime
	}
	return found, nil
}

// ExportResponse is the body of the via-files export call.
type ExportResponse struct {
	ExportFiles   []string  `json:"exportFiles"`
	GeneratedTime time.Time `json:"generatedTime"`
}

// warnMissing warns when files an export response lists are not among the
// inputs: the snapshot then lacks their records, and replaces a date whole.
func warnMissing(path string, r ExportResponse, inputs []Input) {
	var missing []string
	for _, f := range r.ExportFiles {
		name := f
		if u, err := url.Parse(f); err == nil {
			name = u.Path
		}
		found := false
		for _, in := range inputs {
			if in.Name != "" && strings.HasSuffix(name, in.Name) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, path2.Base(name))
		}
	}
	if len(missing) > 0 {
		slog.Warn("files the export lists are not among the inputs; the snapshot will lack their records",
			"export", path, "listed", len(r.ExportFiles), "missing", len(missing), "first", missing[0])
	}
}

// readExportResponse returns the generatedTime of the export response
// saved at path.
func readExportResponse(path string) (time.Time, error) {
	r, err := readExportFile(path)
	if err != nil {
		return time.Time{}, err
	}
	return r.GeneratedTime.UTC(), nil
}

// utf8BOM is the byte-order mark some editors and PowerShell put at the
// start of a UTF-8 file; JSON does not allow it.
var utf8BOM = []byte("\xef\xbb\xbf")

// readExportFile reads the export response saved at path, which must have
// a generatedTime. Errors name the file; one that does not exist is
// fs.ErrNotExist.
func readExportFile(path string) (ExportResponse, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return ExportResponse{}, err
	}
	var r ExportResponse
	if err := json.Unmarshal(bytes.TrimPrefix(data, utf8BOM), &r); err != nil {
		return ExportResponse{}, fmt.Errorf("parse %s: %w", path, err)
	}
	if r.GeneratedTime.IsZero() {
		return ExportResponse{}, fmt.Errorf("parse %s: no generatedTime", path)
	}
	return r, nil
}

func timeFromPath(p string) (time.Time, bool) {
	m := timeSegments.FindStringSubmatch(filepath.ToSlash(p))
	if m == nil {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02 1504", m[1]+" "+m[2])
	return t, err == nil
}
