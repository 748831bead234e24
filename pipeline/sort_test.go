package pipeline

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
	"github.com/mdvm-parquet/mdvm-parquet/schema/sample"
)

// sortRowsByPrefix is the sort as first written: one sort of row indexes,
// comparing the key prefixes through the index, then whole keys, input and
// line. The order sortRows returns must not differ from it.
func sortRowsByPrefix(ds *schema.Dataset, buf *rows) []int32 {
	keys := sortFields(ds)
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

// sortRowsSample returns n generated records of ds as rows, spread at
// random over three inputs, so that input as well as line orders rows of
// equal keys.
func sortRowsSample(t testing.TB, ds *schema.Dataset, n int) *rows {
	t.Helper()
	buf, _ := sampleRows(t, ds, n)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range buf.meta {
		buf.meta[i].input = int32(r.IntN(3))
	}
	return buf
}

// BenchmarkSortRows sorts 30,000 generated rows of a dataset of three sort
// keys and of one of five.
func BenchmarkSortRows(b *testing.B) {
	for _, name := range []string{"hardware_firmware", "software_vulnerabilities"} {
		b.Run(name, func(b *testing.B) {
			ds, _ := schema.Lookup(name)
			buf := sortRowsSample(b, ds, 30_000)
			b.ResetTimer()
			for range b.N {
				sortRows(ds, buf)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*buf.len()), "ns/row")
		})
	}
}

// TestSortRowsSampleOrder: on generated rows of every dataset, the order is
// the one the first sort gave.
func TestSortRowsSampleOrder(t *testing.T) {
	for _, name := range sample.Supported() {
		t.Run(name, func(t *testing.T) {
			ds, _ := schema.Lookup(name)
			buf := sortRowsSample(t, ds, 3000)
			if got, want := sortRows(ds, buf), sortRowsByPrefix(ds, buf); !slices.Equal(got, want) {
				t.Errorf("order differs from the first sort's at %d", firstDiff(got, want))
			}
		})
	}
}

func firstDiff(a, b []int32) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// null stands for a NULL key in nullKeyRows.
const null = "\x00<null>"

// nullKeyRows returns rows of the hardware dataset whose sort keys hold
// keys, null for NULL; row i comes from input i%3, at a line that falls
// as i grows.
func nullKeyRows(keys [][3]string) *rows {
	ds := schema.HardwareFirmware
	r := newRows(len(ds.Fields))
	for i, k := range keys {
		vals := make([]span, len(ds.Fields))
		for j, key := range ds.SortKeys {
			f := slices.IndexFunc(ds.Fields, func(f schema.Field) bool { return f.Key == key })
			if k[j] == null {
				vals[f] = span{off: uint32(len(r.arena)), kind: schema.KindNull}
			} else {
				vals[f] = r.put([]byte(k[j]), schema.KindString)
			}
		}
		r.vals = append(r.vals, vals...)
		r.meta = append(r.meta, rowMeta{input: int32(i % 3), line: int64(len(keys) - i)})
	}
	return r
}

// TestSortRowsAdversarialOrder: keys that tie in their prefixes, or in the
// prefix's high bits only, short, empty and NULL keys sort as the first
// sort put them.
func TestSortRowsAdversarialOrder(t *testing.T) {
	// many returns n rows of keys drawn from alphabet, each up to max bytes
	// long after a common head.
	many := func(n int, head, alphabet string, max int) [][3]string {
		r := rand.New(rand.NewPCG(uint64(n), uint64(max)))
		word := func() string {
			b := []byte(head)
			for range r.IntN(max + 1) {
				b = append(b, alphabet[r.IntN(len(alphabet))])
			}
			return string(b)
		}
		keys := make([][3]string, n)
		for i := range keys {
			keys[i] = [3]string{word(), word(), word()}
			if r.IntN(10) == 0 {
				keys[i][r.IntN(3)] = null
			}
		}
		return keys
	}
	tests := []struct {
		name string
		keys [][3]string
	}{
		{"no rows", nil},
		{"one row", [][3]string{{"d", "t", "n"}}},
		{"equal prefixes", [][3]string{{"abcdefgh2", "b", ""}, {"abcdefgh1", "b", ""}, {"abcdefgh", "b", ""},
			{"abcdefgh1", "a", ""}, {"abcdefgh1", "a", "z"}}},
		{"short keys", [][3]string{{"ab\x00", "", ""}, {"ab", "", ""}, {"a", "", ""}, {"", "", ""}, {"ab\x00\x00", "", ""}}},
		{"empty and null", [][3]string{{"", "", ""}, {null, null, null}, {"", null, ""}, {null, "", null},
			{"\x00", null, ""}, {null, "\x00", null}}},
		{"all equal", [][3]string{{"d", "t", "n"}, {"d", "t", "n"}, {"d", "t", "n"}, {"d", "t", "n"}}},
		{"prefixes tie in their high bits", many(3000, "abcdefg", "\x00\x01\xfe\xff", 2)},
		{"long equal heads", many(2000, "0123456789abcdef0123456789", "ab", 3)},
		{"short keys, many rows", many(3000, "", "\x00a\xff", 9)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := nullKeyRows(tt.keys)
			got, want := sortRows(schema.HardwareFirmware, buf), sortRowsByPrefix(schema.HardwareFirmware, buf)
			if !slices.Equal(got, want) {
				t.Errorf("order differs from the first sort's at %d", firstDiff(got, want))
			}
		})
	}
}
