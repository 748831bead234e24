// Package sinktest is the acceptance suite every sink.Bucket must pass.
//
// A provider's tests call Run with a function that makes a new, empty
// bucket; Run checks the contract of package sink against it: what is
// visible when, replacement, moves, deletes, listing order, name checks,
// bounded memory on large objects, concurrent writers and cancellation.
package sinktest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/mdvm-parquet/mdvm-parquet/sink"
)

// Option changes how Run tests a bucket.
type Option func(*config)

type config struct {
	reopen    func(t *testing.T, b sink.Bucket) sink.Bucket
	largeSize int64
}

// WithReopen gives Run a second handle on the place a bucket stores to, so
// it can check that an object being written is invisible to other readers,
// not only to the handle writing it. Defaults to reusing the same handle.
func WithReopen(reopen func(t *testing.T, b sink.Bucket) sink.Bucket) Option {
	return func(c *config) { c.reopen = reopen }
}

// WithLargeSize sets the size of the object that checks streaming and
// bounded memory. Defaults to 64 MiB.
func WithLargeSize(n int64) Option {
	return func(c *config) { c.largeSize = n }
}

// suite is one run of the acceptance tests.
type suite struct {
	config
	newBucket func(t *testing.T) sink.Bucket
}

// Run runs the acceptance suite. newBucket must return a new, empty bucket
// on each call; Run closes it when the test ends.
func Run(t *testing.T, newBucket func(t *testing.T) sink.Bucket, opts ...Option) {
	s := &suite{newBucket: newBucket}
	s.largeSize = 64 << 20
	s.reopen = func(_ *testing.T, b sink.Bucket) sink.Bucket { return b }
	for _, o := range opts {
		o(&s.config)
	}

	tests := []struct {
		name string
		fn   func(t *testing.T, b sink.Bucket)
	}{
		{"CreateClose", testCreateClose},
		{"EmptyObject", testEmptyObject},
		{"Abort", testAbort},
		{"AbortAfterClose", testAbortAfterClose},
		{"WriteAfterClose", testWriteAfterClose},
		{"InvisibleBeforeClose", s.testInvisibleBeforeClose},
		{"Replace", s.testReplace},
		{"Move", testMove},
		{"MoveOverExisting", testMoveOverExisting},
		{"MoveMissing", testMoveMissing},
		{"Delete", testDelete},
		{"OpenMissing", testOpenMissing},
		{"ListOrderAndPrefix", testList},
		{"ListStops", testListStops},
		{"OddNames", testOddNames},
		{"NamesRefused", testNamesRefused},
		{"Location", testLocation},
		{"LargeStreamed", s.testLarge},
		{"ConcurrentWriters", testConcurrent},
		{"CancelMidWrite", s.testCancel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBucket(t)
			t.Cleanup(func() {
				if err := b.Close(); err != nil {
					t.Errorf("close bucket: %v", err)
				}
			})
			tc.fn(t, b)
		})
	}
}

// put writes data under name or fails the test.
func put(t *testing.T, b sink.Bucket, name string, data []byte) {
	t.Helper()
	if err := sink.Put(t.Context(), b, name, data); err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
}

// wantObject checks that name holds exactly data.
func wantObject(t *testing.T, b sink.Bucket, name string, data []byte) {
	t.Helper()
	got, err := sink.Get(t.Context(), b, name)
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("get %s: got %d bytes %.40q, want %d bytes %.40q", name, len(got), got, len(data), data)
	}
}

// wantMissing checks that name can be neither opened nor listed.
func wantMissing(t *testing.T, b sink.Bucket, name string) {
	t.Helper()
	r, err := b.Open(t.Context(), name)
	if err == nil {
		r.Close()
		t.Fatalf("open %s: got an object, want none", name)
	}
	if !errors.Is(err, sink.ErrNotExist) {
		t.Fatalf("open %s: got %v, want an error wrapping sink.ErrNotExist", name, err)
	}
	for _, o := range list(t, b, name) {
		if o.Name == name {
			t.Fatalf("list %s: object is listed, want none", name)
		}
	}
}

// list returns all objects under prefix.
func list(t *testing.T, b sink.Bucket, prefix string) []sink.Object {
	t.Helper()
	var objs []sink.Object
	err := b.List(t.Context(), prefix, func(o sink.Object) error {
		objs = append(objs, o)
		return nil
	})
	if err != nil {
		t.Fatalf("list %q: %v", prefix, err)
	}
	return objs
}

// names returns the names of objs.
func names(objs []sink.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.Name)
	}
	return out
}

func testCreateClose(t *testing.T, b sink.Bucket) {
	data := []byte("hello, lake")
	put(t, b, "dir/obj.txt", data)
	wantObject(t, b, "dir/obj.txt", data)

	objs := list(t, b, "")
	want := []sink.Object{{Name: "dir/obj.txt", Size: int64(len(data))}}
	if !slices.Equal(objs, want) {
		t.Fatalf("list: got %v, want %v", objs, want)
	}
}

func testEmptyObject(t *testing.T, b sink.Bucket) {
	w, err := b.Create(t.Context(), "empty")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	wantObject(t, b, "empty", []byte{})
	if objs := list(t, b, ""); len(objs) != 1 || objs[0].Size != 0 {
		t.Fatalf("list: got %v, want one empty object", objs)
	}
}

func testAbort(t *testing.T, b sink.Bucket) {
	w, err := b.Create(t.Context(), "a/b/aborted")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if _, err := w.Write([]byte("never seen")); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("abort: %v", err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("second abort: %v", err)
	}
	if err := w.Close(); err == nil {
		t.Fatal("close after abort: got nil, want an error")
	}
	wantMissing(t, b, "a/b/aborted")
	if objs := list(t, b, ""); len(objs) != 0 {
		t.Fatalf("list: got %v, want nothing", objs)
	}
}

func testAbortAfterClose(t *testing.T, b sink.Bucket) {
	w, err := b.Create(t.Context(), "kept")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if _, err := w.Write([]byte("kept")); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("abort after close: %v", err)
	}
	wantObject(t, b, "kept", []byte("kept"))
}

func testWriteAfterClose(t *testing.T, b sink.Bucket) {
	w, err := b.Create(t.Context(), "closed")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if _, err := w.Write([]byte("late")); err == nil {
		t.Fatal("write after close: got nil, want an error")
	}
	wantObject(t, b, "closed", []byte{})
}

// testInvisibleBeforeClose writes several MiB, enough to make a block
// store flush blocks, and checks that a second handle sees nothing of it.
func (s *suite) testInvisibleBeforeClose(t *testing.T, b sink.Bucket) {
	other := s.reopen(t, b)
	data := pattern(3<<20+123, 1)

	w, err := b.Create(t.Context(), "part/x.bin")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	defer w.Abort()
	if _, err := w.Write(data); err != nil {
		t.Fatalf("write: %v", err)
	}
	wantMissing(t, other, "part/x.bin")
	if objs := list(t, other, ""); len(objs) != 0 {
		t.Fatalf("list while writing: got %v, want nothing", objs)
	}

	if err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	wantObject(t, other, "part/x.bin", data)
}

// testReplace checks that an object being replaced stays whole and old
// until the new writer closes.
func (s *suite) testReplace(t *testing.T, b sink.Bucket) {
	other := s.reopen(t, b)
	put(t, b, "m.json", []byte("version 1"))

	w, err := b.Create(t.Context(), "m.json")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	defer w.Abort()
	if _, err := w.Write([]byte("version 2, longer")); err != nil {
		t.Fatalf("write: %v", err)
	}
	wantObject(t, other, "m.json", []byte("version 1"))
	if err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	wantObject(t, other, "m.json", []byte("version 2, longer"))

	put(t, b, "m.json", []byte("v3"))
	wantObject(t, b, "m.json", []byte("v3"))
	if objs := list(t, b, ""); len(objs) != 1 || objs[0].Size != 2 {
		t.Fatalf("list: got %v, want one object of 2 bytes", objs)
	}
}

func testMove(t *testing.T, b sink.Bucket) {
	data := pattern(100_000, 2)
	put(t, b, "staging/run1/x.parquet", data)
	if err := b.Move(t.Context(), "staging/run1/x.parquet", "lake/dt=1/x.parquet"); err != nil {
		t.Fatalf("move: %v", err)
	}
	wantObject(t, b, "lake/dt=1/x.parquet", data)
	wantMissing(t, b, "staging/run1/x.parquet")
	if got := names(list(t, b, "")); !slices.Equal(got, []string{"lake/dt=1/x.parquet"}) {
		t.Fatalf("list: got %q", got)
	}
}

func testMoveOverExisting(t *testing.T, b sink.Bucket) {
	put(t, b, "new", []byte("new content"))
	put(t, b, "current", []byte("old content, longer"))
	if err := b.Move(t.Context(), "new", "current"); err != nil {
		t.Fatalf("move: %v", err)
	}
	wantObject(t, b, "current", []byte("new content"))
	wantMissing(t, b, "new")
}

func testMoveMissing(t *testing.T, b sink.Bucket) {
	put(t, b, "to", []byte("untouched"))
	err := b.Move(t.Context(), "from", "to")
	if !errors.Is(err, sink.ErrNotExist) {
		t.Fatalf("move missing: got %v, want an error wrapping sink.ErrNotExist", err)
	}
	wantObject(t, b, "to", []byte("untouched"))
}

func testDelete(t *testing.T, b sink.Bucket) {
	put(t, b, "d/one", []byte("1"))
	put(t, b, "d/two", []byte("2"))
	for _, name := range []string{"d/one", "d/one", "never/was"} {
		if err := b.Delete(t.Context(), name); err != nil {
			t.Fatalf("delete %s: %v", name, err)
		}
	}
	wantMissing(t, b, "d/one")
	wantObject(t, b, "d/two", []byte("2"))

	// Deleting the last object under a prefix leaves the prefix free for
	// an object of that very name.
	if err := b.Delete(t.Context(), "d/two"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	put(t, b, "d", []byte("now a file"))
	wantObject(t, b, "d", []byte("now a file"))
}

func testOpenMissing(t *testing.T, b sink.Bucket) {
	put(t, b, "p/q", []byte("x"))
	for _, name := range []string{"missing", "p", "p/q/r"} {
		wantMissing(t, b, name)
	}
}

func testList(t *testing.T, b sink.Bucket) {
	all := []string{"a-b", "a.txt", "a/b.x", "a/b/c", "a/bc", "ab/x", "b", "dt=2024-01-02/part-0.parquet"}
	for i, name := range slices.Backward(all) { // written out of order
		put(t, b, name, pattern(i+1, uint64(i)))
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", all},
		{"a", []string{"a-b", "a.txt", "a/b.x", "a/b/c", "a/bc", "ab/x"}},
		{"a/", []string{"a/b.x", "a/b/c", "a/bc"}},
		{"a/b", []string{"a/b.x", "a/b/c", "a/bc"}},
		{"a/b.", []string{"a/b.x"}},
		{"a/b/", []string{"a/b/c"}},
		{"dt=", []string{"dt=2024-01-02/part-0.parquet"}},
		{"zz", nil},
		{"zz/", nil},
		{"a/b/c/", nil},
	}
	for _, tc := range tests {
		if got := names(list(t, b, tc.prefix)); !slices.Equal(got, tc.want) {
			t.Errorf("list %q: got %q, want %q", tc.prefix, got, tc.want)
		}
	}
	for _, o := range list(t, b, "") {
		i := slices.Index(all, o.Name)
		if o.Size != int64(i+1) {
			t.Errorf("list: %s has size %d, want %d", o.Name, o.Size, i+1)
		}
	}
}

func testListStops(t *testing.T, b sink.Bucket) {
	for _, name := range []string{"x/1", "x/2", "x/3"} {
		put(t, b, name, []byte(name))
	}
	stop := errors.New("stop here")
	var seen []string
	err := b.List(t.Context(), "x/", func(o sink.Object) error {
		seen = append(seen, o.Name)
		if len(seen) == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("list: got %v, want the error of fn", err)
	}
	if !slices.Equal(seen, []string{"x/1", "x/2"}) {
		t.Fatalf("list: saw %q, want x/1 and x/2", seen)
	}
}

// testOddNames stores names holding characters that URLs and shells treat
// specially, which partition values can contain.
func testOddNames(t *testing.T, b sink.Bucket) {
	odd := []string{
		"rbac=Unassigned/a b.parquet",
		"k=x%2Fy/+&=?#;,@!$'()*.bin",
		"unicode/ünï çødé/日本.txt",
		"dots/..x/.y/x..z",
		"trailing space /z",
	}
	for i, name := range odd {
		put(t, b, name, []byte(name))
		if i%2 == 1 {
			moved := name + ".moved"
			if err := b.Move(t.Context(), name, moved); err != nil {
				t.Fatalf("move %q: %v", name, err)
			}
			odd[i] = moved
			wantObject(t, b, moved, []byte(name))
			continue
		}
		wantObject(t, b, name, []byte(name))
	}
	want := slices.Sorted(slices.Values(odd))
	if got := names(list(t, b, "")); !slices.Equal(got, want) {
		t.Fatalf("list: got %q, want %q", got, want)
	}
	for _, name := range odd {
		if err := b.Delete(t.Context(), name); err != nil {
			t.Fatalf("delete %q: %v", name, err)
		}
	}
	if objs := list(t, b, ""); len(objs) != 0 {
		t.Fatalf("list after delete: %v", objs)
	}
}

// badNames are refused by every sink.
var badNames = []string{
	"", "/", "/abs", "a//b", "a/", "./a", "a/./b", "../a", "a/..", "a/../../b",
	`a\b`, "a\x00b", "a\nb", "\xff", string(make([]byte, sink.MaxNameLen+1)),
}

func testNamesRefused(t *testing.T, b sink.Bucket) {
	ctx := t.Context()
	put(t, b, "ok", []byte("ok"))
	for _, name := range badNames {
		wantInvalid := func(op string, err error) {
			t.Helper()
			if !errors.Is(err, sink.ErrInvalidName) {
				t.Errorf("%s %q: got %v, want an error wrapping sink.ErrInvalidName", op, name, err)
			}
		}
		w, err := b.Create(ctx, name)
		if err == nil {
			w.Abort()
		}
		wantInvalid("create", err)
		r, err := b.Open(ctx, name)
		if err == nil {
			r.Close()
		}
		wantInvalid("open", err)
		wantInvalid("delete", b.Delete(ctx, name))
		wantInvalid("move from", b.Move(ctx, name, "ok2"))
		wantInvalid("move to", b.Move(ctx, "ok", name))
	}
	for _, prefix := range []string{"/", "../", "a//", "a/../"} {
		err := b.List(ctx, prefix, func(sink.Object) error { return nil })
		if !errors.Is(err, sink.ErrInvalidName) {
			t.Errorf("list %q: got %v, want an error wrapping sink.ErrInvalidName", prefix, err)
		}
	}
	wantObject(t, b, "ok", []byte("ok"))
}

func testLocation(t *testing.T, b sink.Bucket) {
	a, c := b.Location("x/a.parquet"), b.Location("x/c.parquet")
	if a == "" || a == c {
		t.Fatalf("location: got %q and %q, want two distinct places", a, c)
	}
}

// testLarge streams an object in small writes and checks that the heap
// the bucket keeps alive meanwhile stays well below the object's size.
func (s *suite) testLarge(t *testing.T, b sink.Bucket) {
	const chunk = 32 << 10
	buf := make([]byte, chunk)
	src := rand.NewChaCha8([32]byte{7})
	want := sha256.New()

	w, err := b.Create(t.Context(), "big/large.bin")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	defer w.Abort()
	base, peak := liveHeap(), uint64(0)
	for n := int64(0); n < s.largeSize; n += chunk {
		p := buf[:min(chunk, s.largeSize-n)]
		src.Read(p)
		want.Write(p)
		if _, err := w.Write(p); err != nil {
			t.Fatalf("write at %d: %v", n, err)
		}
		if n%(s.largeSize/16) == 0 {
			peak = max(peak, liveHeap())
		}
	}
	peak = max(peak, liveHeap())
	if err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	grew := peak - min(base, peak)
	t.Logf("wrote %d MiB, live heap grew by %.1f MiB at most", s.largeSize>>20, float64(grew)/(1<<20))
	if limit := uint64(s.largeSize / 4); grew > limit {
		t.Errorf("writing %d bytes kept %d bytes of heap alive, want at most %d", s.largeSize, grew, limit)
	}

	r, err := b.Open(t.Context(), "big/large.bin")
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer r.Close()
	got := sha256.New()
	n, err := io.Copy(got, r)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	if n != s.largeSize || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatalf("read back %d bytes with a different digest, want %d bytes as written", n, s.largeSize)
	}
}

// liveHeap collects garbage and returns the bytes still in use on the heap.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// testConcurrent opens many writers at once, then writes and closes them
// from as many goroutines.
func testConcurrent(t *testing.T, b sink.Bucket) {
	const writers = 24
	ws := make([]sink.Writer, writers)
	for i := range ws {
		w, err := b.Create(t.Context(), fmt.Sprintf("c/%02d.bin", i))
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
		defer w.Abort()
		ws[i] = w
	}

	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i, w := range ws {
		wg.Go(func() {
			data := pattern(10_000+i*7_919, uint64(i))
			for p := data; len(p) > 0; p = p[min(len(p), 1000):] {
				if _, err := w.Write(p[:min(len(p), 1000)]); err != nil {
					errs[i] = err
					return
				}
			}
			errs[i] = w.Close()
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent writers: %v", err)
	}
	for i := range ws {
		wantObject(t, b, fmt.Sprintf("c/%02d.bin", i), pattern(10_000+i*7_919, uint64(i)))
	}
}

// testCancel cancels the context of a writer after some blocks went out:
// Close must fail and leave nothing behind.
func (s *suite) testCancel(t *testing.T, b sink.Bucket) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	w, err := b.Create(ctx, "cancelled/x.bin")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if _, err := w.Write(pattern(2<<20+5, 3)); err != nil {
		t.Fatalf("write: %v", err)
	}
	cancel()
	w.Write(pattern(1<<20, 4)) // may or may not fail, Close must
	if err := w.Close(); err == nil {
		t.Fatal("close after cancel: got nil, want an error")
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("abort after failed close: %v", err)
	}
	wantMissing(t, s.reopen(t, b), "cancelled/x.bin")
	if objs := list(t, b, ""); len(objs) != 0 {
		t.Fatalf("list: got %v, want nothing", objs)
	}
}

// pattern returns n reproducible pseudo-random bytes.
func pattern(n int, seed uint64) []byte {
	p := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 1}).Read(p)
	return p
}
