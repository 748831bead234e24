package pipeline

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

// flattenText flattens doc and renders the values as "column=kind:text".
func flattenText(t testing.TB, reg *keyRegistry, doc string) ([]string, bool) {
	t.Helper()
	var p fastjson.Parser
	v, err := p.Parse(doc)
	if err != nil {
		t.Fatalf("parse %q: %v", doc, err)
	}
	fl := newFlattener(reg)
	r := newRows(1)
	ok, _ := fl.flatten(r, v)
	var out []string
	for _, a := range r.afs {
		out = append(out, fmt.Sprintf("%s=%s:%s", reg.cols[a.col].name, a.kind, r.text(a.text)))
	}
	sort.Strings(out)
	return out, ok
}

func TestFlatten(t *testing.T) {
	tests := []struct {
		name, doc string
		want      string
		ok        bool
	}{
		{"object", `{"SystemSKU":"RZ09","MemoryGB":16,"Secure":true,"Clock":1.5}`,
			"af_clock=float:1.5 af_memory_gb=int:16 af_secure=bool:true af_system_sku=string:RZ09", true},
		{"pairs", `[{"Key":"A","Value":"x"},{"key":"B","value":2}]`, "af_a=string:x af_b=int:2", true},
		{"name pairs", `[{"Name":"A","Value":null}]`, "", true},
		{"array of objects", `[{"A":1},{"B":"y"}]`, "af_a=int:1 af_b=string:y", true},
		{"nested", `{"N":{"x":[1,2]},"L":[1]}`, `af_l=json:[1] af_n=json:{"x":[1,2]}`, true},
		{"big numbers", `{"Big":18446744073709551616123,"Wide":9007199254740993,"Huge":1e999}`,
			"af_big=bignum:18446744073709551616123 af_huge=bignum:1e999 af_wide=wide_int:9007199254740993", true},
		{"escapes", `{"S":"a\"b\u00e9"}`, `af_s=string:a"bé`, true},
		{"duplicate keys keep first", `{"A":1,"a":2}`, "af_a=int:1", true},
		{"empty object", `{}`, "", true},
		{"empty array", `[]`, "", true},
		{"scalar", `5`, "", false},
		{"array of scalars", `[1,2]`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := flattenText(t, newKeyRegistry(), tt.doc)
			if strings.Join(got, " ") != tt.want || ok != tt.ok {
				t.Errorf("got %q ok=%v, want %q ok=%v", strings.Join(got, " "), ok, tt.want, tt.ok)
			}
		})
	}
}

// TestFlattenWidens checks that a key's kind follows every value seen: an
// integer column that meets a string becomes text.
func TestFlattenWidens(t *testing.T) {
	reg := newKeyRegistry()
	flattenText(t, reg, `{"K":7,"F":1}`)
	flattenText(t, reg, `{"K":"v3","F":2.5}`)
	byName := reg.snapshot().kinds
	if byName["af_k"] != schema.KindText || byName["af_f"] != schema.KindFloat {
		t.Errorf("kinds = %v", byName)
	}
	if got := reg.mapping()["af_k"]; len(got) != 1 || got[0] != "K" {
		t.Errorf("mapping = %v", got)
	}
}

// TestFlattenCaseFolding checks that spellings of one key share a column
// named after the spelling with the most word boundaries, whatever the
// order they come in.
func TestFlattenCaseFolding(t *testing.T) {
	for _, order := range [][]string{
		{"SYSTEMSKU", "SystemSKU", "systemsku"},
		{"systemsku", "SYSTEMSKU", "SystemSKU"},
		{"SystemSKU", "systemsku", "SYSTEMSKU"},
	} {
		reg := newKeyRegistry()
		for i, k := range order {
			flattenText(t, reg, fmt.Sprintf(`{%q:%d}`, k, i))
		}
		kinds := reg.snapshot().kinds
		if len(kinds) != 1 || kinds["af_system_sku"] != schema.KindInt {
			t.Errorf("%v: columns %v, want af_system_sku alone", order, kinds)
		}
	}
}

// TestFlattenNamesAlike checks that keys which are different columns but
// which ColumnName names alike get distinct names, whatever their order,
// so that neither's values are lost.
func TestFlattenNamesAlike(t *testing.T) {
	hashed := schema.ColumnName("") // a key with nothing usable: af_key_811c9dc5
	literal := strings.TrimPrefix(hashed, schema.FlattenPrefix)
	for _, order := range [][]string{{"", literal}, {literal, ""}} {
		reg := newKeyRegistry()
		for i, k := range order {
			flattenText(t, reg, fmt.Sprintf(`{%q:%d}`, k, i))
		}
		kinds := reg.snapshot().kinds
		if len(kinds) != 2 {
			t.Fatalf("%q: columns %v, want two", order, kinds)
		}
		for name := range kinds {
			if name == hashed || !strings.HasPrefix(name, hashed+"_") {
				t.Errorf("%q: column %s, want %s made distinct", order, name, hashed)
			}
		}
		mapping := reg.mapping()
		for name, keys := range mapping {
			if len(keys) != 1 {
				t.Errorf("%q: %s maps %v", order, name, keys)
			}
		}
	}
}

func TestClassifyNumber(t *testing.T) {
	tests := []struct {
		lit  string
		kind schema.Kind
	}{
		{"0", schema.KindInt}, {"-12", schema.KindInt}, {"9007199254740992", schema.KindInt},
		{"9007199254740993", schema.KindWideInt}, {"9223372036854775807", schema.KindWideInt},
		{"9223372036854775808", schema.KindBigNum}, {"1.5", schema.KindFloat}, {"1e3", schema.KindFloat},
		{"1E-3", schema.KindFloat}, {"1e400", schema.KindBigNum}, {"-0", schema.KindInt},
		{"999999999999999", schema.KindInt}, {"-999999999999999", schema.KindInt},
		{"-9223372036854775808", schema.KindWideInt}, {"-9223372036854775809", schema.KindBigNum},
	}
	for _, tt := range tests {
		k, num := classifyNumber([]byte(tt.lit))
		if k != tt.kind {
			t.Errorf("classifyNumber(%s) = %v, want %v", tt.lit, k, tt.kind)
		}
		if k == schema.KindFloat && math.IsInf(math.Float64frombits(num), 0) {
			t.Errorf("classifyNumber(%s) is infinite", tt.lit)
		}
	}
}

// FuzzFlatten checks that any JSON document flattens without panic, into
// safe column names and valid UTF-8 text.
func FuzzFlatten(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[{"Key":"k","Value":[1]}]`, `{"":{"":""}}`, `{"\ud800":"\udc00"}`, `[[]]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var p fastjson.Parser
		v, err := p.Parse(doc)
		if err != nil {
			return
		}
		reg := newKeyRegistry()
		r := newRows(1)
		newFlattener(reg).flatten(r, v)
		for _, c := range reg.cols {
			if !strings.HasPrefix(c.name, schema.FlattenPrefix) {
				t.Fatalf("column %q", c.name)
			}
		}
		seen := map[uint32]bool{}
		for _, a := range r.afs {
			if seen[uint32(a.col)] {
				t.Fatalf("column %d set twice in one record", a.col)
			}
			seen[uint32(a.col)] = true
			if !utf8.Valid(r.text(a.text)) {
				t.Fatalf("value %q is not valid UTF-8", r.text(a.text))
			}
		}
	})
}

// TestFlattenColumnLimit checks that keys past the column limit get no
// column and are counted, rather than making a file no writer can hold.
func TestFlattenColumnLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range MaxFlattenedColumns + 5 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"K%d":%d`, i, i)
	}
	b.WriteString("}")
	var p fastjson.Parser
	v, err := p.Parse(b.String())
	if err != nil {
		t.Fatal(err)
	}
	reg := newKeyRegistry()
	fl := newFlattener(reg)
	r := newRows(1)
	fl.flatten(r, v)
	if len(reg.cols) != MaxFlattenedColumns || fl.overflow != 5 || len(r.afs) != MaxFlattenedColumns {
		t.Errorf("columns %d, overflow %d, values %d", len(reg.cols), fl.overflow, len(r.afs))
	}
}

// FuzzShortInt checks the short-integer fast path against strconv.
func FuzzShortInt(f *testing.F) {
	for _, seed := range []string{"0", "-0", "12", "-", "", "999999999999999", "1234567890123456", "1.5", "0x1", "+1"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, lit string) {
		n, ok := shortInt([]byte(lit))
		if !ok {
			return
		}
		want, err := strconv.ParseInt(lit, 10, 64)
		if err != nil || n != want || n > 1<<53 || n < -(1<<53) {
			t.Fatalf("shortInt(%q) = %d, strconv %d, %v", lit, n, want, err)
		}
	})
}
