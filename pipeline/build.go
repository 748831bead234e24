package pipeline

import (
	"context"
	"strconv"
	"time"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

// HiveNullPartition is the folder value Spark, Arrow and DuckDB read as NULL.
const HiveNullPartition = "__HIVE_DEFAULT_PARTITION__"

// partKey names a partition. Its folder names come only from a parsed date
// and a parsed integer, so no input string ever shapes a path.
type partKey struct {
	date     time.Time // UTC midnight
	group    int64
	hasGroup bool
}

// path returns the partition's folder below the lake root, such as
// "hardware_firmware/snapshot_date=2026-11-30/rbac_group_id=39".
func (k partKey) path(ds *schema.Dataset) string {
	g := HiveNullPartition
	if k.hasGroup {
		g = strconv.FormatInt(k.group, 10)
	}
	return datePath(ds, k.date) + "/rbac_group_id=" + g
}

// datePath returns the folder of one date of a dataset: the unit a run
// publishes and replaces.
func datePath(ds *schema.Dataset, date time.Time) string {
	col := "snapshot_date"
	if ds.Partitioning == schema.ByEvent {
		col = "event_date"
	}
	return ds.Name + "/" + col + "=" + date.UTC().Format(time.DateOnly)
}

// batch is what the decode stage hands the build stage.
type batch struct {
	rows    *rows
	rejects []reject
}

// buildOptions bound the build stage's memory.
type buildOptions struct {
	budget        int64 // bytes of buffered rows, all partitions together
	rowGroupBytes int64 // bytes of buffered rows after which a partition is flushed
	workers       int   // row groups encoded at once
}

// partState is a partition's buffer and writer.
type partState struct {
	key      partKey
	buf      *rows
	writer   *partWriter
	inflight bool
	inSize   int64 // size of the buffer being flushed
}

type flushJob struct {
	part *partState
	buf  *rows
}

type flushDone struct {
	part *partState
	buf  *rows
	err  error
}

// build gathers the rows of incoming batches into per-partition buffers and
// has them written as row groups: when a partition's buffer reaches a row
// group's size, and, largest first, whenever all buffers together exceed the
// budget. While over budget with every large buffer already being written, it
// stops taking batches: backpressure reaches the decoders and readers.
//
// Files are created under fileCtx, which outlives the stages: they are
// finished after the stages end. It returns the partitions, each with its
// writer's current file still open.
func build(ctx, fileCtx context.Context, spec *fileSpec, opt buildOptions, date time.Time,
	in <-chan batch, onRejects func([]reject) error) ([]*partState, error) {
	parts := map[partKey]*partState{}
	var order []*partState
	var used int64
	var queue []flushJob
	jobs := make(chan flushJob)
	done := make(chan flushDone)
	running := 0

	for w := 0; w < opt.workers; w++ {
		go func() {
			for j := range jobs {
				err := j.part.writer.flush(fileCtx, j.buf)
				done <- flushDone{part: j.part, buf: j.buf, err: err}
			}
		}()
	}
	defer close(jobs)

	enqueue := func(p *partState) {
		p.inflight = true
		p.inSize = p.buf.size()
		queue = append(queue, flushJob{part: p, buf: p.buf})
		// The next buffer starts as large as this one ended, rather than
		// growing from nothing by copies.
		p.buf = p.buf.sized()
		used += p.buf.size()
	}
	pickLargest := func() *partState {
		var best *partState
		for _, p := range order {
			if !p.inflight && p.buf.len() > 0 && (best == nil || p.buf.used() > best.buf.used()) {
				best = p
			}
		}
		return best
	}
	var firstErr error
	finish := func(d flushDone) {
		running--
		used -= d.part.inSize
		d.part.inflight, d.part.inSize = false, 0
		if d.err != nil && firstErr == nil {
			firstErr = d.err
		}
	}

	for in != nil || len(queue) > 0 || running > 0 {
		if firstErr != nil {
			break
		}
		// Over budget: flush the largest idle buffers.
		for used > opt.budget {
			p := pickLargest()
			if p == nil {
				break
			}
			enqueue(p)
		}
		var jobsC chan flushJob
		var head flushJob
		if len(queue) > 0 {
			jobsC, head = jobs, queue[0]
		}
		inC := in
		if used > opt.budget && (running > 0 || len(queue) > 0) {
			inC = nil // backpressure until a flush finishes
		}
		select {
		case jobsC <- head:
			queue = queue[1:]
			running++
		case d := <-done:
			finish(d)
		case b, ok := <-inC:
			if !ok {
				in = nil
				for _, p := range order {
					if p.buf.len() > 0 && !p.inflight {
						enqueue(p)
					}
				}
				continue
			}
			if err := onRejects(b.rejects); err != nil && firstErr == nil {
				firstErr = err
			}
			for i := 0; i < b.rows.len(); i++ {
				m := b.rows.meta[i]
				k := partKey{date: date, group: m.group, hasGroup: m.hasGroup}
				p := parts[k]
				if p == nil {
					p = &partState{key: k, buf: newRows(len(spec.ds.Fields)),
						writer: &partWriter{spec: spec, key: k}}
					parts[k] = p
					order = append(order, p)
				}
				before := p.buf.size()
				p.buf.copyRow(b.rows, i)
				used += p.buf.size() - before
				if !p.inflight && p.buf.size() >= opt.rowGroupBytes {
					enqueue(p)
				}
			}
			putBatchRows(b.rows)
		case <-ctx.Done():
			if firstErr == nil {
				firstErr = ctx.Err()
			}
		}
		// Leftover partitions whose flush was in flight at end of input.
		if in == nil && len(queue) == 0 {
			for _, p := range order {
				if p.buf.len() > 0 && !p.inflight {
					enqueue(p)
				}
			}
		}
	}
	for running > 0 {
		finish(<-done)
	}
	return order, firstErr
}
