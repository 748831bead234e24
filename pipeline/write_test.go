package pipeline

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
	"github.com/mdvm-parquet/mdvm-parquet/schema/sample"
)

// sampleRows decodes n generated records of ds, quirks included.
func sampleRows(t testing.TB, ds *schema.Dataset, n int) (*rows, *keyRegistry) {
	t.Helper()
	var data bytes.Buffer
	cfg := sample.Config{Dataset: ds, Records: n, Groups: 3, Unassigned: true, Seed: 7, Layout: sample.Mixed,
		Quirks: true, GeneratedTime: time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)}
	err := sample.Records(cfg, func(rec []byte) error {
		data.Write(rec)
		data.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	reg := newKeyRegistry()
	d := newDecoder(ds, reg, []string{""})
	r := newRows(len(ds.Fields))
	d.decodeChunk(chunk{data: data.Bytes(), firstLine: 1}, r, nil)
	if r.len() == 0 {
		t.Fatalf("%s: no rows decoded", ds.Name)
	}
	return r, reg
}

// encodeRowGroup writes buf in order as one file's only row group with fn.
func encodeRowGroup(t *testing.T, spec *fileSpec, buf *rows, order []int32, snap regSnapshot,
	fn func(*openFile) error) []byte {
	t.Helper()
	layout := schema.NewLayout(spec.ds, snap.kinds)
	var out bytes.Buffer
	opts := []parquet.WriterOption{parquet.DataPageVersion(1), parquet.PageBufferSize(16 << 10),
		layout.Schema(plainColumns(layout, buf, snap.ids, order))}
	f := &openFile{pw: parquet.NewWriter(&out, opts...), layout: layout}
	if err := fn(f); err != nil {
		t.Fatal(err)
	}
	if err := f.pw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// writeCellByCell is the plain reading of the row group contract: every
// row's cells in layout order, one value at a time.
func writeCellByCell(f *openFile, spec *fileSpec, buf *rows, order []int32, snap regSnapshot) error {
	rg := f.pw.BeginRowGroup()
	cols := rg.ColumnWriters()
	values := make([][]parquet.Value, len(f.layout.Columns))
	for lo := 0; lo < len(order); lo += writeBatchRows {
		for ci := range values {
			values[ci] = values[ci][:0]
		}
		for _, r32 := range order[lo:min(lo+writeBatchRows, len(order))] {
			r, m := int(r32), buf.meta[r32]
			for ci, c := range f.layout.Columns {
				var v parquet.Value
				switch c.Source {
				case schema.FromField:
					if c.Type == schema.StringList {
						values[ci] = appendList(values[ci], buf, buf.field(r, c.Field), ci)
						continue
					}
					v = fieldValue(buf, buf.field(r, c.Field), c.Type)
				case schema.FromSnapshot:
					v = parquet.Int64Value(spec.snapshot.UnixMicro())
				case schema.FromFlattened:
					for _, a := range buf.afs[m.afLo:m.afHi] {
						if int(a.col) < len(snap.byID) && snap.ids[c.Name] == uint32(a.col) {
							v = flatValue(buf, &a, c.Kind.Type())
						}
					}
				case schema.FromExtra:
					if m.extra.kind != schema.KindNull {
						v = parquet.ByteArrayValue(buf.text(m.extra))
					}
				case schema.FromFile:
					v = parquet.ByteArrayValue([]byte(spec.inputs[m.input].Name))
				case schema.FromLine:
					v = parquet.Int64Value(m.line)
				}
				def := 0
				if !v.IsNull() {
					def = 1
				}
				values[ci] = append(values[ci], v.Level(0, def, ci))
			}
		}
		for ci := range values {
			if _, err := cols[ci].WriteRowValues(values[ci]); err != nil {
				return err
			}
		}
	}
	_, err := rg.Commit()
	return err
}

// TestWriteRowGroupCellByCell checks that the column-at-a-time writer makes
// the very file a cell-by-cell writer makes, for every dataset with a
// generator: typed fields, lists, NULLs, flattened values of every kind.
func TestWriteRowGroupCellByCell(t *testing.T) {
	for _, name := range sample.Supported() {
		t.Run(name, func(t *testing.T) {
			ds, err := schema.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			buf, reg := sampleRows(t, ds, 2500)
			snap := reg.snapshot()
			spec := &fileSpec{ds: ds, reg: reg, inputs: []Input{{Name: "part-00000.json.gz"}}, snapshot: testSnapshot}
			order := sortRows(ds, buf)
			got := encodeRowGroup(t, spec, buf, order, snap, func(f *openFile) error {
				return f.writeRowGroup(spec, buf, order, snap)
			})
			want := encodeRowGroup(t, spec, buf, order, snap, func(f *openFile) error {
				return writeCellByCell(f, spec, buf, order, snap)
			})
			if !bytes.Equal(got, want) {
				t.Fatalf("files differ: %d bytes, want %d", len(got), len(want))
			}
		})
	}
}

// keyRows returns rows of the hardware dataset whose sort keys hold keys.
func keyRows(keys [][3]string) *rows {
	ds := schema.HardwareFirmware
	r := newRows(len(ds.Fields))
	idx := map[string]int{}
	for i, f := range ds.Fields {
		idx[f.Key] = i
	}
	for i, k := range keys {
		vals := make([]span, len(ds.Fields))
		for j, key := range ds.SortKeys {
			vals[idx[key]] = r.put([]byte(k[j]), schema.KindString)
		}
		r.vals = append(r.vals, vals...)
		r.meta = append(r.meta, rowMeta{input: int32(i % 2), line: int64(len(keys) - i)})
	}
	return r
}

// sortRowsByCompare is sortRows as its contract reads: keys compared whole.
func sortRowsByCompare(ds *schema.Dataset, buf *rows) []int32 {
	order := make([]int32, buf.len())
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		for _, k := range ds.SortKeys {
			f := slices.IndexFunc(ds.Fields, func(f schema.Field) bool { return f.Key == k })
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

func TestSortRows(t *testing.T) {
	tests := []struct {
		name string
		keys [][3]string
	}{
		{"prefix ties", [][3]string{{"abcdefgh2", "b", ""}, {"abcdefgh1", "b", ""}, {"abcdefgh", "b", ""}, {"abcdefgh1", "a", ""}}},
		{"short keys", [][3]string{{"ab\x00", "", ""}, {"ab", "", ""}, {"a", "", ""}, {"", "", ""}, {"ab\x00\x00", "", ""}}},
		{"high bytes", [][3]string{{"\xff\xff", "x", ""}, {"\x7f", "x", ""}, {"\x80", "x", ""}, {"\xff", "x", ""}}},
		{"equal keys keep input order", [][3]string{{"d", "t", "n"}, {"d", "t", "n"}, {"d", "t", "n"}, {"d", "t", "m"}}},
		{"later keys", [][3]string{{"d", "t", "name-long-enough-2"}, {"d", "t", "name-long-enough-1"}, {"d", "s", "z"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := keyRows(tt.keys)
			got, want := sortRows(schema.HardwareFirmware, buf), sortRowsByCompare(schema.HardwareFirmware, buf)
			if !slices.Equal(got, want) {
				t.Errorf("order %v, want %v", got, want)
			}
		})
	}
}

// FuzzSortRows checks the prefix comparison against whole keys on random
// keys drawn from a small alphabet, so that prefixes often tie.
func FuzzSortRows(f *testing.F) {
	f.Add(uint64(1), uint8(20))
	f.Add(uint64(7), uint8(200))
	f.Fuzz(func(t *testing.T, seed uint64, n uint8) {
		rng := rand.New(rand.NewPCG(seed, 0))
		word := func() string {
			b := make([]byte, rng.IntN(12))
			for i := range b {
				b[i] = "\x00a\xff"[rng.IntN(3)]
			}
			return string(b)
		}
		keys := make([][3]string, n)
		for i := range keys {
			keys[i] = [3]string{word(), word(), word()}
		}
		buf := keyRows(keys)
		got, want := sortRows(schema.HardwareFirmware, buf), sortRowsByCompare(schema.HardwareFirmware, buf)
		if !slices.Equal(got, want) {
			t.Fatalf("keys %q: order %v, want %v", keys, got, want)
		}
	})
}

func TestPlainColumns(t *testing.T) {
	ds := schema.HardwareFirmware
	col := func(key string) int {
		return slices.IndexFunc(ds.Fields, func(f schema.Field) bool { return f.Key == key })
	}
	long := string(bytes.Repeat([]byte("x"), 1025))
	tests := []struct {
		name  string
		rows  int
		value func(i int) string // deviceName of row i
		plain bool
	}{
		{"few values", 3000, func(i int) string { return fmt.Sprint(i % 10) }, false},
		{"a quarter distinct", 3000, func(i int) string { return fmt.Sprint(i % 512) }, false},
		{"past a quarter distinct", 3000, func(i int) string { return fmt.Sprint(i % 513) }, true},
		{"all distinct", 3000, func(i int) string { return fmt.Sprint(i) }, true},
		{"all distinct, too few rows to tell", 63, func(i int) string { return fmt.Sprint(i) }, false},
		{"one long value late in the sample", 3000, func(i int) string {
			if i == 2047 {
				return long
			}
			return "a"
		}, true},
		{"a long value past the sample", 3000, func(i int) string {
			if i == 2048 {
				return long
			}
			return "a"
		}, false},
	}
	layout := schema.NewLayout(ds, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := newRows(len(ds.Fields))
			order := make([]int32, tt.rows)
			for i := range tt.rows {
				vals := make([]span, len(ds.Fields))
				vals[col("deviceName")] = buf.put([]byte(tt.value(i)), schema.KindString)
				buf.vals = append(buf.vals, vals...)
				buf.meta = append(buf.meta, rowMeta{})
				order[i] = int32(i)
			}
			if got := plainColumns(layout, buf, nil, order)["device_name"]; got != tt.plain {
				t.Errorf("device_name plain = %v, want %v", got, tt.plain)
			}
		})
	}
}
