package pipeline

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
	"github.com/mdvm-parquet/mdvm-parquet/schema/sample"
)

func TestObjScanner(t *testing.T) {
	tests := []struct {
		name, src string
		want      string // the pairs read, then "end" or "bail"
	}{
		{name: "empty", src: ` { } `, want: "end"},
		{name: "scalars", src: `{"a":"x","b":-1.5e3,"c":true,"d":false,"e":null}`,
			want: `a=string:x b=number:-1.5e3 c=true:true d=false:false e=null:null end`},
		{name: "space everywhere", src: "\t{ \"a\" :\r\n1 , \"b\":\"\" }\n", want: `a=number:1 b=string: end`},
		{name: "escaped string", src: `{"a":"x\"y\\"}`, want: `a=string(esc):x\"y\\ end`},
		{name: "even backslashes end a string", src: `{"a":"x\\\\","b":1}`, want: `a=string(esc):x\\\\ b=number:1 end`},
		{name: "nested", src: `{"a":[1,{"b":"]}"}],"c":{}}`, want: `a=array c=object end`},
		{name: "escaped key", src: `{"a\"b":1}`, want: "bail"},
		{name: "trailing comma", src: `{"a":1,}`, want: "a=number:1 bail"},
		{name: "tail", src: `{"a":1} x`, want: "bail"},
		{name: "missing colon", src: `{"a" 1}`, want: "bail"},
		{name: "leading zero", src: `{"a":01}`, want: "bail"},
		{name: "number runs on", src: `{"a":1.2.3}`, want: "bail"},
		{name: "bare minus", src: `{"a":-}`, want: "bail"},
		{name: "NaN", src: `{"a":NaN}`, want: "bail"},
		{name: "unterminated string", src: `{"a":"x}`, want: "bail"},
		{name: "control character", src: "{\"a\":\"x\ty\"}", want: "bail"},
		{name: "escaped control character", src: "{\"a\":\"x\\\ty\"}", want: "bail"},
		{name: "lenient nested number", src: `{"a":[1-2]}`, want: "bail"},
		{name: "unterminated object", src: `{"a":1`, want: "bail"},
		{name: "bad nested", src: `{"a":[1,}`, want: "bail"},
		{name: "too deep", src: `{"a":` + strings.Repeat("[", maxScanDepth+1) + strings.Repeat("]", maxScanDepth+1) + `}`, want: "bail"},
		{name: "array", src: `[1]`, want: "bail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var nested fastjson.Parser
			s := objScanner{nested: &nested}
			if !s.open([]byte(tt.src), -1) {
				if tt.want != "bail" {
					t.Fatalf("open refused %q", tt.src)
				}
				return
			}
			var got []string
			for {
				k, v, st := s.next()
				if st == scanEnd {
					got = append(got, "end")
					break
				}
				if st == scanBail {
					got = append(got, "bail")
					break
				}
				got = append(got, k2s(k, v))
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("read %s, want %s", g, tt.want)
			}
		})
	}
}

func k2s(k []byte, v jval) string {
	switch {
	case v.node != nil:
		return fmt.Sprintf("%s=%s", k, v.t)
	case v.esc:
		return fmt.Sprintf("%s=%s(esc):%s", k, v.t, v.text)
	}
	return fmt.Sprintf("%s=%s:%s", k, v.t, v.text)
}

func TestAppendUnescaped(t *testing.T) {
	tests := []struct {
		raw, want string
		ok        bool
	}{
		{raw: `plain`, want: "plain", ok: true},
		{raw: `a\"b\\c\/d\b\f\n\r\t`, want: "a\"b\\c/d\b\f\n\r\t", ok: true},
		{raw: `\u00e9\u20AC\u0000`, want: "é€\x00", ok: true},
		{raw: `\ud83d\ude00x\uD83D\uDE00`, want: "😀x😀", ok: true},
		{raw: `\ud800`, ok: false},
		{raw: `\ud800\u0041`, ok: false}, // fastjson joins these into one U+FFFD
		{raw: `\ude00\ud83d`, ok: false},
		{raw: `\ud83d\ude0`, ok: false},
		{raw: `\u12`, ok: false},
		{raw: `\u12g4`, ok: false},
		{raw: `\x`, ok: false},
		{raw: `end\`, ok: false},
	}
	for _, tt := range tests {
		got, ok := appendUnescaped(nil, []byte(tt.raw))
		if ok != tt.ok || (ok && string(got) != tt.want) {
			t.Errorf("appendUnescaped(%q) = %q, %v; want %q, %v", tt.raw, got, ok, tt.want, tt.ok)
		}
	}
}

// TestScannerTakesExportLines checks that the scanner, not fastjson, reads
// the lines of every dataset's generated export and their additionalFields:
// were it to give up on them, decoding would be right but slow.
func TestScannerTakesExportLines(t *testing.T) {
	for _, ds := range schema.Datasets() {
		t.Run(ds.Name, func(t *testing.T) {
			lines := sampleLines(t, ds, 200, false)
			d := newDecoder(ds, newKeyRegistry(), []string{""})
			for i, line := range bytes.Split(bytes.TrimSpace(lines), []byte("\n")) {
				dst := newRows(len(ds.Fields))
				if _, ok := d.scanLine(0, int64(i+1), line, dst); !ok {
					t.Fatalf("scanner gave up on line %d: %s", i+1, line)
				}
				if d.flat < 0 || dst.len() == 0 || dst.field(0, d.flat).kind != schema.KindString {
					continue
				}
				if d.quotes.usable && d.fl.sc.quotes == nil {
					t.Fatalf("the document's quote index fell out of step on line %d: %s", i+1, line)
				}
				if _, _, done := d.fl.scan(dst, dst.field(0, d.flat), nil); !done {
					t.Fatalf("scanner gave up on the document of line %d: %s", i+1, dst.text(dst.field(0, d.flat)))
				}
			}
		})
	}
}

func sampleLines(t testing.TB, ds *schema.Dataset, n int, quirks bool) []byte {
	return generate(t, sample.Config{Dataset: ds, Records: n, Groups: 5, Unassigned: true, Seed: 3, Quirks: quirks})
}

// generate returns the records cfg generates, a line each, generated at
// 2026-11-30T06:00:00Z unless cfg says otherwise.
func generate(t testing.TB, cfg sample.Config) []byte {
	t.Helper()
	if cfg.GeneratedTime.IsZero() {
		cfg.GeneratedTime = time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	}
	var buf bytes.Buffer
	err := sample.Records(cfg, func(rec []byte) error {
		buf.Write(rec)
		buf.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decoded is everything a decoder made of some lines, with column ids
// replaced by column names so that two registries compare.
type decoded struct {
	Rows     []string
	Rejects  []string
	Stats    decodeStats
	Overflow int64
	Columns  map[string]string
}

func decodeAll(ds *schema.Dataset, data []byte, slowOnly bool) decoded {
	reg := newKeyRegistry()
	d := newDecoder(ds, reg, []string{"7"})
	d.slowOnly = slowOnly
	r := newRows(len(ds.Fields))
	rej := d.decodeChunk(chunk{data: data, firstLine: 1}, r, nil)
	var out decoded
	for _, j := range rej {
		out.Rejects = append(out.Rejects, fmt.Sprintf("%d %s %q", j.line, j.reason, j.raw))
	}
	snap := reg.snapshot()
	names := map[uint32]string{}
	for name, id := range snap.ids {
		names[id] = name
	}
	for i := 0; i < r.len(); i++ {
		m := r.meta[i]
		row := fmt.Sprintf("line %d group %v/%d date %d extra %s", m.line, m.hasGroup, m.group, m.date, spanText(r, m.extra))
		for f := range ds.Fields {
			row += " | " + spanText(r, r.field(i, f))
		}
		for _, a := range r.afs[m.afLo:m.afHi] {
			row += fmt.Sprintf(" | %s=%v/%d/%s", names[uint32(a.col)], a.kind, a.num, spanText(r, a.text))
		}
		out.Rows = append(out.Rows, row)
	}
	out.Stats, out.Overflow = d.stats, d.fl.overflow
	out.Columns = map[string]string{}
	for name, k := range snap.kinds {
		out.Columns[name] = k.String()
	}
	return out
}

func spanText(r *rows, s span) string {
	if s.kind == schema.KindNull {
		return "<null>"
	}
	return fmt.Sprintf("%v:%q", s.kind, r.text(s))
}

// FuzzScanMatchesParse checks that the scanner decodes every line exactly
// as fastjson does, and that where it gives up nothing of its try remains.
func FuzzScanMatchesParse(f *testing.F) {
	for _, s := range []string{
		`{"DeviceId":"d","RbacGroupId":1,"AdditionalFields":"{\"A\":1,\"B\":[1,{\"c\":2}],\"C\":1e999,\"D\":\"x\\\"y\"}"}`,
		`{"deviceId":"d","additionalFields":[{"Key":"k","Value":"v"}]}`,
		`{"DeviceId":"d","AdditionalFields":{"A":"\ud83d\ude00"}}`,
		`{"DeviceId":"d\ud800","X":"\u00e9","deviceid":"e","AdditionalFields":"{\"a\":1,\"A\":2.5,\"b\":true}"}`,
		`{"DeviceId":"d","AdditionalFields":"{\"A\":01}"}`,
		`{"DeviceId":"d","AdditionalFields":"[1,2"}`, `{}`, `[]`, "\xff", `{"DeviceId":"\u0000"}`,
		`{"DeviceId":"d","RbacGroupId":"Unassigned","RbacGroupId":5,"CvssScore":"7.5","DiskPaths":["a",1],"IsCompliant":"true"}`,
		`{"DeviceId":"d","FirstSeenTimestamp":"2021-01-11 09:47:58.854","RegistryPaths":"[\"k\"]","CvssScore":1e400}`,
		`{"DeviceId":"d","AdditionalFields":"{\"A\":{\"b\":[1]},\"B\":\"\\u00e9\",\"C\":\"\\ud83d\\ude00\"}"}`,
		`{"DeviceId":"d","AdditionalFields":"  {\"A\":1} "} `,
		`{"DeviceId":"d","AdditionalFields":" {\"A\":1} x"}`,
		`{"DeviceId":"d","EventTimestamp":"2026-11-29T10:00:00Z","CveId":"CVE-1"}`,
		`{"DeviceId":"d","AdditionalFields":0}`, `{"DeviceId":"d","AdditionalFields":true,"X":1-2}`,
		"{\"DeviceId\":\"d\",\"X\":\"a\tb\",\"AdditionalFields\":\"{\\\"A\\\":\\\"\\tx\\\"}\"}",
	} {
		f.Add(s, uint8(0))
	}
	for i, ds := range schema.Datasets() {
		f.Add(string(sampleLines(f, ds, 3, true)), uint8(i))
	}
	f.Fuzz(func(t *testing.T, data string, which uint8) {
		all := schema.Datasets()
		ds := all[int(which)%len(all)]
		fast := decodeAll(ds, []byte(data), false)
		slow := decodeAll(ds, []byte(data), true)
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("scanner and fastjson differ on %q (%s)\nscanner: %+v\nfastjson: %+v", data, ds.Name, fast, slow)
		}
	})
}

func TestScanMatchesParseOnSamples(t *testing.T) {
	for _, ds := range schema.Datasets() {
		for _, quirks := range []bool{false, true} {
			data := sampleLines(t, ds, 300, quirks)
			fast, slow := decodeAll(ds, data, false), decodeAll(ds, data, true)
			if !reflect.DeepEqual(fast, slow) {
				for i := range min(len(fast.Rows), len(slow.Rows)) {
					if fast.Rows[i] != slow.Rows[i] {
						t.Errorf("%s (quirks %v): row %d differs\nscanner:  %s\nfastjson: %s", ds.Name, quirks, i, fast.Rows[i], slow.Rows[i])
						break
					}
				}
				t.Errorf("%s (quirks %v): scanner and fastjson differ", ds.Name, quirks)
			}
		}
	}
}

// FuzzAppendUnescaped checks that what appendUnescaped decodes, it decodes
// as fastjson does, and that it leaves what dst held.
func FuzzAppendUnescaped(f *testing.F) {
	for _, s := range []string{`plain`, `a\"b\\c\/d\b\f\n\r\t`, `\u00e9xxxxxxxx\u20AC`, `\ud83d\ude00`, `01234567\"`, `\u12`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		lit := `"` + raw + `"`
		if end, _, ok := scanString([]byte(lit), 1); !ok || end != len(lit)-1 {
			return // not the contents of one string
		}
		got, ok := appendUnescaped([]byte("prefix"), []byte(raw))
		if !bytes.HasPrefix(got, []byte("prefix")) {
			t.Fatalf("dst's bytes changed: %q", got)
		}
		if !ok {
			return
		}
		v, err := fastjson.Parse(lit)
		if err != nil {
			t.Fatalf("fastjson refuses %s: %v", lit, err)
		}
		if want := v.GetStringBytes(); string(got[len("prefix"):]) != string(want) {
			t.Fatalf("appendUnescaped(%q) = %q, fastjson %q", raw, got[len("prefix"):], want)
		}
	})
}

// TestScannerTakesObjectDocument checks that a line whose additionalFields
// is an object, not a string, is the scanner's too, and flattens.
func TestScannerTakesObjectDocument(t *testing.T) {
	ds := schema.HardwareFirmware
	d := newDecoder(ds, newKeyRegistry(), []string{""})
	line := []byte(`{"DeviceId":"d","AdditionalFields":{"A":1,"B":[true]},"X":{"y":2}}`)
	for i := 1; i <= 2; i++ { // the second time, with the keys registered
		dst := newRows(len(ds.Fields))
		reason, ok := d.scanLine(0, int64(i), line, dst)
		if !ok || reason != "" {
			t.Fatalf("line %d: scanner took it %v, reason %q", i, ok, reason)
		}
		if got := len(dst.afs); got != 2 {
			t.Errorf("line %d: %d flattened values, want 2", i, got)
		}
	}
}

// TestQuoteIndex checks that documents whose quotes stringInto indexed are
// flattened as without the index: nested values between strings, quotes
// written as \u0022, and documents the index cannot serve (an escaped quote
// or a backslash inside a value, a control character).
func TestQuoteIndex(t *testing.T) {
	// The documents as the line holds them, escaped.
	docs := []string{
		`{\"A\":\"x\",\"B\":1,\"C\":true}`,
		`{\"A\":{\"in\":\"side\",\"deep\":[\"a\",\"b\"]},\"B\":\"after\",\"C\":[\"q\"]}`,
		`{\"A\":[\"x\",{\"y\":\"z\"}],\"B\":\"w\",\"C\":{\"D\":\"E\"}}`,
		`{\u0022A\u0022:\u0022x\u0022,\"B\":\"y\"}`,
		`{\"A\":\"say \\\"hi\\\"\",\"B\":\"b\"}`,
		`{\"A\":\"back\\\\slash\",\"B\":\"b\"}`,
		`{\"A\":\"line\\nbreak\",\"B\":\"b\"}`,
		`{\"A\":\"x\",\n\"B\":\"b\"}`,
		`{\"A\":\"\",\"B\":\"\"}`,
		`{}`,
	}
	for _, doc := range docs {
		t.Run(doc, func(t *testing.T) {
			line := `{"DeviceId":"d1","AdditionalFields":"` + doc + `"}`
			indexed := decodeAll(schema.HardwareFirmware, []byte(line+"\n"), false)
			slow := decodeAll(schema.HardwareFirmware, []byte(line+"\n"), true)
			if g, w := fmt.Sprint(indexed), fmt.Sprint(slow); g != w {
				t.Fatalf("with the quote index:\n%s\nwith fastjson:\n%s", g, w)
			}

			// Where the index serves, the scanner reads the whole document
			// with it, in step to the end.
			d := newDecoder(schema.HardwareFirmware, newKeyRegistry(), []string{""})
			dst := newRows(len(schema.HardwareFirmware.Fields))
			if _, ok := d.scanLine(0, 1, []byte(line), dst); !ok || !d.quotes.usable {
				return
			}
			if _, _, done := d.fl.scan(dst, dst.field(0, d.flat), &d.quotes); !done || d.fl.sc.quotes == nil {
				t.Fatalf("scanned with the index: done %v, in step %v", done, d.fl.sc.quotes != nil)
			}
		})
	}
}

// The quote index of a document the scanner read must not serve the
// document of a later line that fastjson reads, even when that document
// lies at the same place in its chunk's arena and has the same length.
func TestQuoteIndexOfEarlierLine(t *testing.T) {
	d := newDecoder(schema.HardwareFirmware, newKeyRegistry(), []string{""})
	lines := []string{
		`{"DeviceId":"d00001","DeviceName":"abcdef","AdditionalFields":"{\"a\":\"xxxx\"}"}`,
		// The lone surrogate sends the line to fastjson before its document.
		`{"DeviceId":"e00001","DeviceName":"\ud800","AdditionalFields":"{\"a\":\"x\\\"y\"}"}`,
	}
	var got string
	for _, line := range lines {
		r := newRows(len(schema.HardwareFirmware.Fields))
		if rej := d.decodeChunk(chunk{data: []byte(line), firstLine: 1}, r, nil); len(rej) > 0 {
			t.Fatalf("rejected: %s", rej[0].reason)
		}
		got = string(r.text(r.afs[0].text))
	}
	if got != `x"y` {
		t.Errorf("af a = %q, want %q", got, `x"y`)
	}
}
