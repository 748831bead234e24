// Package parquetfile writes Parquet files a row group at a time, encoding
// each page straight from the cells it is handed, with no value object per
// cell: a row group's pages are held, compressed, until it ends.
//
// It writes what the pipeline's files hold and no more: optional flat leaves
// of any primitive type and lists of required elements, data pages v1, PLAIN
// or RLE_DICTIONARY values, RLE levels, statistics in each column chunk, and
// any parquet-go compression codec. The file's schema elements are those
// parquet-go itself writes for the same schema, so that files read alike
// whichever of the two wrote them.
package parquetfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// Options configure a Writer.
type Options struct {
	// Codec compresses every page. Defaults to no compression.
	Codec compress.Codec
	// PageSize is the size of a page's values, before compression, past
	// which the next row starts a new page. Defaults to 256 KiB.
	PageSize int
	// CreatedBy names the writer in the footer, as "name version (build x)".
	CreatedBy string
	// NoBounds names the columns whose statistics carry no minimum and
	// maximum: long text, where they would cost footer space and prune
	// nothing.
	NoBounds map[string]bool
}

// Writer writes one Parquet file. Column(i) returns the writer of leaf i of
// the row group being written, which takes that column's cells in row
// order; cells of different columns may come in any order. EndRowGroup
// writes the row group's chunks, Close the footer. A Writer is used by one
// goroutine at a time.
type Writer struct {
	out    io.Writer
	off    int64 // bytes written to out
	opt    Options
	leaves []leaf
	schema []format.SchemaElement
	orders []format.ColumnOrder
	kv     []format.KeyValue
	groups []format.RowGroup
	cols   []*ColumnWriter // of the row group being written, by leaf; nil until used
	err    error           // the first error, which every later call returns
	closed bool
}

// leaf is what the writer knows of one column.
type leaf struct {
	path     []string
	kind     parquet.Kind
	dict     bool
	bounds   bool
	maxDef   uint8
	maxRep   uint8
	physical format.Type
}

// ErrUnequalRows is returned when the columns of a row group were given
// different numbers of rows: a programming error of the caller.
var ErrUnequalRows = errors.New("parquet columns of unequal rows")

// NewWriter returns a writer of a file of schema s to out, and writes the
// file's magic bytes. Every leaf of s must be a primitive, optional or
// required, or the required element of a list; strings encoded with
// RLE_DICTIONARY get a dictionary, every other leaf PLAIN values.
func NewWriter(out io.Writer, s *parquet.Schema, opt Options) (*Writer, error) {
	if opt.Codec == nil {
		opt.Codec = &parquet.Uncompressed
	}
	if opt.PageSize <= 0 {
		opt.PageSize = 256 << 10
	}
	elems, orders, err := schemaElements(s)
	if err != nil {
		return nil, err
	}
	w := &Writer{out: out, opt: opt, schema: elems, orders: orders, cols: make([]*ColumnWriter, len(s.Columns()))}
	for _, path := range s.Columns() {
		lc, _ := s.Lookup(path...)
		t := lc.Node.Type()
		if lc.MaxRepetitionLevel > 1 || lc.MaxDefinitionLevel > 3 {
			return nil, fmt.Errorf("column %v: nesting deeper than a list is not supported", path)
		}
		enc := lc.Node.Encoding()
		w.leaves = append(w.leaves, leaf{
			path:     path,
			kind:     t.Kind(),
			dict:     t.Kind() == parquet.ByteArray && enc != nil && enc.Encoding() == format.RLEDictionary,
			bounds:   !opt.NoBounds[path[0]],
			maxDef:   uint8(lc.MaxDefinitionLevel),
			maxRep:   uint8(lc.MaxRepetitionLevel),
			physical: format.Type(t.Kind()),
		})
	}
	if err := w.write([]byte("PAR1")); err != nil {
		return nil, err
	}
	return w, nil
}

// schemaElements returns the schema elements and column orders parquet-go
// writes for s, read from the footer of an empty file it writes.
func schemaElements(s *parquet.Schema) ([]format.SchemaElement, []format.ColumnOrder, error) {
	var buf bytes.Buffer
	pw := parquet.NewWriter(&buf, s)
	if err := pw.Close(); err != nil {
		return nil, nil, fmt.Errorf("parquet schema: %w", err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		return nil, nil, fmt.Errorf("parquet schema: %w", err)
	}
	md := f.Metadata()
	return md.Schema, md.ColumnOrders, nil
}

// SetKeyValue sets a key/value pair of the footer's metadata.
func (w *Writer) SetKeyValue(key, value string) {
	for i := range w.kv {
		if w.kv[i].Key == key {
			w.kv[i].Value = value
			return
		}
	}
	w.kv = append(w.kv, format.KeyValue{Key: key, Value: value})
}

// Column returns the writer of column i of the row group being written.
func (w *Writer) Column(i int) *ColumnWriter {
	if c := w.cols[i]; c != nil {
		return c
	}
	c := getColumn()
	c.w, c.leaf, c.pageSize = w, &w.leaves[i], w.opt.PageSize
	w.cols[i] = c
	return c
}

// EndRowGroup writes the row group's column chunks, in schema order. A
// column given no cells is written as that many NULLs.
func (w *Writer) EndRowGroup() error {
	defer w.release()
	if w.err != nil {
		return w.err
	}
	rows := int64(-1)
	for _, c := range w.cols {
		if c != nil {
			rows = max(rows, c.rows)
		}
	}
	if rows < 0 {
		return nil // no cells: no row group
	}
	rg := format.RowGroup{NumRows: rows, FileOffset: w.off, Ordinal: int16(len(w.groups))}
	for i := range w.cols {
		c := w.Column(i)
		if c.rows == 0 {
			for range rows {
				c.Null()
			}
		}
		if c.rows != rows {
			return w.fail(ErrUnequalRows)
		}
		chunk, err := c.finish()
		if err != nil {
			return err
		}
		rg.Columns = append(rg.Columns, chunk)
		rg.TotalByteSize += chunk.MetaData.TotalUncompressedSize
	}
	rg.TotalCompressedSize = w.off - rg.FileOffset
	w.groups = append(w.groups, rg)
	return nil
}

// release returns the row group's column writers for reuse.
func (w *Writer) release() {
	for i, c := range w.cols {
		if c != nil {
			putColumn(c)
			w.cols[i] = nil
		}
	}
}

// RowGroups is how many row groups have been written.
func (w *Writer) RowGroups() int { return len(w.groups) }

// Close writes the footer. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return nil
	}
	for _, c := range w.cols {
		if c != nil {
			w.release()
			return w.fail(errors.New("parquet file closed inside a row group"))
		}
	}
	w.closed = true
	md := format.FileMetaData{
		Version:          2,
		Schema:           w.schema,
		RowGroups:        w.groups,
		KeyValueMetadata: w.kv,
		CreatedBy:        w.opt.CreatedBy,
		ColumnOrders:     w.orders,
	}
	for _, g := range w.groups {
		md.NumRows += g.NumRows
	}
	footer, err := thrift.Marshal(new(thrift.CompactProtocol), &md)
	if err != nil {
		return w.fail(fmt.Errorf("parquet footer: %w", err))
	}
	footer = binary.LittleEndian.AppendUint32(footer, uint32(len(footer)))
	footer = append(footer, "PAR1"...)
	return w.write(footer)
}

func (w *Writer) write(b []byte) error {
	if w.err != nil {
		return w.err
	}
	n, err := w.out.Write(b)
	w.off += int64(n)
	if err != nil {
		return w.fail(err)
	}
	return nil
}

func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}
