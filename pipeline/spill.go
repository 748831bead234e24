package pipeline

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"unsafe"
)

// spillFile keeps one partition's buffered rows on local disk while they are
// too few for a row group: with every partition open at once, the memory
// budget shared between them would otherwise cut row groups of a few hundred
// rows, and every row group's metadata stays in memory until its file is
// finished. Rows are stored in their in-memory form, one segment a spill,
// and read back when the partition has enough for a row group.
type spillFile struct {
	f     *os.File
	w     *bufio.Writer
	bytes int64 // rows' memory size spilled so far
}

func newSpillFile(dir string) (*spillFile, error) {
	f, err := os.CreateTemp(dir, "spill-*")
	if err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	return &spillFile{f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

// write appends r as one segment.
func (s *spillFile) write(r *rows) error {
	var hdr [32]byte
	binary.LittleEndian.PutUint64(hdr[0:], uint64(len(r.arena)))
	binary.LittleEndian.PutUint64(hdr[8:], uint64(len(r.vals)))
	binary.LittleEndian.PutUint64(hdr[16:], uint64(len(r.meta)))
	binary.LittleEndian.PutUint64(hdr[24:], uint64(len(r.afs)))
	for _, b := range [][]byte{hdr[:], r.arena, asBytes(r.vals), asBytes(r.meta), asBytes(r.afs)} {
		if _, err := s.w.Write(b); err != nil {
			return fmt.Errorf("spill: %w", err)
		}
	}
	s.bytes += r.used()
	return nil
}

// segments reads the segments back in order, calling fn with each; the rows
// passed are reused between calls. It closes and removes the file.
func (s *spillFile) segments(nf int, fn func(*rows) error) error {
	defer s.remove()
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("spill: %w", err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("spill: %w", err)
	}
	br := bufio.NewReaderSize(s.f, 256<<10)
	seg := newRows(nf)
	for {
		var hdr [32]byte
		if _, err := io.ReadFull(br, hdr[:]); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("spill: %w", err)
		}
		seg.arena = resize(seg.arena, binary.LittleEndian.Uint64(hdr[0:]))
		seg.vals = resize(seg.vals, binary.LittleEndian.Uint64(hdr[8:]))
		seg.meta = resize(seg.meta, binary.LittleEndian.Uint64(hdr[16:]))
		seg.afs = resize(seg.afs, binary.LittleEndian.Uint64(hdr[24:]))
		for _, b := range [][]byte{seg.arena, asBytes(seg.vals), asBytes(seg.meta), asBytes(seg.afs)} {
			if _, err := io.ReadFull(br, b); err != nil {
				return fmt.Errorf("spill: %w", err)
			}
		}
		if err := fn(seg); err != nil {
			return err
		}
	}
}

func (s *spillFile) remove() {
	s.f.Close()
	os.Remove(s.f.Name())
}

// asBytes views a slice of plain values (no pointers) as bytes.
func asBytes[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(zero)))
}

func resize[T any](s []T, n uint64) []T {
	if uint64(cap(s)) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// appendRows appends all rows of src to r, moving their offsets.
func (r *rows) appendRows(src *rows) {
	delta, afBase := r.appendMoved(src.arena, 0, src.vals, src.afs)
	lo := len(r.meta)
	r.meta = append(r.meta, src.meta...)
	for i := lo; i < len(r.meta); i++ {
		m := &r.meta[i]
		m.extra = m.extra.moved(delta)
		m.lo, m.hi = m.lo+delta, m.hi+delta
		m.afLo, m.afHi = m.afLo+afBase, m.afHi+afBase
	}
}
