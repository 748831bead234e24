package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/mdvm-parquet/mdvm-parquet/pipeline/parquetfile"
	"github.com/mdvm-parquet/mdvm-parquet/schema"
	"github.com/mdvm-parquet/mdvm-parquet/schema/sample"
)

// sampleRows decodes n generated records of ds, quirks included.
func sampleRows(t testing.TB, ds *schema.Dataset, n int) (*rows, *keyRegistry) {
	t.Helper()
	data := generate(t, sample.Config{Dataset: ds, Records: n, Groups: 3, Unassigned: true, Seed: 7,
		Layout: sample.Mixed, Quirks: true})
	reg := newKeyRegistry()
	d := newDecoder(ds, reg, []string{""})
	r := newRows(len(ds.Fields))
	d.decodeChunk(chunk{data: data, firstLine: 1}, r, nil)
	if r.len() == 0 {
		t.Fatalf("%s: no rows decoded", ds.Name)
	}
	return r, reg
}

// referenceFile writes buf in order as one row group with parquet-go's own
// writer, every row's cells in layout order, one value at a time: the plain
// reading of the row group contract.
func referenceFile(t *testing.T, spec *fileSpec, layout *schema.Layout, plain map[string]bool,
	buf *rows, order []int32, snap regSnapshot) []byte {
	t.Helper()
	var out bytes.Buffer
	pw := parquet.NewWriter(&out, parquet.DataPageVersion(1), layout.Schema(plain))
	var row parquet.Row
	for _, r32 := range order {
		r, m := int(r32), buf.meta[r32]
		row = row[:0]
		for ci, c := range layout.Columns {
			var v parquet.Value
			switch c.Source {
			case schema.FromField:
				if c.Type == schema.StringList {
					row = appendList(row, buf, buf.field(r, c.Field), ci)
					continue
				}
				v = fieldValue(buf, buf.field(r, c.Field), c.Type)
			case schema.FromSnapshot:
				v = parquet.Int64Value(spec.snapshot.UnixMicro())
			case schema.FromFlattened:
				for _, a := range buf.afs[m.afLo:m.afHi] {
					if int(a.col) < len(snap.byID) && snap.ids[c.Name] == uint32(a.col) {
						v = flatValue(buf, &a, c.Kind.Type())
						break
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
			row = append(row, v.Level(0, def, ci))
		}
		if _, err := pw.WriteRows([]parquet.Row{row}); err != nil {
			t.Fatal(err)
		}
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// readRows reads every row of a Parquet file with parquet-go.
func readRows(t *testing.T, data []byte) (*parquet.File, []parquet.Row) {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	r := parquet.NewReader(f)
	defer r.Close()
	var all []parquet.Row
	for {
		rows := make([]parquet.Row, 256)
		n, err := r.ReadRows(rows)
		for _, row := range rows[:n] {
			all = append(all, row.Clone())
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read rows: %v", err)
		}
	}
	return f, all
}

// TestWriteRowGroupMatchesParquetGo checks that writeRowGroup writes the
// rows parquet-go's own writer writes, cell for cell, under the same
// schema, for every dataset with a generator: typed fields, lists, NULLs,
// flattened values of every kind.
func TestWriteRowGroupMatchesParquetGo(t *testing.T) {
	for _, name := range sample.Supported() {
		t.Run(name, func(t *testing.T) {
			ds, err := schema.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			buf, reg := sampleRows(t, ds, 2500)
			snap := reg.snapshot()
			inputs := []Input{{Name: "part-00000.json.gz"}}
			spec := &fileSpec{ds: ds, reg: reg, inputs: inputs, inputNames: inputNames(inputs), snapshot: testSnapshot}
			order := sortRows(ds, buf)
			layout := schema.NewLayout(ds, snap.kinds)
			plain := plainColumns(layout, buf, snap.ids, order)

			var out bytes.Buffer
			pw, err := parquetfile.NewWriter(&out, layout.Schema(plain), parquetfile.Options{PageSize: 16 << 10})
			if err != nil {
				t.Fatal(err)
			}
			f := &openFile{pw: pw, layout: layout}
			if err := f.writeRowGroup(spec, buf, order, snap); err != nil {
				t.Fatal(err)
			}
			if err := pw.Close(); err != nil {
				t.Fatal(err)
			}

			gotFile, got := readRows(t, out.Bytes())
			wantFile, want := readRows(t, referenceFile(t, spec, layout, plain, buf, order, snap))
			if g, w := fmt.Sprint(gotFile.Metadata().Schema), fmt.Sprint(wantFile.Metadata().Schema); g != w {
				t.Fatalf("schema\n got %s\nwant %s", g, w)
			}
			if len(got) != len(want) || len(got) != len(order) {
				t.Fatalf("%d rows, parquet-go %d, wrote %d", len(got), len(want), len(order))
			}
			for i := range want {
				if !got[i].Equal(want[i]) {
					t.Fatalf("row %d:\n got %v\nwant %v", i, got[i], want[i])
				}
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
