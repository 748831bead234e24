package local_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mdvm-parquet/mdvm-parquet/sink"
	"github.com/mdvm-parquet/mdvm-parquet/sink/local"
	"github.com/mdvm-parquet/mdvm-parquet/sink/sinktest"
)

func TestAcceptance(t *testing.T) {
	roots := map[sink.Bucket]string{}
	newBucket := func(t *testing.T) sink.Bucket {
		root := t.TempDir()
		b, err := local.New(root)
		if err != nil {
			t.Fatal(err)
		}
		roots[b] = root
		return b
	}
	reopen := func(t *testing.T, b sink.Bucket) sink.Bucket {
		other, err := local.New(roots[b])
		if err != nil {
			t.Fatal(err)
		}
		return other
	}
	sinktest.Run(t, newBucket, sinktest.WithReopen(reopen))
}

func TestNewUnwritableRoot(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	roots := []string{filepath.Join(file, "lake")}
	if os.Geteuid() != 0 { // root writes through permission bits
		ro := filepath.Join(t.TempDir(), "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		roots = append(roots, ro)
	}
	for _, root := range roots {
		_, err := local.New(root)
		if err == nil {
			t.Fatalf("new %s: got nil, want an error", root)
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.Contains(msg, root) || strings.Count(msg, root) != 1 {
			t.Errorf("new %s: got %q, want one line naming the root once", root, msg)
		}
	}
}

func TestListSkipsTempFiles(t *testing.T) {
	root := t.TempDir()
	b, err := local.New(root)
	if err != nil {
		t.Fatal(err)
	}
	w, err := b.Create(t.Context(), "p/x")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	w.Write([]byte("in progress"))
	if err := sink.Put(t.Context(), b, "p/y", []byte("done")); err != nil {
		t.Fatal(err)
	}

	entries, _ := os.ReadDir(filepath.Join(root, "p"))
	if len(entries) != 2 {
		t.Fatalf("folder holds %d entries, want the object and a temporary file", len(entries))
	}
	var got []string
	b.List(t.Context(), "", func(o sink.Object) error {
		got = append(got, o.Name)
		return nil
	})
	if !slices.Equal(got, []string{"p/y"}) {
		t.Fatalf("list: got %q, want only p/y", got)
	}
	for _, name := range []string{".sinktmp-x", "a/.sinktmp-1/b"} {
		if err := sink.Put(t.Context(), b, name, nil); !errors.Is(err, sink.ErrInvalidName) {
			t.Errorf("put %s: got %v, want ErrInvalidName", name, err)
		}
	}
}

// TestPrune checks that Delete, Move and Abort leave no empty folders
// behind, and never remove the root.
func TestPrune(t *testing.T) {
	root := t.TempDir()
	b, err := local.New(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(sink.Put(ctx, b, "a/b/c/one", []byte("1")))
	must(sink.Put(ctx, b, "a/two", []byte("2")))
	must(b.Move(ctx, "a/b/c/one", "x/y/one"))
	wantTree(t, root, "a/two", "x/y/one")

	w, err := b.Create(ctx, "q/r/s")
	must(err)
	w.Write([]byte("dropped"))
	must(w.Abort())
	wantTree(t, root, "a/two", "x/y/one")

	must(b.Delete(ctx, "x/y/one"))
	must(b.Delete(ctx, "a/two"))
	wantTree(t, root)
	if _, err := os.Stat(root); err != nil {
		t.Fatalf("root is gone: %v", err)
	}
}

// wantTree checks that the folder root holds exactly the files want, and
// no other entry, empty folders included.
func wantTree(t *testing.T, root string, want ...string) {
	t.Helper()
	var got []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(root, p)
		if p == root {
			return nil
		}
		if d.IsDir() {
			if entries, _ := os.ReadDir(p); len(entries) == 0 {
				got = append(got, filepath.ToSlash(rel)+"/")
			}
			return nil
		}
		got = append(got, filepath.ToSlash(rel))
		return nil
	})
	if !slices.Equal(got, want) {
		t.Fatalf("tree: got %q, want %q", got, want)
	}
}

func TestLocation(t *testing.T) {
	root := t.TempDir()
	b, err := local.New(root)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(root, "dt=1", "x.parquet")
	if got := b.Location("dt=1/x.parquet"); got != want {
		t.Fatalf("location: got %q, want %q", got, want)
	}
}

// FuzzNames checks that every name the bucket accepts maps to a path
// strictly inside its root, spelled as given.
func FuzzNames(f *testing.F) {
	seeds := []string{
		"a", "a/b", "../x", "a/../../b", "/etc/passwd", `a\..\b`, "a/./b",
		".", "..", "...", "a/.b", "a\x00", "ü/é",
		strings.Repeat("U", sink.MaxNameLen), // once refused as a prefix
	}
	for _, s := range seeds {
		f.Add(s)
	}
	root := f.TempDir()
	b, err := local.New(root)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if err := sink.CheckName(name); err != nil {
			if !errors.Is(err, sink.ErrInvalidName) {
				t.Fatalf("check %q: error %v does not wrap ErrInvalidName", name, err)
			}
			_, err := b.Open(context.Background(), name)
			if !errors.Is(err, sink.ErrInvalidName) {
				t.Fatalf("open %q: got %v, want ErrInvalidName", name, err)
			}
			return
		}
		p := b.Location(name)
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			t.Fatalf("name %q maps to %q, outside the root %q", name, p, root)
		}
		if filepath.ToSlash(rel) != name {
			t.Fatalf("name %q maps to %q: the path was rewritten", name, rel)
		}
		if err := sink.CheckPrefix(name); err != nil {
			t.Fatalf("name %q is valid but refused as a prefix: %v", name, err)
		}
	})
}
