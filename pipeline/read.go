package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
)

// chunkSize is how many bytes of whole lines the read stage hands the decode
// stage at a time. A line longer than this makes a chunk of its own.
const chunkSize = 1 << 20

// chunk is a run of whole lines of one input.
type chunk struct {
	input     int    // index of the input in the run
	firstLine int64  // number of the chunk's first line, from 1
	data      []byte // whole lines, the last one ending in '\n' or at EOF
}

// readInput opens in, decompresses it when it starts with the gzip magic,
// drops a leading byte-order mark, and sends its lines in chunks. It counts
// the input's stored bytes into stored, and progress as it goes.
//
// An input only counts as read when the gzip stream ended cleanly: a
// truncated or corrupt stream is an error naming the input.
func readInput(ctx context.Context, idx int, in Input, out chan<- chunk, stored *atomic.Int64, prog *Progress) error {
	rc, err := in.Open(ctx)
	if err != nil {
		return fmt.Errorf("open %s: %w", in.Name, err)
	}
	defer rc.Close()

	br := bufio.NewReaderSize(&countingReader{r: rc, n: stored, total: &prog.BytesRead}, 256<<10)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("read %s: %w", in.Name, gzipError(err))
		}
		defer zr.Close()
		r = zr
	}
	if err := splitLines(ctx, idx, r, out, &prog.RawBytes); err != nil {
		return fmt.Errorf("read %s: %w", in.Name, gzipError(err))
	}
	return nil
}

// gzipError rewords the errors of a damaged gzip stream for people.
func gzipError(err error) error {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("truncated gzip stream: %w", err)
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader):
		return fmt.Errorf("corrupt gzip stream: %w", err)
	}
	return err
}

// splitLines cuts r into chunks of whole lines and sends them.
func splitLines(ctx context.Context, idx int, r io.Reader, out chan<- chunk, raw *atomic.Int64) error {
	var (
		buf    = getChunkBuf(chunkSize)
		line   = int64(1)
		bom    = true
		lastNL = 0 // just past the last newline in buf, 0 if none
	)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(buf) == cap(buf) {
			// One line fills the buffer: grow it rather than cut the line.
			if len(buf) >= MaxLineBytes {
				return fmt.Errorf("line %d: longer than %d MiB", line, MaxLineBytes>>20)
			}
			grown := make([]byte, len(buf), 2*cap(buf))
			copy(grown, buf)
			buf = grown
		}
		before := len(buf)
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		raw.Add(int64(n))
		if bom && len(buf) >= 3 {
			if bytes.HasPrefix(buf, []byte("\xef\xbb\xbf")) {
				buf = buf[3:]
				before, lastNL = max(before-3, 0), max(lastNL-3, 0)
			}
			bom = false
		}
		eof := errors.Is(err, io.EOF)
		if err != nil && !eof {
			return err
		}
		// Only the bytes just read are searched: a long line is scanned once.
		if i := bytes.LastIndexByte(buf[before:], '\n'); i >= 0 {
			lastNL = before + i + 1
		}
		cut := lastNL
		if eof {
			cut = len(buf)
		}
		if cut > 0 && (len(buf) >= chunkSize/2 || eof) {
			// The partial line left over moves to a fresh buffer before the
			// chunk is sent: once decoded, the chunk's buffer is reused.
			rest := buf[cut:]
			next := append(getChunkBuf(max(chunkSize, 2*len(rest))), rest...)
			c := chunk{input: idx, firstLine: line, data: buf[:cut]} // its whole capacity returns to chunkBufs
			line += int64(bytes.Count(c.data, []byte{'\n'}))
			select {
			case out <- c:
			case <-ctx.Done():
				return ctx.Err()
			}
			buf, lastNL = next, 0
		}
		if eof {
			return nil
		}
	}
}

// MaxLineBytes bounds a line: a longer one fails the run, naming the input
// and line, rather than taking all memory.
const MaxLineBytes = 256 << 20

// countingReader counts the bytes read through it.
type countingReader struct {
	r        io.Reader
	n, total *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	c.total.Add(int64(n))
	return n, err
}

// chunkBufs keeps the buffers of decoded chunks for the chunks read next. A
// sync.Pool would drop them at every collection, and with the heap held
// near its limit collections come every few tens of milliseconds.
var chunkBufs = make(chan []byte, 4)

func getChunkBuf(size int) []byte {
	select {
	case b := <-chunkBufs:
		if cap(b) >= size {
			return b[:0]
		}
	default:
	}
	return make([]byte, 0, size)
}

// putChunkBuf returns a decoded chunk's buffer for reuse.
func putChunkBuf(b []byte) {
	if cap(b) > 4*chunkSize {
		return
	}
	select {
	case chunkBufs <- b:
	default:
	}
}
