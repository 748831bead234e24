package pipeline

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

// rowView is what a row holds, offsets resolved.
type rowView struct {
	fields []string
	afs    []afView
	extra  string
	raw    string
	meta   rowMeta // offsets cleared
}

type afView struct {
	col  uint32
	kind schema.Kind
	text string
	num  uint64
}

func viewRows(r *rows) []rowView {
	text := func(s span) string {
		if s.kind == schema.KindNull {
			return "<null>"
		}
		return string(r.text(s))
	}
	views := make([]rowView, r.len())
	for i := range views {
		m := r.meta[i]
		v := rowView{extra: text(m.extra), raw: string(r.arena[m.lo:m.hi])}
		for f := 0; f < r.nf; f++ {
			v.fields = append(v.fields, text(r.field(i, f)))
		}
		for _, a := range r.afs[m.afLo:m.afHi] {
			v.afs = append(v.afs, afView{col: uint32(a.col), kind: a.kind, text: text(a.text), num: a.num})
		}
		m.extra, m.lo, m.hi, m.afLo, m.afHi = span{}, 0, 0, 0, 0
		v.meta = m
		views[i] = v
	}
	return views
}

// partitionRows copies rows of src into n buffers, row i into buffer i%n.
func partitionRows(src *rows, n int) []*rows {
	bufs := make([]*rows, n)
	for i := range bufs {
		bufs[i] = newRows(src.nf)
	}
	for i := 0; i < src.len(); i++ {
		bufs[i%n].copyRow(src, i)
	}
	return bufs
}

func TestCopyRow(t *testing.T) {
	src, _ := sampleRows(t, schema.HardwareFirmware, 300)
	parts := partitionRows(src, 3)
	want := viewRows(src)
	for p, buf := range parts {
		got := viewRows(buf)
		for i := range got {
			if !reflect.DeepEqual(got[i], want[i*3+p]) {
				t.Fatalf("buffer %d row %d: %+v, want %+v", p, i, got[i], want[i*3+p])
			}
		}
	}
}

// TestSpillSegments spills segments and reads them back onto rows already
// held, as a flush gathers a row group.
func TestSpillSegments(t *testing.T) {
	src, _ := sampleRows(t, schema.HardwareFirmware, 400)
	segs := partitionRows(src, 4)
	sf, err := newSpillFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, seg := range segs[1:] {
		if err := sf.write(seg); err != nil {
			t.Fatal(err)
		}
	}
	acc := newRows(src.nf)
	acc.appendRows(segs[0])
	want := newRows(src.nf)
	for _, seg := range segs {
		want.appendRows(seg)
	}
	calls := 0
	if err := sf.segments(acc, func() error { calls++; return nil }); err != nil {
		t.Fatal(err)
	}
	if calls != 3 {
		t.Errorf("fn called %d times, want 3", calls)
	}
	if !reflect.DeepEqual(viewRows(acc), viewRows(want)) {
		t.Error("rows read back differ from the rows spilled")
	}
	if _, err := os.Stat(sf.f.Name()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("spill file left behind: %v", err)
	}
}

// TestSpillTruncated cuts a spill file at every length a segment can end
// early at: reading it back fails, never panics.
func TestSpillTruncated(t *testing.T) {
	src, _ := sampleRows(t, schema.HardwareFirmware, 20)
	dir := t.TempDir()
	sf, err := newSpillFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := sf.write(src); err != nil {
		t.Fatal(err)
	}
	full, err := os.ReadFile(sf.f.Name())
	if err != nil {
		t.Fatal(err)
	}
	sf.remove()
	for _, n := range []int{1, segmentHeader - 1, segmentHeader, segmentHeader + 1, len(full) / 2, len(full) - 1} {
		sf, err := newSpillFile(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sf.f.Write(full[:n]); err != nil {
			t.Fatal(err)
		}
		err = sf.segments(newRows(src.nf), func() error { return nil })
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("cut at %d of %d: err = %v, want unexpected EOF", n, len(full), err)
		}
	}
}

func TestSpillDirPID(t *testing.T) {
	host := spillHost()
	tests := []struct {
		name string
		pid  int
		ok   bool
	}{
		{spillDirPrefix + host + "-1234-987654", 1234, true},
		{spillDirPrefix + host + "-99999-1234-567", 0, false}, // a machine named host-99999
		{spillDirPrefix + "other" + host + "-1234-987654", 0, false},
		{spillDirPrefix + "987654", 0, false}, // the form without machine and process
		{spillDirPrefix + host + "-x-987654", 0, false},
		{"unrelated", 0, false},
	}
	for _, tt := range tests {
		pid, ok := spillDirPID(tt.name)
		if pid != tt.pid || ok != tt.ok {
			t.Errorf("spillDirPID(%q) = %d, %v; want %d, %v", tt.name, pid, ok, tt.pid, tt.ok)
		}
	}
}

// TestNewSpillDirRemovesStale checks that a spill folder left by a process
// that is gone is removed, and that one of a live process is not.
func TestNewSpillDirRemovesStale(t *testing.T) {
	dir := t.TempDir()
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Skip("no process to outlive:", err)
	}
	stale := filepath.Join(dir, fmt.Sprintf("%s%s-%d-1", spillDirPrefix, spillHost(), gone.Process.Pid))
	live := filepath.Join(dir, fmt.Sprintf("%s%s-%d-2", spillDirPrefix, spillHost(), os.Getppid()))
	other := filepath.Join(dir, spillDirPrefix+"3") // no process id: left alone
	for _, d := range []string{stale, live, other} {
		if err := os.MkdirAll(filepath.Join(d, "x"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mine, err := newSpillDir(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for d, want := range map[string]bool{stale: false, live: true, other: true, mine: true} {
		if _, err := os.Stat(d); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", filepath.Base(d), err == nil, want)
		}
	}
}

// TestAfValSize guards the layout of afVal: rows hold about twenty each, and
// every byte of it is copied, spilled and read back with the row.
func TestAfValSize(t *testing.T) {
	if afBytes != 24 {
		t.Errorf("afVal takes %d bytes, want 24: order its fields largest first", afBytes)
	}
}
