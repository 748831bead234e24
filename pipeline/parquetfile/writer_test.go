package parquetfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// testSchema has a leaf of every kind the writer takes.
func testSchema() *parquet.Schema {
	return parquet.NewSchema("t", parquet.Group{
		"a_dict":  parquet.Optional(parquet.Encoded(parquet.String(), &parquet.RLEDictionary)),
		"b_plain": parquet.Optional(parquet.Encoded(parquet.String(), &parquet.Plain)),
		"c_i32":   parquet.Optional(parquet.Int(32)),
		"d_i64":   parquet.Optional(parquet.Int(64)),
		"e_dbl":   parquet.Optional(parquet.Leaf(parquet.DoubleType)),
		"f_bool":  parquet.Optional(parquet.Leaf(parquet.BooleanType)),
		"g_ts":    parquet.Optional(parquet.TimestampAdjusted(parquet.Microsecond, true)),
		"h_list":  parquet.Optional(parquet.List(parquet.String())),
	})
}

// cell is one row's value of one column in a test table: nil for NULL.
type cell any

// randomTable returns n rows of cells for testSchema's leaves, from seed.
func randomTable(seed uint64, n int) [][]cell {
	r := rand.New(rand.NewPCG(seed, 7))
	words := []string{"", "alpha", "beta", "gamma", "δέλτα", "epsilon", "zeta"}
	table := make([][]cell, n)
	for i := range table {
		row := make([]cell, 8)
		for j := range row {
			if r.IntN(5) == 0 {
				continue
			}
			switch j {
			case 0:
				row[j] = []byte(words[r.IntN(len(words))])
			case 1:
				row[j] = []byte(fmt.Sprintf("value-%d-%d", i, r.IntN(1000)))
			case 2:
				row[j] = int32(r.Uint32())
			case 3:
				row[j] = int64(r.Uint64())
			case 4:
				row[j] = []float64{0, -1.5, 2.25, math.Inf(1), r.NormFloat64()}[r.IntN(5)]
			case 5:
				row[j] = r.IntN(2) == 1
			case 6:
				row[j] = int64(r.IntN(1 << 50))
			case 7:
				list := make([][]byte, r.IntN(4))
				for k := range list {
					list[k] = []byte(words[r.IntN(len(words))])
				}
				row[j] = list
			}
		}
		table[i] = row
	}
	return table
}

// writeTable writes table with w, in row groups of at most groupRows.
func writeTable(t testing.TB, w *Writer, table [][]cell, groupRows int) {
	t.Helper()
	for lo := 0; lo < len(table); lo += groupRows {
		rows := table[lo:min(lo+groupRows, len(table))]
		// Row by row, every column open at once.
		for _, row := range rows {
			for ci := range 8 {
				writeCell(w.Column(ci), row[ci])
			}
		}
		if err := w.EndRowGroup(); err != nil {
			t.Fatal(err)
		}
	}
}

func writeCell(c *ColumnWriter, v cell) {
	switch v := v.(type) {
	case nil:
		c.Null()
	case []byte:
		c.Bytes(v)
	case int32:
		c.Int32(v)
	case int64:
		c.Int64(v)
	case float64:
		c.Double(v)
	case bool:
		c.Bool(v)
	case [][]byte:
		if len(v) == 0 {
			c.EmptyList()
		}
		for i, e := range v {
			c.Element(e, i == 0)
		}
	}
}

// readTable reads every column of a file back, as parquet-go sees it, into
// the cells of a table.
func readTable(t testing.TB, data []byte) ([][]cell, *parquet.File) {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	var table [][]cell
	for _, rg := range f.RowGroups() {
		base := len(table)
		for range rg.NumRows() {
			table = append(table, make([]cell, 8))
		}
		for ci, chunk := range rg.ColumnChunks() {
			row := base - 1
			pages := chunk.Pages()
			for {
				p, err := pages.ReadPage()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("column %d: %v", ci, err)
				}
				vals := make([]parquet.Value, p.NumValues())
				n, err := p.Values().ReadValues(vals)
				if err != nil && !errors.Is(err, io.EOF) {
					t.Fatalf("column %d: %v", ci, err)
				}
				for _, v := range vals[:n] {
					if v.RepetitionLevel() == 0 {
						row++
					}
					table[row][ci] = appendCell(table[row][ci], v, ci)
				}
				parquet.Release(p)
			}
			pages.Close()
		}
	}
	return table, f
}

func appendCell(cur cell, v parquet.Value, ci int) cell {
	if ci == 7 {
		switch {
		case v.DefinitionLevel() == 0:
			return nil
		case v.DefinitionLevel() == 1:
			return [][]byte{}
		}
		list, _ := cur.([][]byte)
		return append(list, bytes.Clone(v.ByteArray()))
	}
	if v.IsNull() {
		return nil
	}
	switch ci {
	case 0, 1:
		return bytes.Clone(v.ByteArray())
	case 2:
		return v.Int32()
	case 3, 6:
		return v.Int64()
	case 4:
		return v.Double()
	}
	return v.Boolean()
}

func TestWriterRoundTrip(t *testing.T) {
	tests := []struct {
		name      string
		rows      int
		groupRows int
		pageSize  int
		codec     string
	}{
		{"empty file", 0, 10, 0, "snappy"},
		{"one row", 1, 10, 0, "snappy"},
		{"one group", 500, 1000, 0, "snappy"},
		{"many groups and pages", 3000, 700, 512, "snappy"},
		{"zstd", 2000, 1000, 1024, "zstd"},
		{"uncompressed", 2000, 1000, 1024, "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			codec := map[string]Options{
				"snappy": {Codec: &parquet.Snappy},
				"zstd":   {Codec: &parquet.Zstd},
				"none":   {},
			}[tt.codec]
			codec.PageSize = tt.pageSize
			codec.CreatedBy = "test version 1"
			var buf bytes.Buffer
			w, err := NewWriter(&buf, testSchema(), codec)
			if err != nil {
				t.Fatal(err)
			}
			want := randomTable(uint64(tt.rows), tt.rows)
			writeTable(t, w, want, tt.groupRows)
			w.SetKeyValue("k", "v")
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, f := readTable(t, buf.Bytes())
			if len(got) != len(want) {
				t.Fatalf("read %d rows, wrote %d", len(got), len(want))
			}
			for i := range want {
				if g, w := fmt.Sprint(got[i]), fmt.Sprint(want[i]); g != w {
					t.Fatalf("row %d: read %s, wrote %s", i, g, w)
				}
			}
			if v, _ := f.Lookup("k"); v != "v" {
				t.Errorf("key/value metadata k = %q, want v", v)
			}
			if got, want := len(f.RowGroups()), (tt.rows+tt.groupRows-1)/tt.groupRows; got != want {
				t.Errorf("%d row groups, want %d", got, want)
			}
			checkStatistics(t, f, want, tt.groupRows)
		})
	}
}

// checkStatistics checks each chunk's null count and bounds against the
// rows written.
func checkStatistics(t *testing.T, f *parquet.File, table [][]cell, groupRows int) {
	t.Helper()
	for g, rg := range f.Metadata().RowGroups {
		rows := table[g*groupRows : min((g+1)*groupRows, len(table))]
		for ci, chunk := range rg.Columns {
			if ci == 7 {
				continue
			}
			st := chunk.MetaData.Statistics
			var nulls int64
			var lo, hi []byte
			for _, row := range rows {
				if row[ci] == nil {
					nulls++
					continue
				}
				b := plainBytes(row[ci])
				if lo == nil || lessPlain(ci, b, lo) {
					lo = b
				}
				if hi == nil || lessPlain(ci, hi, b) {
					hi = b
				}
			}
			if st.NullCount != nulls {
				t.Errorf("row group %d column %d: null count %d, want %d", g, ci, st.NullCount, nulls)
			}
			if ci == 4 {
				continue // zeros are signed in the bounds
			}
			if !bytes.Equal(st.MinValue, lo) || !bytes.Equal(st.MaxValue, hi) {
				t.Errorf("row group %d column %d: bounds %x..%x, want %x..%x", g, ci, st.MinValue, st.MaxValue, lo, hi)
			}
		}
	}
}

func plainBytes(v cell) []byte {
	switch v := v.(type) {
	case []byte:
		return v
	case int32:
		return binary.LittleEndian.AppendUint32(nil, uint32(v))
	case int64:
		return binary.LittleEndian.AppendUint64(nil, uint64(v))
	case bool:
		if v {
			return []byte{1}
		}
		return []byte{0}
	}
	return nil
}

func lessPlain(ci int, a, b []byte) bool {
	switch ci {
	case 2:
		return int32(binary.LittleEndian.Uint32(a)) < int32(binary.LittleEndian.Uint32(b))
	case 3, 6:
		return int64(binary.LittleEndian.Uint64(a)) < int64(binary.LittleEndian.Uint64(b))
	}
	return bytes.Compare(a, b) < 0
}

// The schema, encodings and column orders are parquet-go's, and pages are
// cut by size.
func TestWriterMetadata(t *testing.T) {
	s := testSchema()
	var ours, theirs bytes.Buffer
	w, err := NewWriter(&ours, s, Options{PageSize: 256})
	if err != nil {
		t.Fatal(err)
	}
	writeTable(t, w, randomTable(1, 400), 400)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pw := parquet.NewWriter(&theirs, s)
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	_, of := readTable(t, ours.Bytes())
	_, tf := readTable(t, theirs.Bytes())
	if g, w := fmt.Sprint(of.Metadata().Schema), fmt.Sprint(tf.Metadata().Schema); g != w {
		t.Errorf("schema elements\n got %s\nwant %s", g, w)
	}
	if g, w := fmt.Sprint(of.Metadata().ColumnOrders), fmt.Sprint(tf.Metadata().ColumnOrders); g != w {
		t.Errorf("column orders\n got %s\nwant %s", g, w)
	}
	chunks := of.Metadata().RowGroups[0].Columns
	if enc := chunks[0].MetaData.Encoding; fmt.Sprint(enc) != fmt.Sprint([]format.Encoding{format.Plain, format.RLE, format.RLEDictionary}) {
		t.Errorf("dictionary column encodings %v", enc)
	}
	if chunks[0].MetaData.DictionaryPageOffset != 4 {
		t.Errorf("first dictionary page at %d, want 4", chunks[0].MetaData.DictionaryPageOffset)
	}
	if n := chunks[1].MetaData.EncodingStats[0].Count; n < 10 {
		t.Errorf("plain text column cut into %d pages of 256 bytes, want many", n)
	}
}

// Columns of unequal rows are refused; a column given no cells is NULL.
func TestWriterUnequalRows(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testSchema(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.Column(0).Bytes([]byte("a"))
	w.Column(0).Bytes([]byte("b"))
	w.Column(3).Int64(1)
	if err := w.EndRowGroup(); !errors.Is(err, ErrUnequalRows) {
		t.Errorf("unequal rows: %v, want ErrUnequalRows", err)
	}
	if err := w.Close(); !errors.Is(err, ErrUnequalRows) {
		t.Errorf("close after: %v, want ErrUnequalRows", err)
	}

	buf.Reset()
	if w, err = NewWriter(&buf, testSchema(), Options{}); err != nil {
		t.Fatal(err)
	}
	w.Column(0).Bytes([]byte("a"))
	w.Column(0).Bytes([]byte("b"))
	if err := w.EndRowGroup(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := readTable(t, buf.Bytes())
	if g := fmt.Sprint(got); g != "[[[97] <nil> <nil> <nil> <nil> <nil> <nil> <nil>] [[98] <nil> <nil> <nil> <nil> <nil> <nil> <nil>]]" {
		t.Errorf("read %s", g)
	}
}

// FuzzWriter writes tables drawn from the fuzzer and reads them back.
func FuzzWriter(f *testing.F) {
	f.Add(uint64(1), uint16(10), uint16(3), uint16(64))
	f.Add(uint64(2), uint16(300), uint16(100), uint16(1))
	f.Fuzz(func(t *testing.T, seed uint64, n, group, page uint16) {
		rows, groupRows := int(n%2000), int(group%500)+1
		var buf bytes.Buffer
		w, err := NewWriter(&buf, testSchema(), Options{Codec: &parquet.Snappy, PageSize: int(page)})
		if err != nil {
			t.Fatal(err)
		}
		want := randomTable(seed, rows)
		writeTable(t, w, want, groupRows)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got, _ := readTable(t, buf.Bytes())
		if g, w := fmt.Sprint(got), fmt.Sprint(want); g != w {
			t.Fatalf("read back differs\n got %s\nwant %s", g, w)
		}
	})
}

// A column writer fresh from allocation starts as a recycled one does: a
// plain first column, and an empty first value in a dictionary.
func TestWriterFreshColumn(t *testing.T) {
	tests := []struct {
		name string
		node parquet.Node
	}{
		{"plain", parquet.Encoded(parquet.String(), &parquet.Plain)},
		{"dictionary", parquet.Encoded(parquet.String(), &parquet.RLEDictionary)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for len(columnPool) > 0 {
				<-columnPool
			}
			f := writeStrings(t, tt.node, "", "x")
			rows := make([]parquet.Row, 3)
			n, _ := parquet.NewReader(f).ReadRows(rows)
			if n != 2 || string(rows[0][0].ByteArray()) != "" || rows[0][0].IsNull() || string(rows[1][0].ByteArray()) != "x" {
				t.Fatalf("read %d rows: %v", n, rows[:n])
			}
		})
	}
}

// An empty string is a chunk's minimum like any other: its bounds must not
// be dropped because the writer's bound buffers were never allocated.
func TestEmptyStringBound(t *testing.T) {
	for _, enc := range []string{"dict", "plain"} {
		node := parquet.Encoded(parquet.String(), &parquet.RLEDictionary)
		if enc == "plain" {
			node = parquet.Encoded(parquet.String(), &parquet.Plain)
		}
		for _, vals := range [][]string{{"", "a"}, {"", ""}} {
			f := writeStrings(t, node, vals...)
			st := f.Metadata().RowGroups[0].Columns[0].MetaData.Statistics
			if st.MinValue == nil || st.MaxValue == nil || string(st.MinValue) != "" || string(st.MaxValue) != vals[1] {
				t.Errorf("%s %q: min %q (nil %v), max %q (nil %v)", enc, vals, st.MinValue, st.MinValue == nil, st.MaxValue, st.MaxValue == nil)
			}
		}
	}
}

// writeStrings writes vals as the one row group of a file whose one column
// is an optional node, and opens the file.
func writeStrings(t *testing.T, node parquet.Node, vals ...string) *parquet.File {
	t.Helper()
	s := parquet.NewSchema("t", parquet.Group{"a": parquet.Optional(node)})
	var buf bytes.Buffer
	w, err := NewWriter(&buf, s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vals {
		w.Column(0).Bytes([]byte(v))
	}
	if err := w.EndRowGroup(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return f
}
