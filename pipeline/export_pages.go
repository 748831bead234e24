package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mdvm-parquet/mdvm-parquet/pipeline/defender"
)

// errExportStopped ends the pages feed once the conversion is over.
var errExportStopped = errors.New("export stopped")

// exportPages runs the JSON pages method: one input fed page by page.
func exportPages(ctx context.Context, opt ExportOptions) (*Summary, error) {
	endpoint, _, _ := strings.Cut(opt.Path, "?")
	name := path.Base(endpoint)

	// The pages carry no generatedTime: the snapshot is dated by the first
	// request for it.
	snapshot := time.Now().UTC().Truncate(time.Second)
	var raw *rawZone
	rel := name + ".json.gz"
	if opt.KeepRaw != "" {
		var err error
		if raw, err = openRawZone(opt.KeepRaw, snapshot, []string{rel}, opt.Convert.Logger); err != nil {
			return nil, err
		}
	}
	feed := startPages(ctx, opt.Client, opt.Path, opt.PageSize)
	defer feed.stop()
	in := Input{Name: name, Size: -1, Open: feed.open}
	if raw != nil {
		in = raw.tee(in, rel, true)
	}
	opt.Convert.Inputs, opt.Convert.SnapshotTime = []Input{in}, snapshot
	sum, err := Convert(ctx, opt.Convert)
	feed.stop()
	if raw != nil {
		err = errors.Join(err, raw.finish(pagesResponse(rel, snapshot)))
	}
	return sum, err
}

// pagesFeed reads the pages in a goroutine into a pipe, one record a line.
// The next page is asked for once the reader has taken all but the last
// few hundred KiB of the one before, so one page at a time is held.
type pagesFeed struct {
	pr     *io.PipeReader
	cancel context.CancelFunc
	done   chan struct{}
	opened atomic.Bool
}

func startPages(ctx context.Context, c *defender.Client, path string, pageSize int) *pagesFeed {
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	f := &pagesFeed{pr: pr, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(f.done)
		w := bufio.NewWriterSize(pw, 256<<10)
		var line bytes.Buffer
		err := c.Pages(ctx, path, pageSize, func(page []json.RawMessage) error {
			for _, rec := range page {
				if err := writeRecord(w, &line, rec); err != nil {
					return err
				}
			}
			return w.Flush()
		})
		if err == nil {
			err = w.Flush()
		}
		pw.CloseWithError(err) // nil: the reader sees EOF
	}()
	return f
}

// writeRecord writes one record on one line. Records are compact as the
// service sends them; one spread over lines is compacted first.
func writeRecord(w *bufio.Writer, line *bytes.Buffer, rec json.RawMessage) error {
	if bytes.ContainsAny(rec, "\r\n") {
		line.Reset()
		if err := json.Compact(line, rec); err != nil {
			return fmt.Errorf("compact record: %w", err)
		}
		rec = line.Bytes()
	}
	if _, err := w.Write(rec); err != nil {
		return err
	}
	return w.WriteByte('\n')
}

// open hands the pipe to the read stage, once.
func (f *pagesFeed) open(context.Context) (io.ReadCloser, error) {
	if f.opened.Swap(true) {
		return nil, errors.New("BUG: pages input opened twice")
	}
	return f.pr, nil
}

// stop ends the feed and waits for its goroutine. It may be called more
// than once.
func (f *pagesFeed) stop() {
	f.cancel()
	f.pr.CloseWithError(errExportStopped)
	<-f.done
}
