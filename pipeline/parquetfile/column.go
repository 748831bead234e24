package parquetfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// maxPageLevels cuts a page of mostly NULLs, whose values take no room.
const maxPageLevels = 1 << 17

// ColumnWriter takes the cells of one column of one row group, in row
// order, and encodes them into pages as they come. A cell method must
// match the column's type: Bytes for BYTE_ARRAY, Int32, Int64 (timestamps
// too), Double, Bool; lists take Null, EmptyList and Element.
type ColumnWriter struct {
	w        *Writer
	leaf     *leaf
	pageSize int // the Writer's, read for every cell

	// The page being filled.
	defs  []uint8
	reps  []uint8
	vals  []byte  // PLAIN values
	bits  []byte  // booleans, one a byte until the page is cut
	idx   []int32 // dictionary indexes
	nulls int     // levels below the leaf's maximum

	// The dictionary of the chunk, its entries PLAIN-encoded in dictVals.
	dict      map[string]int32
	dictVals  []byte
	dictCount int32
	lastIdx   int32 // the index dictIndex returned last, or -1
	lastVal   []byte

	// The chunk's data pages so far, compressed, after their headers, and
	// its dictionary page, made last but written first.
	pages      []byte
	dictPage   []byte
	rows       int64
	values     int64 // levels: one a row, or one an element of a list
	chunkNulls int64
	pageCount  int32
	uncompSize int64
	compSize   int64
	minI, maxI int64
	minF, maxF float64
	minB, maxB []byte
	hasBounds  bool
	scratch    []byte
	levelsBuf  []byte
	header     bytes.Buffer
}

// columnPool recycles column writers between row groups: their buffers
// grow to a chunk's size, and many files are open at once, each writing a
// row group now and then.
var columnPool = make(chan *ColumnWriter, 256)

func getColumn() *ColumnWriter {
	select {
	case c := <-columnPool:
		return c
	default:
		c := &ColumnWriter{dict: map[string]int32{}}
		c.reset()
		return c
	}
}

func putColumn(c *ColumnWriter) {
	// A map keeps the room it grew to, even cleared.
	bigDict := c.dictCount > 1<<16
	c.w, c.leaf = nil, nil
	c.reset()
	if bigDict || cap(c.pages) > 8<<20 || cap(c.vals) > 4<<20 || cap(c.dictVals) > 4<<20 {
		return
	}
	select {
	case columnPool <- c:
	default:
	}
}

func (c *ColumnWriter) reset() {
	c.defs, c.reps, c.vals, c.bits, c.idx = c.defs[:0], c.reps[:0], c.vals[:0], c.bits[:0], c.idx[:0]
	c.nulls = 0
	clear(c.dict)
	c.dictVals, c.dictCount, c.lastIdx = c.dictVals[:0], 0, -1
	c.pages = c.pages[:0]
	c.rows, c.values, c.chunkNulls, c.pageCount = 0, 0, 0, 0
	c.uncompSize, c.compSize = 0, 0
	c.minB, c.maxB, c.hasBounds = c.minB[:0], c.maxB[:0], false
}

// row starts a row: the page is cut first if it is full.
func (c *ColumnWriter) row() {
	if len(c.defs) > 0 && (len(c.vals)+4*len(c.idx)+len(c.bits)/8 >= c.pageSize || len(c.defs) >= maxPageLevels) {
		c.cutPage()
	}
	c.rows++
}

// Null writes a NULL: of the column's value, or of a row's whole list.
func (c *ColumnWriter) Null() {
	c.row()
	c.defs = append(c.defs, 0)
	if c.leaf.maxRep > 0 {
		c.reps = append(c.reps, 0)
	}
	c.nulls++
}

// EmptyList writes a row whose list is empty.
func (c *ColumnWriter) EmptyList() {
	c.row()
	c.defs = append(c.defs, c.leaf.maxDef-1)
	c.reps = append(c.reps, 0)
	c.nulls++
}

// Element writes an element of a list: first starts the row's list.
func (c *ColumnWriter) Element(b []byte, first bool) {
	if first {
		c.row()
		c.reps = append(c.reps, 0)
	} else {
		c.reps = append(c.reps, 1)
	}
	c.defs = append(c.defs, c.leaf.maxDef)
	c.byteArray(b)
}

// Bytes writes a BYTE_ARRAY value.
func (c *ColumnWriter) Bytes(b []byte) {
	c.row()
	c.defs = append(c.defs, c.leaf.maxDef)
	c.byteArray(b)
}

func (c *ColumnWriter) byteArray(b []byte) {
	if c.leaf.dict {
		c.idx = append(c.idx, c.dictIndex(b))
		return
	}
	c.vals = binary.LittleEndian.AppendUint32(c.vals, uint32(len(b)))
	c.vals = append(c.vals, b...)
	if c.leaf.bounds {
		c.byteBounds(b)
	}
}

// byteBounds widens the chunk's bounds to take b.
func (c *ColumnWriter) byteBounds(b []byte) {
	switch {
	case !c.hasBounds:
		c.minB, c.maxB, c.hasBounds = append(c.minB[:0], b...), append(c.maxB[:0], b...), true
	case bytes.Compare(b, c.minB) < 0:
		c.minB = append(c.minB[:0], b...)
	case bytes.Compare(b, c.maxB) > 0:
		c.maxB = append(c.maxB[:0], b...)
	}
}

// dictIndex returns b's index in the chunk's dictionary, adding it if new.
// Rows come sorted by device, and a device's rows share many values: half
// the lookups find the value looked up last.
func (c *ColumnWriter) dictIndex(b []byte) int32 {
	if c.lastIdx >= 0 && string(b) == string(c.lastVal) {
		return c.lastIdx
	}
	i, ok := c.dict[string(b)]
	if !ok {
		i = c.dictCount
		c.dictCount++
		c.dict[string(b)] = i
		c.dictVals = binary.LittleEndian.AppendUint32(c.dictVals, uint32(len(b)))
		c.dictVals = append(c.dictVals, b...)
	}
	c.lastIdx, c.lastVal = i, append(c.lastVal[:0], b...)
	return i
}

// Int32 writes an INT32 value.
func (c *ColumnWriter) Int32(v int32) {
	c.row()
	c.defs = append(c.defs, c.leaf.maxDef)
	c.vals = binary.LittleEndian.AppendUint32(c.vals, uint32(v))
	c.intBounds(int64(v))
}

// Int64 writes an INT64 value, a timestamp's too.
func (c *ColumnWriter) Int64(v int64) {
	c.row()
	c.defs = append(c.defs, c.leaf.maxDef)
	c.vals = binary.LittleEndian.AppendUint64(c.vals, uint64(v))
	c.intBounds(v)
}

func (c *ColumnWriter) intBounds(v int64) { widen(&c.minI, &c.maxI, &c.hasBounds, v) }

// widen widens the bounds lo..hi, if has, to take v.
func widen[T int64 | float64](lo, hi *T, has *bool, v T) {
	switch {
	case !*has:
		*lo, *hi, *has = v, v, true
	case v < *lo:
		*lo = v
	case v > *hi:
		*hi = v
	}
}

// Double writes a DOUBLE value. NaN takes no part in the bounds.
func (c *ColumnWriter) Double(v float64) {
	c.row()
	c.defs = append(c.defs, c.leaf.maxDef)
	c.vals = binary.LittleEndian.AppendUint64(c.vals, math.Float64bits(v))
	if !math.IsNaN(v) {
		widen(&c.minF, &c.maxF, &c.hasBounds, v)
	}
}

// Bool writes a BOOLEAN value.
func (c *ColumnWriter) Bool(v bool) {
	c.row()
	c.defs = append(c.defs, c.leaf.maxDef)
	var b uint8
	if v {
		b = 1
	}
	c.bits = append(c.bits, b)
	c.intBounds(int64(b))
}

// cutPage encodes the page filled so far and adds it to the chunk.
func (c *ColumnWriter) cutPage() {
	if len(c.defs) == 0 {
		return
	}
	body := c.scratch[:0]
	if c.leaf.maxRep > 0 {
		body = c.appendLevels(body, c.reps, c.leaf.maxRep)
	}
	if c.leaf.maxDef > 0 {
		body = c.appendLevels(body, c.defs, c.leaf.maxDef)
	}
	encoding := format.Plain
	switch {
	case c.leaf.dict:
		encoding = format.RLEDictionary
		var err error
		if c.levelsBuf, err = (&rle.DictionaryEncoding{}).EncodeInt32(c.levelsBuf, c.idx); err != nil {
			c.w.fail(fmt.Errorf("parquet column %s: %w", c.leaf.path[0], err))
		}
		body = append(body, c.levelsBuf...)
	case c.leaf.kind == parquet.Boolean:
		body = appendBits(body, c.bits)
	default:
		body = append(body, c.vals...)
	}
	c.scratch = body
	nulls := c.nulls
	c.pages = c.addPage(c.pages, format.PageHeader{
		Type: format.DataPage,
		DataPageHeader: thrift.New(format.DataPageHeader{
			NumValues:               int32(len(c.defs)),
			Encoding:                encoding,
			DefinitionLevelEncoding: format.RLE,
			RepetitionLevelEncoding: format.RLE,
			Statistics:              format.Statistics{NullCount: int64(nulls)},
		}),
	}, body)
	c.values += int64(len(c.defs))
	c.chunkNulls += int64(nulls)
	c.defs, c.reps, c.vals, c.bits, c.idx, c.nulls = c.defs[:0], c.reps[:0], c.vals[:0], c.bits[:0], c.idx[:0], 0
}

// appendLevels appends levels RLE-encoded, after their length.
func (c *ColumnWriter) appendLevels(dst []byte, levels []uint8, max uint8) []byte {
	enc := rle.Encoding{BitWidth: bitWidth(max)}
	var err error
	if c.levelsBuf, err = enc.EncodeLevels(c.levelsBuf, levels); err != nil {
		c.w.fail(fmt.Errorf("parquet column %s: %w", c.leaf.path[0], err))
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(c.levelsBuf)))
	return append(dst, c.levelsBuf...)
}

func bitWidth(max uint8) int {
	n := 0
	for ; max > 0; max >>= 1 {
		n++
	}
	return n
}

// appendBits appends booleans, one a byte in src, packed eight a byte,
// the first in the lowest bit.
func appendBits(dst, src []byte) []byte {
	for i := 0; i < len(src); i += 8 {
		var b byte
		for j, v := range src[i:min(i+8, len(src))] {
			b |= v << j
		}
		dst = append(dst, b)
	}
	return dst
}

// addPage appends body, compressed, after its header, to dst, and counts
// it in the chunk.
func (c *ColumnWriter) addPage(dst []byte, h format.PageHeader, body []byte) []byte {
	w := c.w
	comp, err := w.opt.Codec.Encode(c.levelsBuf[:0], body)
	if err != nil {
		w.fail(fmt.Errorf("parquet column %s: compress: %w", c.leaf.path[0], err))
		return dst
	}
	c.levelsBuf = comp
	h.UncompressedPageSize = int32(len(body))
	h.CompressedPageSize = int32(len(comp))
	c.header.Reset()
	enc := thrift.NewEncoder(new(thrift.CompactProtocol).NewWriter(&c.header))
	if err := enc.Encode(&h); err != nil {
		w.fail(fmt.Errorf("parquet column %s: page header: %w", c.leaf.path[0], err))
		return dst
	}
	c.uncompSize += int64(c.header.Len() + len(body))
	c.compSize += int64(c.header.Len() + len(comp))
	c.pageCount++
	dst = append(dst, c.header.Bytes()...)
	return append(dst, comp...)
}

// finish writes the column's chunk: its dictionary page, if any, then its
// data pages.
func (c *ColumnWriter) finish() (format.ColumnChunk, error) {
	w := c.w
	c.cutPage()
	dataPages := c.pageCount
	md := format.ColumnMetaData{
		Type:         c.leaf.physical,
		PathInSchema: c.leaf.path,
		Codec:        w.opt.Codec.CompressionCodec(),
		NumValues:    c.values,
		Statistics:   format.Statistics{NullCount: c.chunkNulls},
		Encoding:     []format.Encoding{format.Plain, format.RLE},
		EncodingStats: []format.PageEncodingStats{
			{PageType: format.DataPage, Encoding: format.Plain, Count: dataPages},
		},
	}
	md.DataPageOffset = w.off
	if c.leaf.dict {
		// The dictionary page comes first, even empty: readers take a
		// dictionary chunk's first page for it.
		c.dictPage = c.addPage(c.dictPage[:0], format.PageHeader{
			Type: format.DictionaryPage,
			DictionaryPageHeader: thrift.New(format.DictionaryPageHeader{
				NumValues: c.dictCount,
				Encoding:  format.Plain,
			}),
		}, c.dictVals)
		c.dictBounds()
		md.DictionaryPageOffset = w.off
		md.DataPageOffset = w.off + int64(len(c.dictPage))
		w.write(c.dictPage)
		md.Encoding = append(md.Encoding, format.RLEDictionary)
		md.EncodingStats = []format.PageEncodingStats{
			{PageType: format.DataPage, Encoding: format.RLEDictionary, Count: dataPages},
			{PageType: format.DictionaryPage, Encoding: format.Plain, Count: 1},
		}
	}
	w.write(c.pages)
	if w.err != nil {
		return format.ColumnChunk{}, w.err
	}
	md.TotalUncompressedSize, md.TotalCompressedSize = c.uncompSize, c.compSize
	if c.hasBounds && c.leaf.bounds {
		md.Statistics.MinValue, md.Statistics.MaxValue = c.boundBytes()
	}
	return format.ColumnChunk{MetaData: md}, nil
}

// dictBounds sets the bounds of a dictionary chunk from its entries.
func (c *ColumnWriter) dictBounds() {
	if !c.leaf.bounds {
		return
	}
	for b := c.dictVals; len(b) >= 4; {
		n := binary.LittleEndian.Uint32(b)
		v := b[4 : 4+n]
		b = b[4+n:]
		c.byteBounds(v)
	}
}

// boundBytes returns the chunk's minimum and maximum, PLAIN-encoded as the
// statistics hold them.
func (c *ColumnWriter) boundBytes() (lo, hi []byte) {
	switch c.leaf.kind {
	case parquet.ByteArray:
		// Never nil, even for an empty string: a nil bound is no bound.
		return append([]byte{}, c.minB...), append([]byte{}, c.maxB...)
	case parquet.Boolean:
		return []byte{byte(c.minI)}, []byte{byte(c.maxI)}
	case parquet.Int32:
		return binary.LittleEndian.AppendUint32(nil, uint32(c.minI)), binary.LittleEndian.AppendUint32(nil, uint32(c.maxI))
	case parquet.Double:
		// A zero bound is written as -0.0 below and +0.0 above, so that
		// readers comparing either zero find it inside.
		lo, hi := c.minF, c.maxF
		if lo == 0 {
			lo = math.Copysign(0, -1)
		}
		if hi == 0 {
			hi = 0
		}
		return binary.LittleEndian.AppendUint64(nil, math.Float64bits(lo)), binary.LittleEndian.AppendUint64(nil, math.Float64bits(hi))
	}
	return binary.LittleEndian.AppendUint64(nil, uint64(c.minI)), binary.LittleEndian.AppendUint64(nil, uint64(c.maxI))
}
