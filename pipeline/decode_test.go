package pipeline

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

// decodeOne decodes text as line 1 of input 0 and returns the rows, or the
// reject's reason.
func decodeOne(t testing.TB, text, hint string) (*rows, *decoder, string) {
	t.Helper()
	reg := newKeyRegistry()
	d := newDecoder(schema.HardwareFirmware, reg, []string{hint})
	r := newRows(len(schema.HardwareFirmware.Fields))
	rej := d.decodeChunk(chunk{data: []byte(text), firstLine: 1}, r, nil)
	if len(rej) > 0 {
		return r, d, rej[0].reason
	}
	return r, d, ""
}

// fieldText returns a documented field of row 0, or "<null>".
func fieldText(r *rows, key string) string {
	for i, f := range schema.HardwareFirmware.Fields {
		if f.Key == key {
			s := r.field(0, i)
			if s.kind == schema.KindNull {
				return "<null>"
			}
			return string(r.text(s))
		}
	}
	return "<no field>"
}

func TestDecodeLine(t *testing.T) {
	tests := []struct {
		name, line, hint string
		reject           string // reason prefix, "" for a record
		group            string // "" for the NULL partition
		device, extra    string
		af               string // raw additional_fields
	}{
		{name: "pascal case", line: `{"DeviceId":"d1","RbacGroupId":39,"AdditionalFields":"{\"A\":1}"}`,
			group: "39", device: "d1", extra: "<null>", af: `{"A":1}`},
		{name: "camel case", line: `{"deviceId":"d1","rbacGroupId":"39"}`, group: "39", device: "d1", extra: "<null>", af: "<null>"},
		{name: "any case", line: `{"DEVICEID":"d1","rbacgroupid":7}`, group: "7", device: "d1", extra: "<null>", af: "<null>"},
		{name: "unassigned string", line: `{"DeviceId":"d1","RbacGroupId":"Unassigned"}`, hint: "39",
			group: "", device: "d1", extra: `{"RbacGroupId":"Unassigned"}`, af: "<null>"},
		{name: "group from path", line: `{"DeviceId":"d1"}`, hint: "9", group: "9", device: "d1", extra: "<null>", af: "<null>"},
		{name: "null group from path", line: `{"DeviceId":"d1","RbacGroupId":null}`, hint: "9", group: "9", device: "d1", extra: "<null>", af: "<null>"},
		{name: "no group", line: `{"DeviceId":"d1"}`, group: "", device: "d1", extra: "<null>", af: "<null>"},
		{name: "undocumented key kept", line: `{"DeviceId":"d1","IsOnboarded":true,"X\"y":[1,2]}`,
			device: "d1", extra: `{"IsOnboarded":true,"X\"y":[1,2]}`, af: "<null>"},
		{name: "af as object", line: `{"DeviceId":"d1","AdditionalFields":{"A":1}}`, device: "d1", extra: "<null>", af: `{"A":1}`},
		{name: "af empty", line: `{"DeviceId":"d1","AdditionalFields":""}`, device: "d1", extra: "<null>", af: ""},
		{name: "af null", line: `{"DeviceId":"d1","AdditionalFields":null}`, device: "d1", extra: "<null>", af: "<null>"},
		{name: "bom and crlf", line: "\xef\xbb\xbf{\"DeviceId\":\"d1\"}\r\n", device: "d1", extra: "<null>", af: "<null>"},
		{name: "number device id", line: `{"DeviceId":12}`, device: "12", extra: "<null>", af: "<null>"},
		{name: "af number", line: `{"DeviceId":"d1","AdditionalFields":0}`, device: "d1", extra: "<null>", af: "0"},
		{name: "af boolean", line: `{"DeviceId":"d1","AdditionalFields":true}`, device: "d1", extra: "<null>", af: "true"},
		{name: "not json", line: `{"DeviceId":`, reject: reasonNotJSON},
		// fastjson reads these; they are not JSON, and would reach
		// extra_fields as such.
		{name: "number expression", line: `{"DeviceId":"d1","X":1-2}`, reject: reasonNotJSON},
		{name: "leading zero", line: `{"DeviceId":"d1","X":01}`, reject: reasonNotJSON},
		{name: "NaN", line: `{"DeviceId":"d1","X":NaN}`, reject: reasonNotJSON},
		{name: "bad number nested", line: `{"DeviceId":"d1","X":[.5]}`, reject: reasonNotJSON},
		{name: "raw control character", line: "{\"DeviceId\":\"d1\",\"X\":\"a\tb\"}", reject: reasonNotJSON},
		{name: "unknown escape", line: `{"DeviceId":"d1","X":"a\qb"}`, reject: reasonNotJSON},
		{name: "too deep", line: `{"DeviceId":"d1","X":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}`, reject: reasonTooDeep},
		{name: "array", line: `[1,2]`, reject: reasonNotObject},
		{name: "string", line: `"x"`, reject: reasonNotObject},
		{name: "no device", line: `{"DeviceName":"x"}`, reject: reasonNoDevice},
		{name: "empty device", line: `{"DeviceId":"  "}`, reject: reasonNoDevice},
		{name: "null device", line: `{"DeviceId":null}`, reject: reasonNoDevice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _, reason := decodeOne(t, tt.line, tt.hint)
			if tt.reject != "" {
				if !strings.HasPrefix(reason, tt.reject) {
					t.Fatalf("reason = %q, want %q", reason, tt.reject)
				}
				if r.len() != 0 {
					t.Fatalf("rejected line left %d rows", r.len())
				}
				return
			}
			if reason != "" {
				t.Fatalf("rejected: %s", reason)
			}
			m := r.meta[0]
			group := ""
			if m.hasGroup {
				group = strconv.FormatInt(m.group, 10)
			}
			if group != tt.group {
				t.Errorf("group = %q, want %q", group, tt.group)
			}
			if got := fieldText(r, "deviceId"); got != tt.device {
				t.Errorf("device = %q, want %q", got, tt.device)
			}
			extra := "<null>"
			if m.extra.kind != schema.KindNull {
				extra = string(r.text(m.extra))
			}
			if extra != tt.extra {
				t.Errorf("extra = %q, want %q", extra, tt.extra)
			}
			if got := fieldText(r, "additionalFields"); got != tt.af {
				t.Errorf("additional_fields = %q, want %q", got, tt.af)
			}
		})
	}
}

func TestDecodeInvalidUTF8(t *testing.T) {
	r, d, reason := decodeOne(t, "{\"DeviceId\":\"d\xff1\",\"DeviceName\":\"\\ud800x\"}", "")
	if reason != "" {
		t.Fatal(reason)
	}
	if d.stats.invalidUTF8 != 1 {
		t.Errorf("invalidUTF8 = %d, want 1", d.stats.invalidUTF8)
	}
	for _, key := range []string{"deviceId", "deviceName"} {
		if got := fieldText(r, key); !utf8.ValidString(got) {
			t.Errorf("%s = %q: not valid UTF-8", key, got)
		}
	}
}

func TestDecodeLineNumbers(t *testing.T) {
	reg := newKeyRegistry()
	d := newDecoder(schema.HardwareFirmware, reg, []string{""})
	r := newRows(len(schema.HardwareFirmware.Fields))
	text := "{\"DeviceId\":\"a\"}\n\n   \nbad\r\n{\"DeviceId\":\"b\"}\n\n"
	rej := d.decodeChunk(chunk{data: []byte(text), firstLine: 10}, r, nil)
	if r.len() != 2 || r.meta[0].line != 10 || r.meta[1].line != 14 {
		t.Fatalf("rows %d, lines %v", r.len(), r.meta)
	}
	if len(rej) != 1 || rej[0].line != 13 || string(rej[0].raw) != "bad" {
		t.Fatalf("rejects %+v", rej)
	}
	if d.stats.records != 3 {
		t.Errorf("records = %d, want 3 (blank lines are not records)", d.stats.records)
	}
}

// FuzzDecodeLine checks that no line panics the decoder, that every line is
// a row or a reject, and that every text a row holds is valid UTF-8.
func FuzzDecodeLine(f *testing.F) {
	for _, s := range []string{
		`{"DeviceId":"d","RbacGroupId":1,"AdditionalFields":"{\"A\":1,\"B\":[1,{\"c\":2}],\"C\":1e999}"}`,
		`{"deviceId":"d","additionalFields":[{"Key":"k","Value":"v"}]}`,
		`{"DeviceId":"d","AdditionalFields":"[1,2"}`, `{}`, `[]`, "\xff", `{"DeviceId":"\u0000"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\n") {
			return
		}
		r, d, reason := decodeOne(t, line, "5")
		if strings.TrimSpace(strings.TrimPrefix(strings.TrimRight(line, "\r"), "\xef\xbb\xbf")) == "" {
			return
		}
		if (reason == "") != (r.len() == 1) || d.stats.records != 1 {
			t.Fatalf("line is neither one row nor one reject: rows %d, reason %q", r.len(), reason)
		}
		if r.len() == 1 && !utf8.Valid(r.arena) {
			t.Fatalf("row holds invalid UTF-8")
		}
	})
}

// TestDecodeExtraIsJSON checks that undocumented values with control
// characters are kept as valid JSON, which fastjson's own quoting is not.
func TestDecodeExtraIsJSON(t *testing.T) {
	r, _, reason := decodeOne(t, `{"DeviceId":"d","RbacGroupId":"1\u00002","X":{"a\u0007":["\u000b",1,null]}}`, "")
	if reason != "" {
		t.Fatal(reason)
	}
	extra := r.text(r.meta[0].extra)
	if !json.Valid(extra) {
		t.Fatalf("extra_fields %q is not valid JSON", extra)
	}
	want := `{"RbacGroupId":"1\u00002","X":{"a\u0007":["\u000b",1,null]}}`
	if string(extra) != want {
		t.Errorf("extra_fields = %s, want %s", extra, want)
	}
}
