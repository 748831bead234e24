package pipeline

import (
	"bytes"
	"cmp"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

// typedDataset has a field of every type, for the conversion tests.
var typedDataset = &schema.Dataset{
	Name: "typed_test",
	Fields: []schema.Field{
		{Key: "deviceId", Column: "device_id", Type: schema.String},
		{Key: "rbacGroupId", Type: schema.Int32},
		{Key: "n", Column: "n", Type: schema.Int32},
		{Key: "big", Column: "big", Type: schema.Int64},
		{Key: "x", Column: "x", Type: schema.Double},
		{Key: "ok", Column: "ok", Type: schema.Bool},
		{Key: "t", Column: "t", Type: schema.Timestamp, Aliases: []string{"when"}},
		{Key: "l", Column: "l", Type: schema.StringList},
	},
	DeviceKey: "deviceId", GroupIDKey: "rbacGroupId", Partitioning: schema.BySnapshot,
}

// decodeTyped decodes one record of typedDataset.
func decodeTyped(t *testing.T, ds *schema.Dataset, line string) (*rows, *decoder, string) {
	t.Helper()
	d := newDecoder(ds, newKeyRegistry(), []string{""})
	r := newRows(len(ds.Fields))
	rej := d.decodeChunk(chunk{data: []byte(line), firstLine: 1}, r, nil)
	if len(rej) > 0 {
		return r, d, rej[0].reason
	}
	return r, d, ""
}

// cellOf renders field key of row 0 as the writer would write it.
func cellOf(ds *schema.Dataset, r *rows, key string) string {
	for i, f := range ds.Fields {
		if f.Key != key {
			continue
		}
		s := r.field(0, i)
		if f.Type == schema.StringList {
			vals := appendList(nil, r, s, 0)
			if vals[0].DefinitionLevel() == 0 {
				return "NULL"
			}
			var elems []string
			for _, v := range vals {
				if v.DefinitionLevel() == 2 {
					elems = append(elems, string(v.ByteArray()))
				}
			}
			return "[" + strings.Join(elems, "|") + "]"
		}
		v := fieldValue(r, s, f.Type)
		switch {
		case v.IsNull():
			return "NULL"
		case f.Type == schema.Timestamp:
			return time.UnixMicro(v.Int64()).UTC().Format(time.RFC3339Nano)
		}
		return v.String()
	}
	return "<no field>"
}

func TestTypedFields(t *testing.T) {
	tests := []struct {
		name, line, key, want string
		bad                   bool // counted and kept in extra_fields
	}{
		{"double", `"x":7.5`, "x", "7.5", false},
		{"double as text", `"x":" 7.5 "`, "x", "7.5", false},
		{"double integer", `"x":9`, "x", "9", false},
		{"double negative exponent", `"x":-1.5e-3`, "x", "-0.0015", false},
		{"double null", `"x":null`, "x", "NULL", false},
		{"double absent", ``, "x", "NULL", false},
		{"double text", `"x":"abc"`, "x", "NULL", true},
		{"double NaN", `"x":"NaN"`, "x", "NULL", true},
		{"double Inf", `"x":"Inf"`, "x", "NULL", true},
		{"double hex", `"x":"0x1p-2"`, "x", "NULL", true},
		{"double empty", `"x":""`, "x", "NULL", true},
		{"double bool", `"x":true`, "x", "NULL", true},
		{"double object", `"x":{}`, "x", "NULL", true},
		{"bool", `"ok":true`, "ok", "true", false},
		{"bool false", `"ok":false`, "ok", "false", false},
		{"bool text", `"ok":"True"`, "ok", "true", false},
		{"bool number", `"ok":0`, "ok", "false", false},
		{"bool yes", `"ok":"yes"`, "ok", "NULL", true},
		{"int32", `"n":2048`, "n", "2048", false},
		{"int32 text", `"n":"-12"`, "n", "-12", false},
		{"int32 too big", `"n":3000000000`, "n", "NULL", true},
		{"int32 fraction", `"n":1.5`, "n", "NULL", true},
		{"int64 beyond double", `"big":9007199254740993`, "big", "9007199254740993", false},
		{"int64 too big", `"big":18446744073709551616`, "big", "NULL", true},
		{"timestamp", `"t":"2021-01-11 09:47:58.854"`, "t", "2021-01-11T09:47:58.854Z", false},
		{"timestamp seven digits", `"t":"2021-01-11 09:47:58.8540000"`, "t", "2021-01-11T09:47:58.854Z", false},
		{"timestamp offset", `"t":"2021-01-11T09:47:58+01:00"`, "t", "2021-01-11T08:47:58Z", false},
		{"timestamp by alias", `"When":"2021-01-11"`, "t", "2021-01-11T00:00:00Z", false},
		{"timestamp epoch", `"t":1610358478`, "t", "NULL", true},
		{"timestamp garbage", `"t":"yesterday"`, "t", "NULL", true},
		{"list", `"l":["a","b"]`, "l", "[a|b]", false},
		{"list empty", `"l":[]`, "l", "[]", false},
		{"list null", `"l":null`, "l", "NULL", false},
		{"list in a string", `"l":"[\"C:\\\\x\"]"`, "l", `[C:\x]`, false},
		{"list of other values", `"l":[1,true,{"k":1},"",[2]]`, "l", `[1|true|{"k":1}||[2]]`, false},
		{"list escapes", `"l":["a\"b\u00e9"]`, "l", `[a"bé]`, false},
		{"list text", `"l":"C:\\x"`, "l", "NULL", true},
		{"list empty text", `"l":""`, "l", "NULL", true},
		{"list null element", `"l":["a",null]`, "l", "NULL", true},
		{"list object", `"l":{"a":1}`, "l", "NULL", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := `{"deviceId":"d1"`
			if tt.line != "" {
				line += "," + tt.line
			}
			line += `,"after":1}`
			r, d, reason := decodeTyped(t, typedDataset, line)
			if reason != "" {
				t.Fatalf("rejected: %s", reason)
			}
			if got := cellOf(typedDataset, r, tt.key); got != tt.want {
				t.Errorf("%s = %s, want %s", tt.key, got, tt.want)
			}
			extra := string(r.text(r.meta[0].extra))
			wantExtra := `{"after":1}`
			if tt.bad {
				wantExtra = "{" + tt.line + `,"after":1}`
			}
			if d.stats.unconverted != map[bool]int64{true: 1}[tt.bad] || extra != wantExtra {
				t.Errorf("unconverted %d, extra_fields %s; want %s", d.stats.unconverted, extra, wantExtra)
			}
		})
	}
}

// TestTypedRejectNotCounted: the values of a record set aside are not
// counted as unconverted; its whole line is in the rejects.
func TestTypedRejectNotCounted(t *testing.T) {
	_, d, reason := decodeTyped(t, typedDataset, `{"x":"abc","t":"never"}`)
	if reason != reasonNoDevice || d.stats.unconverted != 0 {
		t.Errorf("reason %q, unconverted %d", reason, d.stats.unconverted)
	}
}

func TestGroupInt32(t *testing.T) {
	for line, want := range map[string]bool{
		`{"deviceId":"d","rbacGroupId":2147483647}`: true,
		`{"deviceId":"d","rbacGroupId":2147483648}`: false,
		`{"deviceId":"d","rbacGroupId":"12"}`:       true,
	} {
		r, _, _ := decodeTyped(t, typedDataset, line)
		if r.meta[0].hasGroup != want {
			t.Errorf("%s: has group %v, want %v", line, r.meta[0].hasGroup, want)
		}
	}
}

func TestEventDate(t *testing.T) {
	ds := *typedDataset
	ds.Partitioning, ds.EventTimeKey = schema.ByEvent, "t"
	tests := []struct {
		line, reason string
		day          string
	}{
		{`{"deviceId":"d","t":"2026-11-30T23:59:59.9999999"}`, "", "2026-11-30"},
		{`{"deviceId":"d","t":"2026-11-30T23:30:00-01:00"}`, "", "2026-12-01"},
		{`{"deviceId":"d","t":"1969-12-31T23:00:00Z"}`, "", "1969-12-31"},
		{`{"deviceId":"d","t":"0001-01-01T00:00:00Z"}`, "", "0001-01-01"},
		{`{"deviceId":"d"}`, reasonNoEvent, ""},
		{`{"deviceId":"d","t":null}`, reasonNoEvent, ""},
		{`{"deviceId":"d","t":"soon","x":"abc"}`, reasonNoEvent, ""},
	}
	for _, tt := range tests {
		r, d, reason := decodeTyped(t, &ds, tt.line)
		if reason != tt.reason {
			t.Errorf("%s: reason %q, want %q", tt.line, reason, tt.reason)
			continue
		}
		if reason != "" {
			if r.len() != 0 || len(r.arena) != 0 || d.stats.unconverted != 0 {
				t.Errorf("%s: rejected row left %d rows, %d bytes, %d unconverted", tt.line, r.len(), len(r.arena), d.stats.unconverted)
			}
			continue
		}
		got := rowDate(&ds, time.Time{}, r.meta[0]).Format(time.DateOnly)
		if got != tt.day {
			t.Errorf("%s: day %s, want %s", tt.line, got, tt.day)
		}
	}
}

// TestStoredFormsSort checks that stored values compare as bytes the way
// the values compare, since rows are sorted on their bytes.
func TestStoredFormsSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ints := []int64{math.MinInt64, -1, 0, 1, math.MaxInt64}
	floats := []float64{math.Inf(-1), -math.MaxFloat64, -1, -math.SmallestNonzeroFloat64, 0, math.SmallestNonzeroFloat64, 1, math.MaxFloat64}
	for range 1000 {
		ints = append(ints, rng.Int64()-rng.Int64())
		floats = append(floats, rng.NormFloat64()*1e6)
	}
	for _, a := range ints {
		b := ints[rng.IntN(len(ints))]
		ea := storeParquet(nil, parquet.Int64Value(a), schema.Int64)
		eb := storeParquet(nil, parquet.Int64Value(b), schema.Int64)
		if bytes.Compare(ea, eb) != cmp.Compare(a, b) || storedInt(ea) != a {
			t.Fatalf("int64 %d vs %d", a, b)
		}
	}
	for _, a := range floats {
		b := floats[rng.IntN(len(floats))]
		ea := storeParquet(nil, parquet.DoubleValue(a), schema.Double)
		eb := storeParquet(nil, parquet.DoubleValue(b), schema.Double)
		if bytes.Compare(ea, eb) != cmp.Compare(a, b) || typedValue(ea, schema.Double).Double() != a {
			t.Fatalf("double %g vs %g", a, b)
		}
	}
}

// FuzzTypedFields puts any JSON value in each typed field: decoding never
// panics, a value either converts (and writes) or is counted and kept in
// extra_fields, and the row always writes.
func FuzzTypedFields(f *testing.F) {
	for _, s := range []string{`7.5`, `"2021-01-11 09:47:58.854"`, `["a",1,{"b":[]}]`, `"[\"x\"]"`, `true`, `null`, `"abc"`, `[null]`, `"["`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		if !json.Valid([]byte(value)) {
			return // one value, not several keys
		}
		for _, fld := range typedDataset.Fields[2:] {
			line := `{"deviceId":"d","` + fld.Key + `":` + value + `}`
			r, d, reason := decodeTyped(t, typedDataset, line)
			if reason != "" {
				continue // not JSON: set aside whole
			}
			cell := cellOf(typedDataset, r, fld.Key)
			extra := r.meta[0].extra
			if d.stats.unconverted == 1 {
				if cell != "NULL" || extra.kind == schema.KindNull {
					t.Fatalf("%s: unconverted value written as %s, extra %v", line, cell, extra)
				}
			} else if extra.kind != schema.KindNull {
				t.Fatalf("%s: converted value also in extra_fields: %s", line, r.text(extra))
			}
		}
	})
}
