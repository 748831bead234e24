package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

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

// flushPending writes what a partition has set aside on disk and then buf,
// as row groups of about limit bytes, using acc to gather rows.
func (p *partWriter) flushPending(ctx context.Context, sp *spillFile, buf *rows, limit int64, acc *rows) error {
	acc.reset()
	if sp != nil {
		err := sp.segments(acc.nf, func(seg *rows) error {
			acc.appendRows(seg)
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
	if buf != nil && buf.len() > 0 {
		if acc.len() == 0 {
			return p.flush(ctx, buf)
		}
		acc.appendRows(buf)
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
		seen    map[string]struct{}
		longest int
	}
	stats := map[string]*stat{}
	add := func(col string, v []byte) {
		st := stats[col]
		if st == nil {
			st = &stat{seen: make(map[string]struct{}, n)}
			stats[col] = st
		}
		st.longest = max(st.longest, len(v))
		if len(v) <= long {
			st.seen[string(v)] = struct{}{}
		}
	}
	names := map[uint32]string{}
	for _, c := range layout.Columns {
		if c.Source == schema.FromFlattened && c.Type == schema.String {
			names[ids[c.Name]] = c.Name
		}
	}
	for _, r := range order[:n] {
		for _, c := range layout.Columns {
			if c.Source == schema.FromField && c.Type == schema.String {
				add(c.Name, buf.text(buf.field(int(r), c.Field)))
			}
		}
		m := buf.meta[r]
		for _, a := range buf.afs[m.afLo:m.afHi] {
			if name, ok := names[a.col]; ok {
				add(name, buf.text(a.text))
			}
		}
	}
	plain := map[string]bool{}
	for col, st := range stats {
		if st.longest > long || (n >= 64 && len(st.seen) > n/4) {
			plain[col] = true
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

	// The layout column of each flattened column id, or -1.
	afColumn := make([]int, len(snap.byID))
	for i := range afColumn {
		afColumn[i] = -1
	}
	for ci, c := range layout {
		if c.Source == schema.FromFlattened {
			afColumn[snap.ids[c.Name]] = ci
		}
	}
	names := make([][]byte, len(spec.inputs))
	for i, in := range spec.inputs {
		names[i] = []byte(in.Name)
	}
	snapshot := parquet.Int64Value(spec.snapshot.UnixMicro())

	// Rows go a batch at a time, each row's columns filled together while
	// its bytes are in cache, then each column's batch to its writer.
	values := make([][]parquet.Value, len(layout))
	for lo := 0; lo < len(order); lo += writeBatchRows {
		for ci := range values {
			values[ci] = values[ci][:0]
		}
		for _, r32 := range order[lo:min(lo+writeBatchRows, len(order))] {
			r := int(r32)
			m := &buf.meta[r]
			for ci, c := range layout {
				var v parquet.Value
				switch c.Source {
				case schema.FromField:
					if c.Type == schema.StringList {
						values[ci] = appendList(values[ci], buf, buf.field(r, c.Field), ci)
						continue
					}
					v = fieldValue(buf, buf.field(r, c.Field), c.Type)
				case schema.FromSnapshot:
					v = snapshot
				case schema.FromExtra:
					if m.extra.kind != schema.KindNull {
						v = parquet.ByteArrayValue(buf.text(m.extra))
					}
				case schema.FromFile:
					v = parquet.ByteArrayValue(names[m.input])
				case schema.FromLine:
					v = parquet.Int64Value(m.line)
				}
				// Flattened columns start NULL; the row's values fill them below.
				// The setters inline where Value.Level, which checks its
				// arguments, does not: this runs for every cell.
				if !v.IsNull() {
					v.SetDefinitionLevel(1)
				}
				v.SetColumnIndex(ci)
				values[ci] = append(values[ci], v)
			}
			for _, a := range buf.afs[m.afLo:m.afHi] {
				if int(a.col) < len(afColumn) && afColumn[a.col] >= 0 {
					ci := afColumn[a.col]
					v := flatValue(buf, a, layout[ci].Kind)
					v.SetDefinitionLevel(1)
					v.SetColumnIndex(ci)
					values[ci][len(values[ci])-1] = v
				}
			}
		}
		for ci, c := range layout {
			if _, err := cols[ci].WriteRowValues(values[ci]); err != nil {
				return fmt.Errorf("column %s: %w", c.Name, err)
			}
		}
	}
	_, err := rg.Commit()
	return err
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

// flatValue converts a flattened value to the type of its column's kind.
func flatValue(buf *rows, a afVal, col schema.Kind) parquet.Value {
	switch col.Type() {
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
func sortRows(ds *schema.Dataset, buf *rows) []int32 {
	var keys []int
	for _, k := range ds.SortKeys {
		for i, f := range ds.Fields {
			if f.Key == k {
				keys = append(keys, i)
			}
		}
	}
	order := make([]int32, buf.len())
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		for _, f := range keys {
			if c := bytes.Compare(buf.text(buf.field(int(a), f)), buf.text(buf.field(int(b), f))); c != 0 {
				return c
			}
		}
		ma, mb := buf.meta[a], buf.meta[b]
		if ma.input != mb.input {
			return int(ma.input - mb.input)
		}
		return int(ma.line - mb.line)
	})
	return order
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
