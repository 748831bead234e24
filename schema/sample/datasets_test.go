package sample

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

// typedConfig is a small quirky export of dataset d.
func typedConfig(d *schema.Dataset, quirks bool) Config {
	return Config{Dataset: d, Records: 900, Files: 6, Groups: 4, Unassigned: true, Seed: 11, Quirks: quirks}
}

var (
	textForm   = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$`)
	sevenForm  = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{7}$`)
	isoForm    = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$`)
	offsetForm = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+02:00$`)
)

// typedCensus notes the forms the typed values of one record take, and
// fails on a key that is no documented field of d (nor the profile's
// undocumented one) and on a value of the wrong JSON type without a quirk.
func typedCensus(t *testing.T, c census, d *schema.Dataset, p *profile, line []byte, quirks bool) {
	t.Helper()
	var rec map[string]any
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&rec); err != nil {
		t.Fatalf("invalid record %.200s: %v", line, err)
	}
	if _, ok := rec["DeviceId"]; !ok {
		c.add("camelCase")
	}
	for k, v := range rec {
		f := d.Field(k)
		if f != nil && f.Key == d.GroupIDKey {
			continue // the group's forms are the hardware tests'
		}
		switch {
		case f == nil && strings.EqualFold(k, p.undocKey):
			c.add("undocumented")
			continue
		case f == nil && p.undocKey == "" && strings.EqualFold(k, extraColumn):
			c.add("undocumented")
			continue
		case f == nil:
			t.Fatalf("key %s is no documented field of %s", k, d.Name)
		case !f.Matches(k) || (k != f.Key && !strings.EqualFold(k, f.Key)):
			c.add("doc names")
		}
		c.add("type " + f.Type.String())
		if v == nil {
			c.add("null " + f.Type.String())
			continue
		}
		form := valueForm(f.Type, v)
		c.add(form)
		if !quirks && strings.HasPrefix(form, "bad") {
			t.Errorf("%s: %s = %v (%s) without quirks", d.Name, k, v, form)
		}
	}
}

func valueForm(t schema.Type, v any) string {
	s, isText := v.(string)
	switch t {
	case schema.Timestamp:
		switch {
		case !isText:
			return "bad time"
		case textForm.MatchString(s):
			return "time text"
		case sevenForm.MatchString(s):
			return "time seven digits"
		case isoForm.MatchString(s):
			return "time ISO"
		case offsetForm.MatchString(s):
			return "time offset"
		}
		return "bad time text"
	case schema.StringList:
		switch l, ok := v.([]any); {
		case ok && len(l) == 0:
			return "list empty"
		case ok:
			return "list"
		case isText && strings.HasPrefix(s, "["):
			return "list as text"
		}
		return "bad list"
	case schema.Double, schema.Int32, schema.Int64:
		if _, ok := v.(json.Number); ok {
			return "number"
		}
		return "bad number"
	case schema.Bool:
		switch {
		case isText:
			return "bool as text"
		case v == true || v == false:
			return "bool"
		}
		return "bad bool"
	case schema.String:
		if isText && strings.ContainsAny(s, "\"\t") {
			return "escapes"
		}
		if !isText {
			return "bad string"
		}
	}
	return "ok"
}

// TestEveryDataset generates each dataset with and without quirks and
// checks that its records use the documented keys only and that the
// quirks that apply to it are there.
func TestEveryDataset(t *testing.T) {
	if got := Supported(); len(got) != len(schema.Datasets()) {
		t.Errorf("Supported() = %v, want every dataset", got)
	}
	for _, d := range schema.Datasets() {
		if d == schema.HardwareFirmware {
			continue
		}
		t.Run(d.Name, func(t *testing.T) {
			p := profiles[d.Name]
			var plain census
			for _, quirks := range []bool{false, true} {
				c := census{}
				recs := streamed(t, typedConfig(d, quirks))
				if len(recs) != 900 {
					t.Fatalf("%d records", len(recs))
				}
				for _, r := range recs {
					typedCensus(t, c, d, p, r, quirks)
				}
				if quirks {
					checkTypedQuirks(t, c, plain, d, p)
				} else if plain = c; c["camelCase"]+c["undocumented"]+c["doc names"]+c["escapes"] > 0 {
					t.Errorf("quirks without Quirks: %v", c)
				}
			}
		})
	}
}

// checkTypedQuirks checks that c, the census of a quirky export, holds the
// quirks of the types the same export without quirks, plain, holds.
func checkTypedQuirks(t *testing.T, c, plain census, d *schema.Dataset, p *profile) {
	t.Helper()
	want := []string{"camelCase", "undocumented", "escapes"}
	has := map[schema.Type]bool{}
	for _, f := range d.Fields {
		has[f.Type] = plain["type "+f.Type.String()] > 0
	}
	if has[schema.Timestamp] {
		want = append(want, "time ISO", "time seven digits", "time offset", "bad time text")
	}
	if has[schema.StringList] {
		want = append(want, "list", "list empty", "list as text")
	}
	if p.numberKey != "" {
		want = append(want, "number", "bad number", "null "+d.Field(p.numberKey).Type.String())
	}
	if has[schema.Bool] {
		want = append(want, "bool", "bool as text")
	}
	if p.docNames != nil {
		want = append(want, "doc names")
	}
	for _, w := range want {
		if c[w] == 0 {
			t.Errorf("no %q in a quirky export; found %v", w, c.keys())
		}
	}
}

// TestDatasetsDeterministic: the same config yields the same bytes, written
// at once or one file at a time.
func TestDatasetsDeterministic(t *testing.T) {
	for _, d := range schema.Datasets() {
		cfg := typedConfig(d, true)
		a, b := streamed(t, cfg), streamed(t, cfg)
		if !bytes.Equal(bytes.Join(a, nil), bytes.Join(b, nil)) {
			t.Errorf("%s: two runs differ", d.Name)
		}
	}
}
