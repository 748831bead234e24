package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/mdvm-parquet/mdvm-parquet/sink"
)

// rejectWriter keeps the records set aside, one JSON object a line, in a file
// of the lake's _rejected folder: source file, line, reason and raw text. The
// file is written even when the run fails, so the first bad records can be
// looked at; it is only created once there is something to put in it.
type rejectWriter struct {
	bucket sink.Bucket
	name   string
	inputs []Input
	max    int64
	count  int64
	first  *reject

	w   sink.Writer
	buf *bufio.Writer
}

func newRejectWriter(b sink.Bucket, name string, inputs []Input, max int64) *rejectWriter {
	return &rejectWriter{bucket: b, name: name, inputs: inputs, max: max}
}

// rejectLine is the shape of a line of the rejects file.
type rejectLine struct {
	SourceFile string `json:"source_file"`
	Line       int64  `json:"line"`
	Reason     string `json:"reason"`
	Raw        string `json:"raw"`
}

// maxReasonBytes bounds a reject's reason where it is written or shown: a
// parser's message on a record nested hundreds of levels deep repeats
// itself for kilobytes. The raw text is kept whole.
const maxReasonBytes = 200

// shortReason returns reason, cut at a character boundary and ended with
// "…" when it is longer than maxReasonBytes bytes.
func shortReason(reason string) string {
	if len(reason) <= maxReasonBytes {
		return reason
	}
	cut := maxReasonBytes - len("…")
	for cut > 0 && !utf8.RuneStart(reason[cut]) {
		cut--
	}
	return reason[:cut] + "…"
}

// add records rs. It fails with ErrTooManyRejected, naming the first
// offending record, once the count exceeds the maximum.
func (r *rejectWriter) add(ctx context.Context, rs []reject) error {
	for i := range rs {
		rj := &rs[i]
		rj.reason = shortReason(rj.reason)
		if r.first == nil {
			c := *rj
			r.first = &c
		}
		if r.w == nil {
			w, err := r.bucket.Create(ctx, r.name)
			if err != nil {
				return fmt.Errorf("rejects file: %w", err)
			}
			r.w, r.buf = w, bufio.NewWriterSize(w, 64<<10)
		}
		line, err := json.Marshal(rejectLine{SourceFile: r.inputs[rj.input].Name, Line: rj.line, Reason: rj.reason, Raw: string(rj.raw)})
		if err != nil {
			return err
		}
		r.buf.Write(append(line, '\n'))
		r.count++
		if r.count > r.max {
			return fmt.Errorf("%w: more than --max-rejected %d; first at %s:%d: %s",
				ErrTooManyRejected, r.max, r.inputs[r.first.input].Name, r.first.line, r.first.reason)
		}
	}
	return nil
}

// close finishes the rejects file, if there is one.
func (r *rejectWriter) close(ctx context.Context) error {
	if r.w == nil {
		return nil
	}
	if err := r.buf.Flush(); err != nil {
		r.w.Abort()
		return fmt.Errorf("rejects file: %w", err)
	}
	if err := r.w.Close(); err != nil {
		return fmt.Errorf("rejects file: %w", err)
	}
	return nil
}

// location is where the rejects file is, or "" when there is none.
func (r *rejectWriter) location() string {
	if r.w == nil {
		return ""
	}
	return r.bucket.Location(r.name)
}
