package pipeline

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/bits"
	"slices"
	"time"
	"unsafe"

	"github.com/parquet-go/parquet-go/compress"

	"github.com/mdvm-parquet/mdvm-parquet/pipeline/parquetfile"
	"github.com/mdvm-parquet/mdvm-parquet/schema"
	"github.com/mdvm-parquet/mdvm-parquet/sink"
)

// pageSize is the size of a page's values, before compression, past which
// a page is cut: large enough for compression to pay, small enough to bound
// what a reader decodes at a time.
const pageSize = 256 << 10

// fileSpec is what every file of a run shares.
type fileSpec struct {
	owner    owner // the run, for its journal
	ds       *schema.Dataset
	bucket   sink.Bucket
	reg      *keyRegistry
	inputs   []Input
	snapshot time.Time
	runID    string
	version  string
	codec    compress.Codec // of every page
	maxFile  int64          // bytes after which a partition's file is finished

	// inputNames are the inputs' names as the lineage column writes them.
	inputNames [][]byte
}

// writtenFile describes a finished Parquet file, for the manifest.
type writtenFile struct {
	Name        string `json:"name"` // below the dataset's staging folder
	Partition   string `json:"partition"`
	Rows        int64  `json:"rows"`
	Bytes       int64  `json:"bytes"`
	RowGroups   int    `json:"row_groups"`
	fingerprint string
}

// partWriter writes the files of one partition, one row group per flush. It
// is used by one goroutine at a time.
type partWriter struct {
	spec  *fileSpec
	key   partKey
	seq   int
	cur   *openFile
	files []writtenFile
}

type openFile struct {
	info   writtenFile
	out    sink.Writer
	count  *countWriter
	pw     *parquetfile.Writer
	layout *schema.Layout
}

// flushPending writes what a partition has set aside on disk and then the
// rows of blocks, as row groups of about limit bytes, using acc to gather
// rows.
func (p *partWriter) flushPending(ctx context.Context, sp *spillFile, blocks []*rows, limit int64, acc *rows) error {
	acc.reset()
	if sp != nil {
		err := sp.segments(acc, func() error {
			if acc.used() < limit {
				return nil
			}
			err := p.flush(ctx, acc)
			acc.reset()
			return err
		})
		if err != nil {
			return err
		}
	}
	if len(blocks) == 1 && acc.len() == 0 {
		return p.flush(ctx, blocks[0])
	}
	for _, b := range blocks {
		acc.appendRows(b)
	}
	if acc.len() > 0 {
		return p.flush(ctx, acc)
	}
	return nil
}

// flush writes buf as one row group, sorted by the dataset's sort keys.
func (p *partWriter) flush(ctx context.Context, buf *rows) error {
	snap := p.spec.reg.snapshot()
	layout := schema.NewLayout(p.spec.ds, snap.kinds)
	if p.cur != nil && (p.cur.info.fingerprint != layout.Fingerprint() || p.cur.count.n >= p.spec.maxFile) {
		if err := p.finish(); err != nil {
			return err
		}
	}
	order := sortRows(p.spec.ds, buf)
	if p.cur == nil {
		if err := p.open(ctx, layout, plainColumns(layout, buf, snap.ids, order)); err != nil {
			return err
		}
	}
	if err := p.cur.writeRowGroup(p.spec, buf, order, snap); err != nil {
		return fmt.Errorf("write %s: %w", p.cur.info.Name, err)
	}
	p.cur.info.Rows += int64(len(order))
	p.cur.info.RowGroups++
	return nil
}

func (p *partWriter) open(ctx context.Context, layout *schema.Layout, plain map[string]bool) error {
	p.seq++
	name := fmt.Sprintf("%s/part-%s-%05d.parquet", p.key.path(p.spec.ds), p.spec.runID, p.seq)
	out, err := p.spec.bucket.Create(ctx, stagingPrefix(p.spec.ds, p.spec.runID)+name)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	count := &countWriter{w: out}
	// A flattened or raw text value can be any length; its min and max
	// would be stored whole in the footer for no pruning worth having.
	noBounds := map[string]bool{}
	for _, c := range layout.Columns {
		if (c.Source == schema.FromFlattened && c.Type == schema.String) || plain[c.Name] || c.Source == schema.FromExtra || c.Name == p.spec.ds.FlattenColumn() {
			noBounds[c.Name] = true
		}
	}
	pw, err := parquetfile.NewWriter(count, layout.Schema(plain), parquetfile.Options{
		Codec:     p.spec.codec,
		PageSize:  pageSize,
		CreatedBy: "mdvm-parquet version " + p.spec.version,
		NoBounds:  noBounds,
	})
	if err != nil {
		out.Abort()
		return fmt.Errorf("create %s: %w", name, err)
	}
	p.cur = &openFile{
		info:   writtenFile{Name: name, Partition: p.key.path(p.spec.ds), fingerprint: layout.Fingerprint()},
		out:    out,
		count:  count,
		pw:     pw,
		layout: layout,
	}
	return nil
}

// finish closes the current file, if any.
func (p *partWriter) finish() error {
	f := p.cur
	if f == nil {
		return nil
	}
	p.cur = nil
	md := fileMetadata(p.spec, f.layout)
	for _, k := range slices.Sorted(maps.Keys(md)) {
		f.pw.SetKeyValue(k, md[k])
	}
	if err := f.pw.Close(); err != nil {
		f.out.Abort()
		return fmt.Errorf("write %s: %w", f.info.Name, err)
	}
	if err := f.out.Close(); err != nil {
		return fmt.Errorf("write %s: %w", f.info.Name, err)
	}
	f.info.Bytes = f.count.n
	p.files = append(p.files, f.info)
	return nil
}

// plainColumns returns the text columns written without a dictionary, as
// a sample of the first rows shows them: columns whose values are mostly
// distinct, where a dictionary costs time and saves nothing, and columns
// with long values, which a dictionary page would hold once more.
func plainColumns(layout *schema.Layout, buf *rows, ids map[string]uint32, order []int32) map[string]bool {
	const sample, long = 2048, 1024
	n := min(len(order), sample)
	type stat struct {
		seen  map[string]struct{} // keys point into buf's arena
		plain bool
	}
	stats := make([]stat, len(layout.Columns))
	add := func(ci int, v []byte) {
		st := &stats[ci]
		switch {
		case st.plain:
		case len(v) > long:
			st.plain, st.seen = true, nil
		default:
			if st.seen == nil {
				st.seen = make(map[string]struct{}, n/4+1)
			}
			st.seen[unsafe.String(unsafe.SliceData(v), len(v))] = struct{}{}
			// Past a quarter distinct, the rest of the sample cannot
			// change the answer.
			st.plain = n >= 64 && len(st.seen) > n/4
		}
	}
	var fields []int // layout columns of documented text fields
	flat := map[uint32]int{}
	for ci, c := range layout.Columns {
		switch {
		case c.Source == schema.FromField && c.Type == schema.String:
			fields = append(fields, ci)
		case c.Source == schema.FromFlattened && c.Type == schema.String:
			flat[ids[c.Name]] = ci
		}
	}
	byID := make([]int, 0, len(ids))
	for id, ci := range flat {
		for int(id) >= len(byID) {
			byID = append(byID, -1)
		}
		byID[id] = ci
	}
	for _, r := range order[:n] {
		for _, ci := range fields {
			add(ci, buf.text(buf.field(int(r), layout.Columns[ci].Field)))
		}
		m := buf.meta[r]
		for _, a := range buf.afs[m.afLo:m.afHi] {
			if int(a.col) < len(byID) && byID[a.col] >= 0 {
				add(byID[a.col], buf.text(a.text))
			}
		}
	}
	plain := map[string]bool{}
	for ci, st := range stats {
		if st.plain {
			plain[layout.Columns[ci].Name] = true
		}
	}
	return plain
}

// abort drops the current file, if any.
func (p *partWriter) abort() {
	if p.cur != nil {
		p.cur.out.Abort()
		p.cur = nil
	}
}

// fileMetadata is the key/value metadata of every file: what it holds and
// how each flattened key maps to its column.
func fileMetadata(spec *fileSpec, layout *schema.Layout) map[string]string {
	type flat struct {
		Column string   `json:"column"`
		Kind   string   `json:"kind"`
		Keys   []string `json:"keys"`
	}
	mapping := spec.reg.mapping()
	var cols []flat
	for _, c := range layout.Columns {
		if c.Source == schema.FromFlattened {
			cols = append(cols, flat{Column: c.Name, Kind: c.Kind.String(), Keys: mapping[c.Name]})
		}
	}
	m, _ := json.Marshal(cols)
	return map[string]string{
		"mdvm.dataset":       spec.ds.Name,
		"mdvm.snapshot_time": spec.snapshot.UTC().Format(time.RFC3339Nano),
		"mdvm.run_id":        spec.runID,
		"mdvm.flattened":     string(m),
	}
}

// writeRowGroup writes the rows of buf in the given order as one row group.
//
// Rows are sorted, so their bytes lie anywhere in the arena. They go a batch
// at a time, small enough for its rows to stay in the processor's cache
// while each column takes its cells from them; a column at a time over the
// whole row group would fetch every cell from memory.
func (f *openFile) writeRowGroup(spec *fileSpec, buf *rows, order []int32, snap regSnapshot) error {
	const batchRows = 256
	layout := f.layout.Columns
	flat := newFlatColumns(layout, snap)
	cols := make([]*parquetfile.ColumnWriter, len(layout))
	for ci := range layout {
		cols[ci] = f.pw.Column(ci)
	}
	us := spec.snapshot.UnixMicro()
	for lo := 0; lo < len(order); lo += batchRows {
		batch := order[lo:min(lo+batchRows, len(order))]
		for ci, c := range layout {
			cw := cols[ci]
			switch c.Source {
			case schema.FromField:
				writeField(cw, buf, batch, c.Field, c.Type)
			case schema.FromSnapshot:
				for range batch {
					cw.Int64(us)
				}
			case schema.FromExtra:
				for _, r := range batch {
					if m := &buf.meta[r]; m.extra.kind != schema.KindNull {
						cw.Bytes(buf.text(m.extra))
					} else {
						cw.Null()
					}
				}
			case schema.FromFile:
				for _, r := range batch {
					cw.Bytes(spec.inputNames[buf.meta[r].input])
				}
			case schema.FromLine:
				for _, r := range batch {
					cw.Int64(buf.meta[r].line)
				}
			case schema.FromFlattened:
			default:
				for range batch {
					cw.Null()
				}
			}
		}
		flat.write(cols, buf, batch)
	}
	if err := f.pw.EndRowGroup(); err != nil {
		return fmt.Errorf("row group: %w", err)
	}
	return nil
}

// writeField writes documented field f of the rows in order: a String's
// text, or the value the decoder stored in the column's type (see typed.go).
func writeField(cw *parquetfile.ColumnWriter, buf *rows, order []int32, f int, t schema.Type) {
	vals, arena, nf := buf.vals, buf.arena, buf.nf
	if t == schema.String {
		for _, r := range order {
			if s := vals[int(r)*nf+f]; s.kind != schema.KindNull {
				cw.Bytes(arena[s.off : s.off+s.n])
			} else {
				cw.Null()
			}
		}
		return
	}
	for _, r := range order {
		s := vals[int(r)*nf+f]
		if s.kind == schema.KindNull {
			cw.Null()
			continue
		}
		text := arena[s.off : s.off+s.n]
		switch t {
		case schema.Int32:
			cw.Int32(int32(storedInt(text)))
		case schema.Int64, schema.Timestamp:
			cw.Int64(storedInt(text))
		case schema.Double:
			cw.Double(doubleFromKey(binary.BigEndian.Uint64(text)))
		case schema.Bool:
			cw.Bool(text[0] == 1)
		case schema.StringList:
			writeList(cw, text)
		default:
			cw.Bytes(text)
		}
	}
}

// writeList writes a stored list: its elements, each after its length, or
// none for an empty list.
func writeList(cw *parquetfile.ColumnWriter, text []byte) {
	if len(text) == 0 {
		cw.EmptyList()
		return
	}
	for first := true; len(text) > 0; first = false {
		n, w := binary.Uvarint(text)
		cw.Element(text[w:w+int(n)], first)
		text = text[w+int(n):]
	}
}

// flatColumns writes the flattened values of rows to their layout columns.
type flatColumns struct {
	column []int32       // layout column by column id, or -1
	typ    []schema.Type // the type of that layout column
	cols   []int32       // the flattened layout columns
	done   []int         // by layout column: rows of the batch written
}

func newFlatColumns(layout []schema.Column, snap regSnapshot) *flatColumns {
	fc := &flatColumns{column: make([]int32, len(snap.byID)), typ: make([]schema.Type, len(snap.byID)),
		done: make([]int, len(layout))}
	for i := range fc.column {
		fc.column[i] = -1
	}
	for ci, c := range layout {
		if c.Source == schema.FromFlattened {
			id := snap.ids[c.Name]
			fc.column[id], fc.typ[id] = int32(ci), c.Kind.Type()
			fc.cols = append(fc.cols, int32(ci))
		}
	}
	return fc
}

// write writes the flattened columns of the rows in batch, row by row:
// a row's values lie together. A column a row has no value of gets a NULL;
// should a row hold two values of one column, the first is written.
func (fc *flatColumns) write(cols []*parquetfile.ColumnWriter, buf *rows, batch []int32) {
	for _, ci := range fc.cols {
		fc.done[ci] = 0
	}
	for pos, r := range batch {
		m := &buf.meta[r]
		for j := m.afLo; j < m.afHi; j++ {
			a := &buf.afs[j]
			if int(a.col) >= len(fc.column) || fc.column[a.col] < 0 {
				continue
			}
			ci := fc.column[a.col]
			if fc.done[ci] > pos {
				continue
			}
			cw := cols[ci]
			for ; fc.done[ci] < pos; fc.done[ci]++ {
				cw.Null()
			}
			fc.done[ci]++
			switch fc.typ[a.col] {
			case schema.Bool:
				cw.Bool(a.num == 1)
			case schema.Int64:
				cw.Int64(int64(a.num))
			case schema.Double:
				if a.kind == schema.KindFloat {
					cw.Double(math.Float64frombits(a.num))
				} else {
					cw.Double(float64(int64(a.num)))
				}
			default:
				cw.Bytes(buf.arena[a.text.off : a.text.off+a.text.n])
			}
		}
	}
	for _, ci := range fc.cols {
		for cw := cols[ci]; fc.done[ci] < len(batch); fc.done[ci]++ {
			cw.Null()
		}
	}
}

// sortFields returns the indexes of the dataset's sort keys among its fields.
func sortFields(ds *schema.Dataset) []int {
	var keys []int
	for _, k := range ds.SortKeys {
		for i, f := range ds.Fields {
			if f.Key == k {
				keys = append(keys, i)
			}
		}
	}
	return keys
}

// sortRows returns the order of buf's rows by the dataset's sort keys, then by
// input and line, so that equal keys keep a stable, input-defined order.
//
// The rows are first sorted by their first key's first 8 bytes, read as a
// big-endian number whose low bits are then given to the row's index: plain
// numbers, sorted with no comparison function and no look-up through the
// index. The runs of rows that tie there, a device's rows for the most part,
// are then sorted by the whole comparison, from the first key that differs
// in the run.
func sortRows(ds *schema.Dataset, buf *rows) []int32 {
	keys := sortFields(ds)
	n, nk := buf.len(), len(keys)
	order := make([]int32, n)
	if nk == 0 || n < 2 {
		for i := range order {
			order[i] = int32(i)
		}
		slices.SortFunc(order, func(a, b int32) int { return compareMeta(buf, a, b) })
		return order
	}
	// By the first key's prefix, less its low bits, which hold the index.
	shift := uint(bits.Len(uint(n - 1)))
	packed := make([]uint64, n)
	for i := range packed {
		packed[i] = keyPrefix(buf.text(buf.field(i, keys[0])))>>shift<<shift | uint64(i)
	}
	slices.Sort(packed)
	for i, p := range packed {
		order[i] = int32(p & (1<<shift - 1))
	}

	// Then each run of equal numbers by the whole comparison.
	from := 0
	compare := func(a, b int32) int {
		for _, f := range keys[from:] {
			if c := bytes.Compare(buf.text(buf.field(int(a), f)), buf.text(buf.field(int(b), f))); c != 0 {
				return c
			}
		}
		return compareMeta(buf, a, b)
	}
	for lo := 0; lo < n; {
		hi := lo + 1
		for hi < n && packed[hi]>>shift == packed[lo]>>shift {
			hi++
		}
		if hi-lo > 1 {
			run := order[lo:hi]
			from = sameKeys(buf, keys, run)
			slices.SortFunc(run, compare)
		}
		lo = hi
	}
	return order
}

// sameKeys returns how many leading keys the rows of run all hold alike.
func sameKeys(buf *rows, keys []int, run []int32) int {
	first := int(run[0])
	for j, f := range keys {
		v := buf.text(buf.field(first, f))
		for _, r := range run[1:] {
			if !bytes.Equal(buf.text(buf.field(int(r), f)), v) {
				return j
			}
		}
	}
	return len(keys)
}

// compareMeta orders rows of equal keys by input, then line.
func compareMeta(buf *rows, a, b int32) int {
	ma, mb := &buf.meta[a], &buf.meta[b]
	if ma.input != mb.input {
		return int(ma.input - mb.input)
	}
	return int(ma.line - mb.line)
}

// keyPrefix is b's first 8 bytes as a big-endian number, zeros past its end:
// when two prefixes differ, the texts compare as they do.
func keyPrefix(b []byte) uint64 {
	if len(b) >= 8 {
		return binary.BigEndian.Uint64(b)
	}
	var p [8]byte
	copy(p[:], b)
	return binary.BigEndian.Uint64(p[:])
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w sink.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
