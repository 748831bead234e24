package sample

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

// census counts what an export holds, so tests can ask whether each quirk
// is there.
type census map[string]int

func (c census) add(what string) { c[what]++ }

func (c census) keys() []string {
	var ks []string
	for k := range c {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// fileCensus notes the file-level quirks of f.
func fileCensus(c census, f storedFile) {
	if bytes.HasPrefix(f.text, []byte("\xef\xbb\xbf")) {
		c.add("file: bom")
	}
	if bytes.Contains(f.text, []byte("\r\n")) {
		c.add("file: crlf")
	}
	if bytes.HasSuffix(bytes.ReplaceAll(f.text, []byte("\r"), nil), []byte("\n\n")) {
		c.add("file: blank tail")
	}
	if f.members > 1 {
		c.add("file: multi-member")
	}
}

// recordCensus notes the shape of one record; it fails the test on a
// record that is not JSON or a value of a type FlattenKeys does not give.
func recordCensus(t *testing.T, c census, line []byte, strict bool) {
	t.Helper()
	var rec map[string]any
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&rec); err != nil {
		t.Fatalf("invalid record %.200s: %v", line, err)
	}
	if len(line) > 64<<10 {
		c.add("record: long line")
	}
	get := func(pascal string) (any, bool) {
		if v, ok := rec[pascal]; ok {
			return v, true
		}
		v, ok := rec[strings.ToLower(pascal[:1])+pascal[1:]]
		return v, ok
	}

	if _, ok := rec["DeviceId"]; !ok {
		c.add("record: camelCase")
	}
	if _, ok := get("IsOnboarded"); ok {
		c.add("record: undocumented column")
	}
	if v, ok := get("ComponentVersion"); ok && v == nil {
		c.add("record: documented field null")
	}
	if v, ok := get("ComponentType"); ok {
		c.add("type: " + v.(string))
	}
	switch v, ok := get("RbacGroupId"); {
	case !ok:
		c.add("group: missing")
	case v == json.Number("0"):
		c.add("group: 0")
	case v == "Unassigned" || v == "None":
		c.add("group: " + v.(string))
	default:
		if _, isText := v.(string); isText {
			c.add("group: digits as text")
		}
	}
	flattenedCensus(t, c, rec, get, strict)
}

func flattenedCensus(t *testing.T, c census, rec map[string]any, get func(string) (any, bool), strict bool) {
	t.Helper()
	v, ok := get("AdditionalFields")
	switch {
	case !ok:
		c.add("af: absent")
		return
	case v == nil:
		c.add("af: null")
		return
	case v == "":
		c.add("af: empty string")
		return
	}
	text, isText := v.(string)
	if !isText {
		t.Fatalf("AdditionalFields is not a string: %v", v)
	}
	var doc any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("AdditionalFields is not JSON: %v: %.200s", err, text)
	}

	obj := map[string]any{}
	switch d := doc.(type) {
	case map[string]any:
		c.add("af: object")
		obj = d
	case []any:
		if m, _ := d[0].(map[string]any); m["Key"] != nil && m["Value"] != nil {
			c.add("af: key/value pairs")
			for _, p := range d {
				m := p.(map[string]any)
				obj[m["Key"].(string)] = m["Value"]
			}
		} else {
			c.add("af: array of objects")
			for _, p := range d {
				for k, v := range p.(map[string]any) {
					obj[k] = v
				}
			}
		}
	}
	valueCensus(t, c, obj, strict)
}

func valueCensus(t *testing.T, c census, obj map[string]any, strict bool) {
	t.Helper()
	types := map[string]schema.Type{}
	keys, _ := FlattenKeys(schema.HardwareFirmware)
	for _, k := range keys {
		types[k.Name] = k.Type
	}
	if n := len(obj); n < 15 {
		t.Errorf("only %d additionalFields keys", n)
	}
	for k, v := range obj {
		switch x := v.(type) {
		case map[string]any:
			c.add("value: nested object")
		case json.Number:
			if x == bigInt {
				c.add("value: big integer")
			}
		case string:
			if k == mixedKey {
				c.add("value: int and string in one key")
			}
			if strings.ContainsAny(x, "\"\\\t") {
				c.add("value: escapes")
			}
		}
		if strict {
			want, ok := types[k]
			if !ok {
				t.Errorf("key %s is not in FlattenKeys", k)
			} else if got := jsonType(v); got != want {
				t.Errorf("key %s holds %v (%s), FlattenKeys says %s", k, v, got, want)
			}
		}
	}
}

func jsonType(v any) schema.Type {
	switch x := v.(type) {
	case bool:
		return schema.Bool
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			return schema.Double
		}
		return schema.Int64
	case string:
		return schema.String
	}
	return schema.Type(-1)
}

func takeCensus(t *testing.T, cfg Config, strict bool) census {
	t.Helper()
	dir := t.TempDir()
	s, err := Write(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := census{}
	for _, f := range readBack(t, dir, s.Files) {
		fileCensus(c, f)
		for _, l := range lines(f.text) {
			recordCensus(t, c, l, strict)
		}
	}
	return c
}

func TestQuirksPresent(t *testing.T) {
	// 20261130 is the seed of the bundled sample.
	for _, seed := range []int64{42, 20261130} {
		cfg := quirkyConfig()
		cfg.Seed = seed
		checkQuirks(t, takeCensus(t, cfg, false))
	}
}

func checkQuirks(t *testing.T, c census) {
	t.Helper()
	for _, want := range []string{
		"file: bom", "file: crlf", "file: blank tail", "file: multi-member",
		"record: long line", "record: camelCase", "record: undocumented column",
		"record: documented field null",
		"type: Hardware", "type: Bios", "type: Processor",
		"group: missing", "group: 0", "group: Unassigned", "group: None", "group: digits as text",
		"af: absent", "af: null", "af: empty string", "af: object", "af: key/value pairs",
		"af: array of objects",
		"value: nested object", "value: big integer", "value: int and string in one key",
		"value: escapes",
	} {
		if c[want] == 0 {
			t.Errorf("no %q in a quirky export; found %v", want, c.keys())
		}
	}
}

func TestQuirksAbsent(t *testing.T) {
	for _, layout := range []Layout{ByGroup, Mixed} {
		cfg := quirkyConfig()
		cfg.Quirks = false
		cfg.Layout = layout
		c := takeCensus(t, cfg, true)
		for _, k := range c.keys() {
			switch {
			case strings.HasPrefix(k, "type: "), k == "af: object",
				k == "group: 0", k == "group: Unassigned", k == "group: None":
			default:
				t.Errorf("layout %d: %q (%d) in an export without quirks", layout, k, c[k])
			}
		}
		if layout == ByGroup && (c["group: Unassigned"] == 0 || c["group: None"] == 0) {
			t.Errorf("layout %d: unassigned devices lack the text forms: %v", layout, c.keys())
		}
	}
}
