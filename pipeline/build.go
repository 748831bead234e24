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

// rowDate is the date of a row's partition: the snapshot's, or for a
// dataset partitioned by event the day of the row's event (UTC).
func rowDate(ds *schema.Dataset, snapshot time.Time, m rowMeta) time.Time {
	if ds.Partitioning != schema.ByEvent {
		return snapshot
	}
	return time.Unix(int64(m.date)*86400, 0).UTC()
}

// batch is what the decode stage hands the build stage.
type batch struct {
	rows    *rows
	rejects []reject
}

// buildOptions bound the build stage's memory.
type buildOptions struct {
	budget        int64  // bytes of buffered rows, all partitions together
	rowGroupBytes int64  // bytes of buffered rows after which a partition is flushed
	workers       int    // row groups encoded at once
	spillDir      string // where rows too few for a row group wait; "" to flush them
}

// partState is a partition's buffer and writer.
type partState struct {
	key      partKey
	buf      *rowBlocks // nil until rows come
	writer   *partWriter
	spill    *spillFile // rows set aside on disk, or nil
	inflight bool
	inSize   int64 // memory of the flush in flight
}

// pending is how much the partition holds, in memory and spilled.
func (p *partState) pending() int64 {
	n := int64(0)
	if p.buf != nil {
		n = p.buf.used
	}
	if p.spill != nil {
		n += p.spill.bytes
	}
	return n
}

type flushJob struct {
	part  *partState
	buf   *rowBlocks // may be nil
	spill *spillFile // may be nil
}

type flushDone struct {
	part *partState
	buf  *rowBlocks // may be nil
	err  error
}

// blockTarget is the size a partition's buffer blocks grow to with open
// partitions: a quarter of each one's share of the budget, so that the room
// left in partitions' last blocks stays a small part of it.
func blockTarget(opt buildOptions, open int) int64 {
	return min(max(opt.budget/int64(4*open), 4<<10), max(opt.rowGroupBytes, 4<<10))
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
			acc := newRows(len(spec.ds.Fields))
			for j := range jobs {
				var blocks []*rows
				if j.buf != nil {
					blocks = j.buf.blocks
				}
				err := j.part.writer.flushPending(fileCtx, j.spill, blocks, opt.rowGroupBytes, acc)
				done <- flushDone{part: j.part, buf: j.buf, err: err}
			}
		}()
	}
	defer close(jobs)

	// Blocks emptied by a spill or a flush are kept for reuse, up to a
	// quarter of the budget (not counted in it while unused): with every
	// partition open at once, buffers are spilled and refilled all the time.
	pool := &blockPool{max: opt.budget / 4}
	enqueue := func(p *partState) {
		p.inflight = true
		p.inSize = 0
		if p.buf != nil {
			p.inSize = p.buf.size
			used -= p.inSize
		}
		if p.spill != nil {
			p.inSize += min(p.spill.bytes, opt.rowGroupBytes)
		}
		used += p.inSize
		queue = append(queue, flushJob{part: p, buf: p.buf, spill: p.spill})
		p.buf, p.spill = nil, nil // until rows come
	}
	// spill sets p's buffer aside on disk, freeing its memory.
	spill := func(p *partState) error {
		if p.spill == nil {
			sf, err := newSpillFile(opt.spillDir)
			if err != nil {
				return err
			}
			p.spill = sf
		}
		for _, r := range p.buf.blocks {
			if err := p.spill.write(r); err != nil {
				return err
			}
		}
		used -= p.buf.size
		pool.put(p.buf)
		p.buf = nil
		return nil
	}
	pickLargest := func() *partState {
		var best *partState
		for _, p := range order {
			if !p.inflight && p.buf != nil && p.buf.len() > 0 && (best == nil || p.buf.used > best.buf.used) {
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
		if d.buf != nil {
			pool.put(d.buf)
		}
		if d.err != nil && firstErr == nil {
			firstErr = d.err
		}
	}

	for in != nil || len(queue) > 0 || running > 0 {
		if firstErr != nil {
			break
		}
		// Over budget: write the largest idle buffers, or set them aside
		// until they make a row group.
		for used > opt.budget && firstErr == nil {
			p := pickLargest()
			if p == nil {
				break
			}
			if opt.spillDir == "" || p.pending() >= opt.rowGroupBytes {
				enqueue(p)
			} else if err := spill(p); err != nil {
				firstErr = err
			}
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
				in = nil // the leftovers are queued below
				break
			}
			if err := onRejects(b.rejects); err != nil && firstErr == nil {
				firstErr = err
			}
			for i := 0; i < b.rows.len(); i++ {
				m := b.rows.meta[i]
				k := partKey{date: rowDate(spec.ds, date, m), group: m.group, hasGroup: m.hasGroup}
				p := parts[k]
				if p == nil {
					p = &partState{key: k, writer: &partWriter{spec: spec, key: k}}
					parts[k] = p
					order = append(order, p)
					pool.target = blockTarget(opt, len(order))
				}
				if p.buf == nil {
					p.buf = &rowBlocks{}
				}
				before := p.buf.size
				p.buf.copyRow(b.rows, i, pool)
				used += p.buf.size - before
				if !p.inflight && p.pending() >= opt.rowGroupBytes {
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
				if !p.inflight && ((p.buf != nil && p.buf.len() > 0) || p.spill != nil) {
					enqueue(p)
				}
			}
		}
	}
	for running > 0 {
		finish(<-done)
	}
	for _, p := range order {
		if p.spill != nil {
			p.spill.remove()
		}
	}
	for _, j := range queue {
		if j.spill != nil {
			j.spill.remove()
		}
	}
	return order, firstErr
}
