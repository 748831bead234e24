package pipeline

import (
	"unsafe"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

// span locates a value's text in a rows arena.
type span struct {
	off  uint32
	n    uint32
	kind schema.Kind // KindNull for a missing or null value
}

// rowMeta is what a row carries besides its field values.
type rowMeta struct {
	input    int32  // index of the input it came from
	hasGroup bool   // group holds an integer group id
	line     int64  // line number in that input
	group    int64  // RBAC group id, when hasGroup
	extra    span   // undocumented keys as a JSON object; KindNull when none
	lo, hi   uint32 // the row's bytes in the arena
	afLo     uint32 // the row's flattened values are afs[afLo:afHi]
	afHi     uint32
	date     int32 // event day from 1970-01-01 UTC, for datasets partitioned by event
}

// The memory of a row's parts, for the build stage's budget.
const (
	spanBytes = int64(unsafe.Sizeof(span{}))
	metaBytes = int64(unsafe.Sizeof(rowMeta{}))
	afBytes   = int64(unsafe.Sizeof(afVal{}))
)

// afVal is one flattened key's value in one row. Rows hold some twenty of
// them each, copied and spilled with the row: the fields are ordered to
// take 24 bytes, not 32.
type afVal struct {
	num  uint64      // int64 or float64 bits, for KindInt, KindWideInt, KindFloat
	text span        // unescaped string, or the literal as written
	col  uint16      // column id in the key registry (see MaxFlattenedColumns)
	kind schema.Kind // kind of this value
}

// rows holds decoded records column-free: each row's values are spans of one
// arena, nf spans a row, in the dataset's field order. The decode stage fills
// one per chunk; the build stage copies rows into one per partition.
type rows struct {
	nf    int
	arena []byte
	vals  []span
	meta  []rowMeta
	afs   []afVal
}

func newRows(nf int) *rows { return &rows{nf: nf} }

func (r *rows) len() int { return len(r.meta) }

// size is the memory the rows hold, for the build stage's budget.
func (r *rows) size() int64 {
	return int64(cap(r.arena)) + int64(cap(r.vals))*spanBytes + int64(cap(r.meta))*metaBytes + int64(cap(r.afs))*afBytes
}

// used is the memory the rows' contents take, whatever the capacity.
func (r *rows) used() int64 {
	return int64(len(r.arena)) + int64(len(r.vals))*spanBytes + int64(len(r.meta))*metaBytes + int64(len(r.afs))*afBytes
}

// batchRows recycles the rows of decoded chunks: a chunk's rows are copied
// into partition buffers and the batch's are reused, so that decoding does
// not grow fresh slices for every chunk. (A sync.Pool would drop them at
// every collection; see chunkBufs.)
var batchRows = make(chan *rows, 8)

func getBatchRows(nf int) *rows {
	select {
	case r := <-batchRows:
		if r.nf == nf {
			r.reset()
			return r
		}
	default:
	}
	// Sized for a chunk of export lines, whose rows take about one and a
	// half times its bytes, so that decoding one does not grow them.
	const records = chunkSize / 512
	return &rows{
		nf:    nf,
		arena: make([]byte, 0, chunkSize+chunkSize/2),
		vals:  make([]span, 0, records*nf),
		meta:  make([]rowMeta, 0, records),
		afs:   make([]afVal, 0, records*24),
	}
}

func putBatchRows(r *rows) {
	if cap(r.arena) > 8*chunkSize {
		return
	}
	select {
	case batchRows <- r:
	default:
	}
}

func (r *rows) text(s span) []byte { return r.arena[s.off : s.off+s.n] }

func (r *rows) field(i, f int) span { return r.vals[i*r.nf+f] }

// put appends b to the arena and returns its span.
func (r *rows) put(b []byte, k schema.Kind) span {
	s := span{off: uint32(len(r.arena)), n: uint32(len(b)), kind: k}
	r.arena = append(r.arena, b...)
	return s
}

// copyRow appends row i of src to r.
func (r *rows) copyRow(src *rows, i int) {
	m := &src.meta[i]
	from := r.lens()
	r.arena = append(r.arena, src.arena[m.lo:m.hi]...)
	r.vals = append(r.vals, src.vals[i*src.nf:(i+1)*src.nf]...)
	r.meta = append(r.meta, *m)
	r.afs = append(r.afs, src.afs[m.afLo:m.afHi]...)
	r.moveTail(from, uint32(from.arena)-m.lo, uint32(from.afs)-m.afLo)
}

// fits reports whether row i of src fits in what r has room for.
func (r *rows) fits(src *rows, i int) bool {
	m := &src.meta[i]
	return len(r.meta) < cap(r.meta) &&
		len(r.vals)+r.nf <= cap(r.vals) &&
		len(r.arena)+int(m.hi-m.lo) <= cap(r.arena) &&
		len(r.afs)+int(m.afHi-m.afLo) <= cap(r.afs)
}

// rowBytes is the memory row i takes, as used counts it.
func (r *rows) rowBytes(i int) int64 {
	m := &r.meta[i]
	return int64(m.hi-m.lo) + int64(r.nf)*spanBytes + metaBytes + int64(m.afHi-m.afLo)*afBytes
}

// appendRows appends all rows of src to r.
func (r *rows) appendRows(src *rows) {
	from := r.lens()
	r.arena = append(r.arena, src.arena...)
	r.vals = append(r.vals, src.vals...)
	r.meta = append(r.meta, src.meta...)
	r.afs = append(r.afs, src.afs...)
	r.moveTail(from, uint32(from.arena), uint32(from.afs))
}

// rowsLens are the lengths of a rows' slices at one moment.
type rowsLens struct{ arena, vals, meta, afs int }

func (r *rows) lens() rowsLens {
	return rowsLens{len(r.arena), len(r.vals), len(r.meta), len(r.afs)}
}

// moveTail moves the offsets of what r holds past from, rows appended with
// their offsets as they were: arena offsets by delta, afs indexes by afDelta
// (both modulo 2^32).
func (r *rows) moveTail(from rowsLens, delta, afDelta uint32) {
	for j := from.vals; j < len(r.vals); j++ {
		r.vals[j] = r.vals[j].moved(delta)
	}
	for j := from.afs; j < len(r.afs); j++ {
		r.afs[j].text = r.afs[j].text.moved(delta)
	}
	for i := from.meta; i < len(r.meta); i++ {
		m := &r.meta[i]
		m.extra = m.extra.moved(delta)
		m.lo, m.hi = m.lo+delta, m.hi+delta
		m.afLo, m.afHi = m.afLo+afDelta, m.afHi+afDelta
	}
}

// moved returns s with its offset moved by delta; a null span has none.
func (s span) moved(delta uint32) span {
	if s.kind != schema.KindNull {
		s.off += delta
	}
	return s
}

func (r *rows) reset() {
	r.arena = r.arena[:0]
	r.vals = r.vals[:0]
	r.meta = r.meta[:0]
	r.afs = r.afs[:0]
}

// rowBlocks is a partition's buffered rows in blocks of fixed capacity,
// filled in turn: the buffer grows without copying what it holds, and what
// it takes from the budget is its rows and the room left in its last block.
type rowBlocks struct {
	blocks []*rows
	size   int64 // the blocks' capacity, as rows.size counts it
	used   int64 // what the rows take, as rows.used counts it
	n      int   // rows held
}

func (b *rowBlocks) len() int { return b.n }

// minBlock is the size of a partition's first block, unless the pool's
// target is smaller.
const minBlock = 32 << 10

// copyRow appends row i of src, in a block from pool when the last is full.
// New blocks grow with the buffer, as large as what it holds, up to the
// pool's target: a partition of a few rows takes little.
func (b *rowBlocks) copyRow(src *rows, i int, pool *blockPool) {
	var last *rows
	if n := len(b.blocks); n > 0 {
		last = b.blocks[n-1]
	}
	if last == nil || !last.fits(src, i) {
		last = pool.get(src, i, min(max(b.size, minBlock), pool.target))
		b.blocks = append(b.blocks, last)
		b.size += last.size()
	}
	last.copyRow(src, i)
	b.used += src.rowBytes(i)
	b.n++
}

// blockPool hands out the blocks of partition buffers, and keeps blocks a
// spill or a flush emptied, up to max bytes, so that blocks are allocated
// once rather than for every partition's every fill.
type blockPool struct {
	target int64 // bytes a partition's blocks grow to
	max    int64
	free   []*rows
	bytes  int64 // what free holds
}

// get returns an empty block with room for row i of src at least: one kept,
// or a new one of about size bytes shaped like src, its slices filling at
// the pace src's rows fill them.
func (p *blockPool) get(src *rows, i int, size int64) *rows {
	if n := len(p.free); n > 0 && p.free[n-1].fits(src, i) {
		r := p.free[n-1]
		p.free = p.free[:n-1]
		p.bytes -= r.size()
		return r
	}
	n := int64(src.len())
	capRows := max(size/max(src.used()/n, 1)*5/4, 1) // a quarter spare for rows larger than most
	m := &src.meta[i]
	return &rows{
		nf:    src.nf,
		arena: make([]byte, 0, max(int64(len(src.arena))*capRows/n, int64(m.hi-m.lo))),
		vals:  make([]span, 0, capRows*int64(src.nf)),
		meta:  make([]rowMeta, 0, capRows),
		afs:   make([]afVal, 0, max(int64(len(src.afs))*capRows/n, int64(m.afHi-m.afLo))),
	}
}

// put takes back the blocks of b, emptied, as room allows; blocks much
// larger than new ones are let go.
func (p *blockPool) put(b *rowBlocks) {
	for _, r := range b.blocks {
		if size := r.size(); size <= 2*p.target && p.bytes+size <= p.max {
			r.reset()
			p.free = append(p.free, r)
			p.bytes += size
		}
	}
}
