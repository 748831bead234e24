package pipeline

import (
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// spillFile keeps one partition's buffered rows on local disk while they are
// too few for a row group: with every partition open at once, the memory
// budget shared between them would otherwise cut row groups of a few hundred
// rows, and every row group's metadata stays in memory until its file is
// finished. Rows are stored in their in-memory form, one segment a spill,
// and read back when the partition has enough for a row group.
//
// Segments go to the file and come back without a buffer between: they are
// large, and are read straight into the rows that gather a row group.
type spillFile struct {
	f     *os.File
	bytes int64 // rows' memory size spilled so far
}

// segmentHeader is the size of a segment's header: the lengths of the
// rows' arena, vals, meta and afs.
const segmentHeader = 32

func newSpillFile(dir string) (*spillFile, error) {
	f, err := os.CreateTemp(dir, "spill-*")
	if err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	return &spillFile{f: f}, nil
}

// write appends r as one segment.
func (s *spillFile) write(r *rows) error {
	var hdr [segmentHeader]byte
	binary.LittleEndian.PutUint64(hdr[0:], uint64(len(r.arena)))
	binary.LittleEndian.PutUint64(hdr[8:], uint64(len(r.vals)))
	binary.LittleEndian.PutUint64(hdr[16:], uint64(len(r.meta)))
	binary.LittleEndian.PutUint64(hdr[24:], uint64(len(r.afs)))
	for _, b := range [][]byte{hdr[:], r.arena, asBytes(r.vals), asBytes(r.meta), asBytes(r.afs)} {
		if _, err := s.f.Write(b); err != nil {
			return fmt.Errorf("spill %s: %w", s.f.Name(), err)
		}
	}
	s.bytes += r.used()
	return nil
}

// segments appends the segments to acc in order, calling fn after each;
// fn may write acc out and reset it. It closes and removes the file.
func (s *spillFile) segments(acc *rows, fn func() error) error {
	defer s.remove()
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("spill %s: %w", s.f.Name(), err)
	}
	for {
		var hdr [segmentHeader]byte
		if _, err := io.ReadFull(s.f, hdr[:]); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("spill %s: %w", s.f.Name(), err)
		}
		if err := acc.readSegment(s.f, hdr); err != nil {
			return fmt.Errorf("spill %s: %w", s.f.Name(), err)
		}
		if err := fn(); err != nil {
			return err
		}
	}
}

func (s *spillFile) remove() {
	s.f.Close()
	os.Remove(s.f.Name())
}

// readSegment reads the segment hdr heads from src onto the end of r, and
// moves the offsets it holds, which count from the segment's start.
func (r *rows) readSegment(src io.Reader, hdr [segmentHeader]byte) error {
	from := r.lens()
	r.arena = extend(r.arena, binary.LittleEndian.Uint64(hdr[0:]))
	r.vals = extend(r.vals, binary.LittleEndian.Uint64(hdr[8:]))
	r.meta = extend(r.meta, binary.LittleEndian.Uint64(hdr[16:]))
	r.afs = extend(r.afs, binary.LittleEndian.Uint64(hdr[24:]))
	tail := [][]byte{r.arena[from.arena:], asBytes(r.vals[from.vals:]),
		asBytes(r.meta[from.meta:]), asBytes(r.afs[from.afs:])}
	for _, b := range tail {
		if _, err := io.ReadFull(src, b); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	r.moveTail(from, uint32(from.arena), uint32(from.afs))
	return nil
}

// extend returns s lengthened by n elements, their contents undefined.
func extend[T any](s []T, n uint64) []T {
	return slices.Grow(s, int(n))[:len(s)+int(n)]
}

// spillDirPrefix begins the name of a run's spill folder, followed by the
// machine's name and the run's process id: a run killed before it could
// remove its folder leaves it behind, and the next run on the same machine
// removes it. (The machine's name keeps runs of other machines or
// containers sharing the folder, whose process ids mean nothing here, out
// of it.)
const spillDirPrefix = "mdvm-parquet-spill-"

// spillHost is this machine's name as spill folders carry it.
func spillHost() string {
	host, _ := os.Hostname()
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' {
			return r
		}
		return '_'
	}, host)
}

// newSpillDir creates this run's spill folder in dir (the system's temporary
// folder when ""), first removing those of runs whose process is gone.
func newSpillDir(dir string, log *slog.Logger) (string, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	removeStaleSpillDirs(dir, log)
	d, err := os.MkdirTemp(dir, fmt.Sprintf("%s%s-%d-", spillDirPrefix, spillHost(), os.Getpid()))
	if err != nil {
		return "", fmt.Errorf("spill folder: %w", err)
	}
	return d, nil
}

func removeStaleSpillDirs(dir string, log *slog.Logger) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return // then MkdirTemp says what is wrong
	}
	for _, e := range entries {
		pid, ok := spillDirPID(e.Name())
		if !ok || !e.IsDir() || pid == os.Getpid() || processAlive(pid, time.Now()) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if err := os.RemoveAll(path); err != nil {
			log.Warn("cannot remove the spill folder of a run that is gone", "folder", path, "err", err)
			continue
		}
		log.Info("removed the spill folder of a run that is gone", "folder", path, "pid", pid)
	}
}

// spillDirPID returns the process id in the name of a spill folder of this
// machine.
func spillDirPID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, spillDirPrefix+spillHost()+"-")
	if !ok {
		return 0, false
	}
	// The rest is the process id and MkdirTemp's random digits, nothing else:
	// a longer name is another machine's whose name begins with ours.
	digits, random, ok := strings.Cut(rest, "-")
	if _, err := strconv.ParseUint(random, 10, 64); !ok || err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(digits)
	return pid, err == nil && pid > 0
}

// asBytes views a slice of plain values (no pointers) as bytes.
func asBytes[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(zero)))
}
