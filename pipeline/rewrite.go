package pipeline

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/parquet-go/parquet-go"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

// rewriteStale rewrites the partitions holding a file written before the
// run's schema reached its final shape (a flattened key first seen, or
// widened, or renamed, after it was written), so that every file of a
// snapshot has the same schema. All of such a partition's files are written
// again together, so that it still ends with a few large files rather than
// one per schema. Rows are rebuilt from the files themselves: the documented
// fields and lineage as stored, the flattened columns from the raw text they
// keep. It returns how many files it rewrote.
func rewriteStale(ctx context.Context, spec *fileSpec, parts []*partState) (int, error) {
	final := schema.NewLayout(spec.ds, spec.reg.snapshot().kinds)
	n := 0
	for _, p := range parts {
		stale := false
		for _, f := range p.writer.files {
			stale = stale || f.fingerprint != final.Fingerprint()
		}
		if !stale {
			continue
		}
		n += len(p.writer.files)
		if err := rewritePartition(ctx, spec, p); err != nil {
			return n, fmt.Errorf("rewrite %s: %w", p.key.path(spec.ds), err)
		}
	}
	return n, nil
}

// rewritePartition writes p's files again with the final schema and
// replaces them.
func rewritePartition(ctx context.Context, spec *fileSpec, p *partState) error {
	w := &partWriter{spec: spec, key: p.key, seq: p.writer.seq}
	for _, f := range p.writer.files {
		if err := copyRows(ctx, spec, p.key, f, w); err != nil {
			w.abort()
			return err
		}
	}
	if err := w.finish(); err != nil {
		return err
	}
	for _, f := range p.writer.files {
		if err := spec.bucket.Delete(ctx, stagingPrefix(spec.ds, spec.runID)+f.Name); err != nil {
			return err
		}
	}
	p.writer.files, p.writer.seq = w.files, w.seq
	return nil
}

// copyRows writes the rows of the staged file f through w, a row group at a
// time.
func copyRows(ctx context.Context, spec *fileSpec, key partKey, f writtenFile, w *partWriter) error {
	tmp, err := spool(ctx, spec, stagingPrefix(spec.ds, spec.runID)+f.Name)
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	info, err := tmp.Stat()
	if err != nil {
		return err
	}
	pf, err := parquet.OpenFile(tmp, info.Size())
	if err != nil {
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	rb := newRowRebuilder(spec, pf.Schema())
	for _, rg := range pf.RowGroups() {
		buf, err := rb.rebuild(rg, key)
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		if err := w.flush(ctx, buf); err != nil {
			return err
		}
	}
	return nil
}

// spool copies a staged object to a local temporary file, which Parquet
// needs to read at random.
func spool(ctx context.Context, spec *fileSpec, name string) (*os.File, error) {
	r, err := spec.bucket.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	tmp, err := os.CreateTemp("", "mdvm-rewrite-*.parquet")
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	return tmp, nil
}

// rowRebuilder turns the rows of a file of this run back into rows.
type rowRebuilder struct {
	spec   *fileSpec
	dec    *decoder
	field  map[int]int // leaf column → dataset field
	extra  int
	file   int
	line   int
	inputs map[string]int
}

func newRowRebuilder(spec *fileSpec, s *parquet.Schema) *rowRebuilder {
	rb := &rowRebuilder{spec: spec, dec: newDecoder(spec.ds, spec.reg, nil), field: map[int]int{},
		extra: -1, file: -1, line: -1, inputs: map[string]int{}}
	for i, in := range spec.inputs {
		rb.inputs[in.Name] = i
	}
	for leaf, path := range s.Columns() {
		name := path[0]
		switch name {
		case schema.ExtraColumn:
			rb.extra = leaf
		case schema.SourceFileColumn:
			rb.file = leaf
		case schema.SourceLineColumn:
			rb.line = leaf
		}
		for fi, f := range spec.ds.Fields {
			if f.Column == name {
				rb.field[leaf] = fi
			}
		}
	}
	return rb
}

func (rb *rowRebuilder) rebuild(rg parquet.RowGroup, key partKey) (*rows, error) {
	nf := len(rb.spec.ds.Fields)
	buf := newRows(nf)
	rr := rg.Rows()
	defer rr.Close()
	batch := make([]parquet.Row, 256)
	for {
		n, err := rr.ReadRows(batch)
		for _, row := range batch[:n] {
			rb.addRow(buf, row, key)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// addField stores one value of a field's column in s, in the form the
// decoder stores it. A list's values come one after another: the first
// (repetition level 0) starts the list, at definition level 1 an empty one;
// each element extends it.
func (rb *rowRebuilder) addField(buf *rows, s *span, v parquet.Value, t schema.Type) {
	if t != schema.StringList {
		if !v.IsNull() {
			k := schema.KindString
			if t != schema.String {
				k = typedKind(t)
			}
			*s = span{off: uint32(len(buf.arena)), kind: k}
			buf.arena = storeParquet(buf.arena, v, t)
			s.n = uint32(len(buf.arena)) - s.off
		}
		return
	}
	if v.RepetitionLevel() == 0 {
		if v.DefinitionLevel() == 0 {
			return
		}
		*s = span{off: uint32(len(buf.arena)), kind: typedKind(t)}
	}
	if v.DefinitionLevel() == 2 {
		buf.arena = storeParquet(buf.arena, v, t)
		s.n = uint32(len(buf.arena)) - s.off
	}
}

func (rb *rowRebuilder) addRow(buf *rows, row parquet.Row, key partKey) {
	m := rowMeta{lo: uint32(len(buf.arena)), afLo: uint32(len(buf.afs)), group: key.group, hasGroup: key.hasGroup}
	base := len(buf.vals)
	for range rb.spec.ds.Fields {
		buf.vals = append(buf.vals, span{})
	}
	for _, v := range row {
		leaf := v.Column()
		if fi, ok := rb.field[leaf]; ok {
			rb.addField(buf, &buf.vals[base+fi], v, rb.spec.ds.Fields[fi].Type)
			continue
		}
		if v.IsNull() {
			continue
		}
		switch leaf {
		case rb.extra:
			m.extra = buf.put(v.ByteArray(), schema.KindJSON)
		case rb.file:
			m.input = int32(rb.inputs[string(v.ByteArray())])
		case rb.line:
			m.line = v.Int64()
		}
	}
	if rb.dec.flat >= 0 {
		if raw := buf.vals[base+rb.dec.flat]; raw.kind != schema.KindNull {
			if doc, err := rb.dec.fl.parser.ParseBytes(buf.text(raw)); err == nil {
				rb.dec.fl.flatten(buf, doc)
			}
		}
	}
	m.hi, m.afHi = uint32(len(buf.arena)), uint32(len(buf.afs))
	buf.meta = append(buf.meta, m)
}
