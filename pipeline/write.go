package pipeline

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"
	"unsafe"

	"github.com/parquet-go/parquet-go"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
	"github.com/mdvm-parquet/mdvm-parquet/sink"
)

// writeBatchRows is how many rows go to a column writer at a time, so that
// pages are cut near the page size rather than after a whole row group.
const writeBatchRows = 1024

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
	options  []parquet.WriterOption // compression, page version, buffers
	maxFile  int64                  // bytes after which a partition's file is finished
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
	pw     *parquet.Writer
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
	opts := append(slices.Clip(p.spec.options), layout.Schema(plain), parquet.CreatedBy("mdvm-parquet", p.spec.version, ""))
	// A flattened or raw text value can be any length; its min and max would
	// be stored whole in page headers and the footer, several times over, for
	// no pruning worth having (and page headers over 4 MiB are refused by
	// some readers).
	for _, c := range layout.Columns {
		if (c.Source == schema.FromFlattened && c.Type == schema.String) || plain[c.Name] || c.Source == schema.FromExtra || c.Name == p.spec.ds.FlattenColumn() {
			opts = append(opts, parquet.SkipPageBounds(c.Name), parquet.SkipPageStatistics(c.Name))
		}
	}
	pw := parquet.NewWriter(count, opts...)
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
	for k, v := range fileMetadata(p.spec, f.layout) {
		f.pw.SetKeyValueMetadata(k, v)
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
// Each row group gets a writer of its own, dropped once committed: the
// buffers of a file's writer would otherwise stay allocated between row
// groups, for every partition open at once.
func (f *openFile) writeRowGroup(spec *fileSpec, buf *rows, order []int32, snap regSnapshot) error {
	rg := f.pw.BeginRowGroup()
	cols := rg.ColumnWriters()
	layout := f.layout.Columns
	fills := columnFills(spec, layout)
	flat := newFlatColumns(layout, snap)

	// Rows go a batch at a time, a column at a time, then each column's
	// batch to its writer. Only spans and offsets are read here: the text
	// itself is read once, by the column writers.
	values := make([][]parquet.Value, len(layout))
	for lo := 0; lo < len(order); lo += writeBatchRows {
		batch := order[lo:min(lo+writeBatchRows, len(order))]
		for ci, fill := range fills {
			values[ci] = fill(values[ci][:0], buf, batch)
		}
		flat.fill(values, buf, batch)
		for ci, c := range layout {
			if _, err := cols[ci].WriteRowValues(values[ci]); err != nil {
				return fmt.Errorf("column %s: %w", c.Name, err)
			}
		}
	}
	_, err := rg.Commit()
	return err
}

// columnFill appends the values of one column for the rows of buf in batch.
type columnFill func(dst []parquet.Value, buf *rows, batch []int32) []parquet.Value

// columnFills returns how each layout column is filled, chosen once per row
// group rather than per cell. Flattened columns start NULL; flatColumns.fill
// sets the values rows have.
func columnFills(spec *fileSpec, layout []schema.Column) []columnFill {
	fills := make([]columnFill, len(layout))
	for ci, c := range layout {
		switch c.Source {
		case schema.FromField:
			fills[ci] = fieldFill(ci, c.Field, c.Type)
		case schema.FromSnapshot:
			fills[ci] = constFill(present(parquet.Int64Value(spec.snapshot.UnixMicro()), ci))
		case schema.FromExtra:
			fills[ci] = metaFill(ci, func(buf *rows, m *rowMeta) parquet.Value {
				if m.extra.kind == schema.KindNull {
					return parquet.Value{}
				}
				return parquet.ByteArrayValue(buf.text(m.extra))
			})
		case schema.FromFile:
			names := make([][]byte, len(spec.inputs))
			for i, in := range spec.inputs {
				names[i] = []byte(in.Name)
			}
			fills[ci] = metaFill(ci, func(_ *rows, m *rowMeta) parquet.Value {
				return parquet.ByteArrayValue(names[m.input])
			})
		case schema.FromLine:
			fills[ci] = metaFill(ci, func(_ *rows, m *rowMeta) parquet.Value {
				return parquet.Int64Value(m.line)
			})
		default:
			fills[ci] = constFill(null(ci))
		}
	}
	return fills
}

// present returns v at definition level 1 in column ci. The setters inline
// where Value.Level, which checks its arguments, does not; loops over cells
// call them directly, as this function is too large to inline.
func present(v parquet.Value, ci int) parquet.Value {
	v.SetDefinitionLevel(1)
	v.SetColumnIndex(ci)
	return v
}

// null returns the NULL of column ci.
func null(ci int) parquet.Value {
	var v parquet.Value
	v.SetColumnIndex(ci)
	return v
}

// grow returns dst resized to n values, its contents undefined.
func grow(dst []parquet.Value, n int) []parquet.Value {
	return slices.Grow(dst[:0], n)[:n]
}

func fieldFill(ci, f int, t schema.Type) columnFill {
	nul := null(ci)
	switch t {
	case schema.StringList:
		return func(dst []parquet.Value, buf *rows, batch []int32) []parquet.Value {
			for _, r := range batch {
				dst = appendList(dst, buf, buf.field(int(r), f), ci)
			}
			return dst
		}
	case schema.String:
		return func(dst []parquet.Value, buf *rows, batch []int32) []parquet.Value {
			dst = grow(dst, len(batch))
			vals, arena, nf := buf.vals, buf.arena, buf.nf
			for i, r := range batch {
				s := vals[int(r)*nf+f]
				if s.kind == schema.KindNull {
					dst[i] = nul
					continue
				}
				v := parquet.ByteArrayValue(arena[s.off : s.off+s.n])
				v.SetDefinitionLevel(1)
				v.SetColumnIndex(ci)
				dst[i] = v
			}
			return dst
		}
	}
	return func(dst []parquet.Value, buf *rows, batch []int32) []parquet.Value {
		dst = grow(dst, len(batch))
		for i, r := range batch {
			s := buf.field(int(r), f)
			if s.kind == schema.KindNull {
				dst[i] = nul
				continue
			}
			v := typedValue(buf.text(s), t)
			v.SetDefinitionLevel(1)
			v.SetColumnIndex(ci)
			dst[i] = v
		}
		return dst
	}
}

// metaFill fills column ci from what rows carry besides their fields; val
// returns a NULL value for none.
func metaFill(ci int, val func(*rows, *rowMeta) parquet.Value) columnFill {
	return func(dst []parquet.Value, buf *rows, batch []int32) []parquet.Value {
		dst = grow(dst, len(batch))
		for i, r := range batch {
			v := val(buf, &buf.meta[r])
			if !v.IsNull() {
				v.SetDefinitionLevel(1)
			}
			v.SetColumnIndex(ci)
			dst[i] = v
		}
		return dst
	}
}

func constFill(v parquet.Value) columnFill {
	return func(dst []parquet.Value, _ *rows, batch []int32) []parquet.Value {
		dst = grow(dst, len(batch))
		for i := range dst {
			dst[i] = v
		}
		return dst
	}
}

// flatColumns maps flattened values to their layout columns.
type flatColumns struct {
	column []int32       // layout column by column id, or -1
	typ    []schema.Type // the type of that layout column
}

func newFlatColumns(layout []schema.Column, snap regSnapshot) flatColumns {
	fc := flatColumns{column: make([]int32, len(snap.byID)), typ: make([]schema.Type, len(snap.byID))}
	for i := range fc.column {
		fc.column[i] = -1
	}
	for ci, c := range layout {
		if c.Source == schema.FromFlattened {
			id := snap.ids[c.Name]
			fc.column[id], fc.typ[id] = int32(ci), c.Kind.Type()
		}
	}
	return fc
}

// fill sets the flattened values of the rows in batch, their columns
// already filled with NULLs.
func (fc flatColumns) fill(values [][]parquet.Value, buf *rows, batch []int32) {
	for i, r := range batch {
		m := &buf.meta[r]
		afs := buf.afs[m.afLo:m.afHi]
		for j := range afs {
			a := &afs[j]
			if int(a.col) >= len(fc.column) || fc.column[a.col] < 0 {
				continue
			}
			ci := int(fc.column[a.col])
			var v parquet.Value
			if t := fc.typ[a.col]; t == schema.String {
				v = parquet.ByteArrayValue(buf.arena[a.text.off : a.text.off+a.text.n])
			} else {
				v = flatValue(buf, a, t)
			}
			v.SetDefinitionLevel(1)
			v.SetColumnIndex(ci)
			values[ci][i] = v
		}
	}
}

// fieldValue returns a documented field's Parquet value: a String's text,
// or the value the decoder converted to the column's type (see typed.go).
// Lists take appendList.
func fieldValue(buf *rows, s span, t schema.Type) parquet.Value {
	if s.kind == schema.KindNull {
		return parquet.Value{}
	}
	if t == schema.String {
		return parquet.ByteArrayValue(buf.text(s))
	}
	return typedValue(buf.text(s), t)
}

// flatValue converts a flattened value to t, its column's type.
func flatValue(buf *rows, a *afVal, t schema.Type) parquet.Value {
	switch t {
	case schema.Bool:
		return parquet.BooleanValue(a.num == 1)
	case schema.Int64:
		return parquet.Int64Value(int64(a.num))
	case schema.Double:
		if a.kind == schema.KindFloat {
			return parquet.DoubleValue(math.Float64frombits(a.num))
		}
		return parquet.DoubleValue(float64(int64(a.num)))
	}
	return parquet.ByteArrayValue(buf.text(a.text))
}

// sortRows returns the order of buf's rows by the dataset's sort keys, then by
// input and line, so that equal keys keep a stable, input-defined order.
//
// Keys compare by their first 8 bytes, read once per row as a big-endian
// number, and in full only when those are equal.
func sortRows(ds *schema.Dataset, buf *rows) []int32 {
	var keys []int
	for _, k := range ds.SortKeys {
		for i, f := range ds.Fields {
			if f.Key == k {
				keys = append(keys, i)
			}
		}
	}
	n, nk := buf.len(), len(keys)
	prefix := make([]uint64, n*nk)
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
		for j, f := range keys {
			prefix[i*nk+j] = keyPrefix(buf.text(buf.field(i, f)))
		}
	}
	slices.SortFunc(order, func(a, b int32) int {
		pa, pb := prefix[int(a)*nk:int(a)*nk+nk], prefix[int(b)*nk:int(b)*nk+nk]
		for j, f := range keys {
			if pa[j] != pb[j] {
				if pa[j] < pb[j] {
					return -1
				}
				return 1
			}
			if c := bytes.Compare(buf.text(buf.field(int(a), f)), buf.text(buf.field(int(b), f))); c != 0 {
				return c
			}
		}
		ma, mb := &buf.meta[a], &buf.meta[b]
		if ma.input != mb.input {
			return int(ma.input - mb.input)
		}
		return int(ma.line - mb.line)
	})
	return order
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
