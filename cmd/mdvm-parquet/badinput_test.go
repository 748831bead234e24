package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Inputs made for one case each: records built from a template, gzip
// streams cut or damaged on purpose.

// caseSnapshot is the --snapshot-time of the generated cases.
var caseSnapshot = time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)

// rec returns one export record line with the documented keys in
// PascalCase; fields overrides or adds keys (raw JSON values), or removes
// them when the value is "".
func rec(n int, fields ...string) string {
	ms := []member{
		{"DeviceId", raw(fmt.Sprintf("%q", fmt.Sprintf("dev-%04d", n)))},
		{"RbacGroupId", raw(fmt.Sprint(n % 3))},
		{"RbacGroupName", raw(fmt.Sprintf("%q", fmt.Sprintf("Group %d", n%3)))},
		{"DeviceName", raw(fmt.Sprintf("%q", fmt.Sprintf("host-%d.contoso.com", n)))},
		{"ComponentType", raw(`"Bios"`)},
		{"Manufacturer", raw(`"acme"`)},
		{"ComponentName", raw(fmt.Sprintf("%q", fmt.Sprintf("fw_%d", n)))},
		{"ComponentVersion", raw(`"1.0"`)},
		{"AdditionalFields", raw(jsonString(fmt.Sprintf(`{"SystemSKU":"SKU-%d","MemoryGB":%d,"SecureBootEnabled":%t}`, n, 8*(n%4+1), n%2 == 0)))},
	}
	for i := 0; i+1 < len(fields); i += 2 {
		k, v := fields[i], fields[i+1]
		found := false
		for j := range ms {
			if ms[j].key == k {
				ms[j].val, found = raw(v), true
			}
		}
		if !found {
			ms = append(ms, member{k, raw(v)})
		}
	}
	var b strings.Builder
	b.WriteByte('{')
	first := true
	for _, m := range ms {
		if len(m.val) == 0 {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&b, "%q:%s", m.key, m.val)
	}
	b.WriteByte('}')
	return b.String()
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// jsonString returns s as a JSON string literal.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// lines joins records into a JSON-lines file.
func lines(recs ...string) []byte { return []byte(strings.Join(recs, "\n") + "\n") }

// records returns lines of records first..first+n-1.
func records(first, n int) []string {
	var rs []string
	for i := first; i < first+n; i++ {
		rs = append(rs, rec(i))
	}
	return rs
}

// gz compresses data as one gzip member.
func gz(data []byte) []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	zw.Write(data)
	zw.Close()
	return b.Bytes()
}

// assertNothingPublished fails when a failed run left anything in the
// dataset folder, or staged or half-published files behind.
func assertNothingPublished(t *testing.T, lake string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(lake, dataset)); !os.IsNotExist(err) {
		var names []string
		filepath.WalkDir(filepath.Join(lake, dataset), func(p string, d fs.DirEntry, _ error) error {
			names = append(names, p)
			return nil
		})
		t.Errorf("a failed run left the dataset folder: %v", names)
	}
	for _, dir := range []string{"_staging", "_journal"} {
		filepath.WalkDir(filepath.Join(lake, dir), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				t.Errorf("a failed run left %s", p)
			}
			return nil
		})
	}
}

// assertOneLine fails unless stderr holds exactly one line: the error.
func assertOneLine(t *testing.T, res result) {
	t.Helper()
	if n := strings.Count(strings.TrimRight(res.stderr, "\n"), "\n"); n != 0 || res.stderr == "" {
		t.Errorf("want a one-line error on stderr, got:\n%s", res.stderr)
	}
}

// rejectLine is a line of a rejects file.
type rejectLine struct {
	SourceFile string `json:"source_file"`
	Line       int64  `json:"line"`
	Reason     string `json:"reason"`
	Raw        string `json:"raw"`
}

// readRejects reads every rejects file of the lake.
func readRejects(t *testing.T, lake string) []rejectLine {
	t.Helper()
	var out []rejectLine
	filepath.WalkDir(filepath.Join(lake, "_rejected"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if !strings.HasSuffix(p, ".jsonl") {
			t.Errorf("rejects folder holds %s", p)
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			var r rejectLine
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			out = append(out, r)
		}
		return sc.Err()
	})
	return out
}

// hugeNotes is the length of the Notes value of hugeRecord.
const hugeNotes = 20 << 20

// hugeDoc is the additionalFields text of hugeRecord.
func hugeDoc() string {
	return `{"SystemSKU":"big","Notes":"` + strings.Repeat("0123456789abcdef", hugeNotes/16) + `"}`
}

// hugeRecord is a record line of more than 20 MB. Its additionalFields
// text needs no escaping beyond its quotes.
func hugeRecord() string {
	return rec(2, "AdditionalFields", `"`+strings.ReplaceAll(hugeDoc(), `"`, `\"`)+`"`)
}

// widenRecords is how many records of 100 KiB precede the one that
// widens a type: two row groups of 1 MiB in each of three partitions.
const widenRecords = 60

// badRecords is a file whose lines 2, 4, 5 and 6 cannot be rows.
var badRecords = lines(
	rec(1),
	`{"DeviceId": "dev-x", not json`,
	rec(2),
	rec(3, "DeviceId", ""),
	`["an", "array"]`,
	rec(4, "DeviceId", `"   "`),
	rec(5),
)

// failedRecords is the records line of a failed run's summary.
var failedRecords = regexp.MustCompile(`(?m)^\s+records\s+(\d+ read = \d+ rows published \+ \d+ rejected \+ \d+ not published)$`)

// inputCase is one run of convert on generated input.
type inputCase struct {
	name  string
	files map[string][]byte        // below the input folder, bytes as stored
	build func() map[string][]byte // makes files, for big inputs made only when run
	stdin []byte                   // with paths "-"
	paths []string                 // below the input folder, or "-"; defaults to the folder itself
	args  []string                 // flags; "{in}" stands for the input folder

	noSnapshot bool      // leave out the --snapshot-time every other case gets
	snapshot   time.Time // the snapshot time the run must take; defaults to caseSnapshot
	skipOracle bool      // check that the readers agree, not each cell

	code  int
	err   []string // substrings of stderr's last line
	check func(t *testing.T, lake string, res result)
}

func TestConvertInputs(t *testing.T) {
	crlf := []byte(strings.ReplaceAll(string(lines(records(1, 3)...)), "\n", "\r\n"))
	multi := append(gz(lines(records(1, 2)...)), gz(lines(records(3, 2)...))...)
	multi = append(multi, gz(nil)...) // an empty member, as some writers end
	multi = append(multi, gz(lines(records(5, 1)...))...)

	cases := []inputCase{{
		name:  "rejects over the limit fail naming file:line",
		files: map[string][]byte{"a.json.gz": gz(badRecords), "b.json.gz": gz(lines(records(10, 3)...))},
		code:  1, err: []string{"a.json.gz:2", "max-rejected"},
		check: func(t *testing.T, lake string, res result) {
			assertNothingPublished(t, lake)
			var s summary
			readJSON(t, filepath.Join(lake, "..", "summary.json"), &s)
			if s.Published || !strings.Contains(res.stdout, "NOT published") {
				t.Errorf("summary of a failed run says published: %+v\n%s", s, res.stdout)
			}
			// The valid records read count as not published; text and
			// JSON agree.
			printed := failedRecords.FindStringSubmatch(res.stdout)
			fromJSON := fmt.Sprintf("%d read = %d rows published + %d rejected + %d not published",
				s.Records, s.Rows, s.Rejected, s.NotPublished)
			if printed == nil || printed[1] != fromJSON || s.Rows != 0 || s.Records != s.Rejected+s.NotPublished || s.NotPublished == 0 {
				t.Errorf("summary of a failed run does not reconcile: JSON %+v\n%s", s, res.stdout)
			}
			rj := readRejects(t, lake)
			if len(rj) == 0 {
				t.Fatal("no rejects file")
			}
			want := rejectLine{SourceFile: "a.json.gz", Line: 2, Raw: `{"DeviceId": "dev-x", not json`}
			if got := rj[0]; got.SourceFile != want.SourceFile || got.Line != want.Line || got.Raw != want.Raw || !strings.Contains(got.Reason, "JSON") {
				t.Errorf("first reject %+v, want %+v with a reason naming JSON", got, want)
			}
		},
	}, {
		name:  "rejects within the limit are set aside",
		files: map[string][]byte{"a.json.gz": gz(badRecords), "b.json.gz": gz(lines(records(10, 3)...))},
		args:  []string{"--max-rejected", "5"},
		check: func(t *testing.T, lake string, res result) {
			files := readExportFolder(t, filepath.Join(lake, "..", "in"))
			exp := expect(t, decodeExport(t, files), caseSnapshot, readManifest(t, lake, caseSnapshot).keyColumns())
			rj := readRejects(t, lake)
			if len(rj) != len(exp.rejects) || len(rj) != 4 {
				t.Fatalf("rejects file holds %d lines, want 4: %+v", len(rj), rj)
			}
			for _, r := range rj {
				want, ok := exp.rejects[lineageKey(r.SourceFile, r.Line)]
				if !ok {
					t.Errorf("reject %s:%d is not a bad record", r.SourceFile, r.Line)
					continue
				}
				if r.Raw != want.text || r.Reason == "" {
					t.Errorf("reject %s:%d: raw %q reason %q; want raw %q and a reason", r.SourceFile, r.Line, r.Raw, r.Reason, want.text)
				}
				wantReason := map[bool]string{true: "device", false: "JSON"}[want.object]
				if !strings.Contains(r.Reason, wantReason) {
					t.Errorf("reject %s:%d: reason %q does not say %q", r.SourceFile, r.Line, r.Reason, wantReason)
				}
			}
		},
	}, {
		// The parser's message grows by a phrase a level: an error 250
		// levels deep makes one of several KiB.
		name: "a record whose parser error is long is named with its reason cut short",
		files: map[string][]byte{"a.json": lines(rec(1),
			rec(2, "Deep", strings.Repeat("[", 250)+"nope"+strings.Repeat("]", 250)))},
		code: 1, err: []string{"a.json:2", "max-rejected", "…"},
		check: func(t *testing.T, lake string, res result) {
			assertNothingPublished(t, lake)
			if len(res.lastLine()) > 400 {
				t.Errorf("error line of %d bytes: %.300s…", len(res.lastLine()), res.lastLine())
			}
			rj := readRejects(t, lake)
			if len(rj) != 1 || len(rj[0].Reason) > 200 || !strings.HasSuffix(rj[0].Reason, "…") || !strings.Contains(rj[0].Raw, "[[[") {
				t.Errorf("rejects %+v: want one with its reason cut to 200 bytes and its raw text whole", rj)
			}
		},
	}, {
		name: "truncated gzip fails naming the file",
		files: map[string][]byte{
			"good.json.gz": gz(lines(records(1, 5)...)),
			"cut.json.gz":  func() []byte { b := gz(lines(records(10, 50)...)); return b[:len(b)-6] }(),
		},
		code: 1, err: []string{"cut.json.gz"},
		check: func(t *testing.T, lake string, res result) { assertNothingPublished(t, lake) },
	}, {
		name: "gzip cut in its deflate data fails naming the file",
		files: map[string][]byte{
			"good.json.gz": gz(lines(records(1, 5)...)),
			"cut.json.gz":  func() []byte { b := gz(lines(records(10, 50)...)); return b[:len(b)/2] }(),
		},
		code: 1, err: []string{"cut.json.gz"},
		check: func(t *testing.T, lake string, res result) { assertNothingPublished(t, lake) },
	}, {
		name: "corrupt gzip fails naming the file",
		files: map[string][]byte{
			"good.json.gz": gz(lines(records(1, 5)...)),
			"bad.json.gz": func() []byte {
				b := gz(lines(records(10, 50)...))
				for i := len(b) / 3; i < len(b)/3+8; i++ {
					b[i] ^= 0x5a
				}
				return b
			}(),
		},
		code: 1, err: []string{"bad.json.gz"},
		check: func(t *testing.T, lake string, res result) { assertNothingPublished(t, lake) },
	}, {
		name: "gzip with a wrong checksum fails naming the file",
		files: map[string][]byte{
			"good.json.gz": gz(lines(records(1, 5)...)),
			"crc.json.gz":  func() []byte { b := gz(lines(records(10, 5)...)); b[len(b)-8] ^= 0xff; return b }(),
		},
		code: 1, err: []string{"crc.json.gz"},
		check: func(t *testing.T, lake string, res result) { assertNothingPublished(t, lake) },
	}, {
		name: "invalid UTF-8 is replaced and counted",
		files: map[string][]byte{"a.json": lines(
			rec(1, "DeviceName", "\"bad\xffname\""),
			rec(2, "AdditionalFields", "\"{\\\"SystemSKU\\\":\\\"sk\xc3u\\\"}\""),
			rec(3),
		)},
		check: func(t *testing.T, lake string, res result) {
			db := openDuckDB(t)
			got := queryDuckDB(t, db, fmt.Sprintf(
				"SELECT device_name, af_system_sku FROM read_parquet('%s', hive_partitioning=true) WHERE source_line <= 2 ORDER BY source_line",
				datasetGlob(lake)))
			if len(got) != 2 || got[0]["device_name"] != "bad\uFFFDname" || got[1]["af_system_sku"] != "sk\uFFFDu" {
				t.Errorf("DuckDB reads %v; want U+FFFD in place of the invalid bytes", got)
			}
			var s summary
			readJSON(t, filepath.Join(lake, "..", "summary.json"), &s)
			if s.InvalidUTF8 != 2 {
				t.Errorf("summary counts %d records with invalid UTF-8, want 2", s.InvalidUTF8)
			}
		},
	}, {
		name: "BOM, CRLF and blank lines",
		files: map[string][]byte{
			"plain.json":   append([]byte("\xef\xbb\xbf"), append(crlf, "\r\n\r\n  \n"...)...),
			"zipped.gz":    gz(append([]byte("\xef\xbb\xbf\n\n"), lines(rec(7), "", rec(8), "", "")...)),
			"noeol.json":   []byte(rec(9) + "\r\n" + rec(10)),
			"empty.json":   nil,
			"onlybom.json": []byte("\xef\xbb\xbf"),
		},
	}, {
		name:  "multi-member gzip",
		files: map[string][]byte{"multi.json.gz": multi},
		check: func(t *testing.T, lake string, res result) {
			if n := len(readDuckDB(t, lake).rows); n != 5 {
				t.Errorf("%d rows, want 5 from four members", n)
			}
		},
	}, {
		// Too big for the oracle to decode in reasonable time under -race:
		// the big cells are checked by hash, the rest by both readers.
		name: "a 20 MB line",
		build: func() map[string][]byte {
			return map[string][]byte{"big.json.gz": gz(lines(rec(1), hugeRecord(), rec(3)))}
		},
		skipOracle: true,
		check: func(t *testing.T, lake string, res result) {
			db := openDuckDB(t)
			got := queryDuckDB(t, db, fmt.Sprintf(
				"SELECT source_line, md5(additional_fields) AS h, length(af_notes) AS n FROM read_parquet('%s', hive_partitioning=true) ORDER BY source_line",
				datasetGlob(lake)))
			want := fmt.Sprintf("[map[h:%x n:%d source_line:2]]", md5.Sum([]byte(hugeDoc())), hugeNotes)
			if len(got) != 3 || fmt.Sprint(got[1:2]) != want {
				t.Errorf("got %v, want 3 rows, the second %s", got, want)
			}
		},
	}, {
		name: "keys in any letter case",
		files: map[string][]byte{"case.json": lines(
			`{"DEVICEID":"dev-1","RBACGROUPID":7,"RBACGROUPNAME":"Seven","DEVICENAME":"h1","COMPONENTTYPE":"Bios","MANUFACTURER":"acme","COMPONENTNAME":"fw","COMPONENTVERSION":"2","ADDITIONALFIELDS":"{\"SystemSKU\":\"A\"}"}`,
			`{"deviceid":"dev-2","rbacgroupid":"7","devicename":"h2","additionalfields":"{\"systemSku\":\"B\",\"SystemSku\":\"B2\"}"}`,
			`{"DeviceID":"dev-3","rBaCgRoUpId":8,"DeviceId":"dev-3b","deviceName":null,"DEVICENAME":"h3","AdditionalFields":"{\"system_sku\":\"C\"}"}`,
		)},
		check: func(t *testing.T, lake string, res result) {
			db := openDuckDB(t)
			got := queryDuckDB(t, db, fmt.Sprintf(
				"SELECT device_id, device_name, rbac_group_id, af_system_sku, extra_fields FROM read_parquet('%s', hive_partitioning=true) ORDER BY source_line",
				datasetGlob(lake)))
			want := []map[string]string{
				{"device_id": "dev-1", "device_name": "h1", "rbac_group_id": "7", "af_system_sku": "A", "extra_fields": nullCell},
				{"device_id": "dev-2", "device_name": "h2", "rbac_group_id": "7", "af_system_sku": "B", "extra_fields": nullCell},
				{"device_id": "dev-3", "device_name": "h3", "rbac_group_id": "8", "af_system_sku": "C", "extra_fields": `{"DeviceId":"dev-3b"}`},
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("got  %v\nwant %v", got, want)
			}
		},
	}, {
		// `schema` documents that flattened keys differing only in letter
		// case share a column.
		name: "flattened keys differing only in letter case share a column",
		files: map[string][]byte{"case.json": lines(
			rec(1, "AdditionalFields", jsonString(`{"SystemSKU":"A"}`)),
			rec(2, "AdditionalFields", jsonString(`{"SYSTEMSKU":"B"}`)),
			rec(3, "AdditionalFields", jsonString(`{"systemsku":"C"}`)),
		)},
		check: func(t *testing.T, lake string, res result) {
			tb := readDuckDB(t, lake)
			var af []string
			for _, c := range tb.columns {
				if strings.HasPrefix(c, "af_") {
					af = append(af, c)
				}
			}
			if len(af) != 1 {
				t.Errorf("SystemSKU, SYSTEMSKU and systemsku make columns %v, want one", af)
			}
		},
	}, {
		name: "additionalFields in every shape",
		files: map[string][]byte{"af.json": lines(
			rec(1),
			rec(2, "AdditionalFields", `{"SystemSKU":"obj","MemoryGB":16}`),
			rec(3, "AdditionalFields", jsonString(`[{"Key":"SystemSKU","Value":"pairs"},{"key":"MemoryGB","value":32}]`)),
			rec(4, "AdditionalFields", `[{"Name":"SystemSKU","Value":"raw pairs"}]`),
			rec(5, "AdditionalFields", jsonString(`[{"SystemSKU":"objs"},{"MemoryGB":64,"Tags":["a","b"]}]`)),
			rec(6, "AdditionalFields", `""`),
			rec(7, "AdditionalFields", `null`),
			rec(8, "AdditionalFields", ""),
			rec(9, "AdditionalFields", `"   "`),
			rec(10, "AdditionalFields", jsonString(`{not json`)),
			rec(11, "AdditionalFields", jsonString(`42`)),
			rec(12, "AdditionalFields", jsonString(`[]`)),
			rec(13, "AdditionalFields", jsonString(`{"Mixed":7,"Big":123456789012345678901234567890,"Wide":9007199254740993,"Ratio":1,"Nested":{"a":[1,2]}}`)),
			rec(14, "AdditionalFields", jsonString(`{"Mixed":"v3","Big":5,"Wide":-9007199254740993,"Ratio":0.5,"Nested":"flat","Flag":null}`)),
		)},
		check: func(t *testing.T, lake string, res result) {
			types := readDuckDB(t, lake).types
			want := map[string]string{"af_system_sku": "VARCHAR", "af_memory_gb": "BIGINT", "af_secure_boot_enabled": "BOOLEAN",
				"af_mixed": "VARCHAR", "af_big": "VARCHAR", "af_wide": "BIGINT", "af_ratio": "DOUBLE", "af_nested": "VARCHAR", "af_tags": "VARCHAR"}
			for col, typ := range want {
				if types[col] != typ {
					t.Errorf("%s: %s, want %s", col, types[col], typ)
				}
			}
		},
	}, {
		name: "undocumented keys are kept",
		files: map[string][]byte{"extra.json": lines(
			rec(1, "IsOnboarded", "true", "CveBatchTitle", `"KB 1"`, "Nested", `{"a": [1, {"b": null}]}`),
			rec(2, "RbacGroupId", `"Unassigned"`, "RbacGroupName", `"Unassigned"`),
			rec(3, "RbacGroupId", `"None"`, "Temporary", "null"),
			rec(4, "RbacGroupId", `null`),
			rec(5, "RbacGroupId", ""),
			rec(6, "RbacGroupId", `" 12 "`),
			rec(7, "RbacGroupId", `"../../etc"`),
		)},
		check: func(t *testing.T, lake string, res result) {
			db := openDuckDB(t)
			got := queryDuckDB(t, db, fmt.Sprintf(
				"SELECT rbac_group_id, extra_fields FROM read_parquet('%s', hive_partitioning=true) ORDER BY source_line",
				datasetGlob(lake)))
			want := []string{
				`1 {"IsOnboarded":true,"CveBatchTitle":"KB 1","Nested":{"a":[1,{"b":null}]}}`,
				nullCell + ` {"RbacGroupId":"Unassigned"}`,
				nullCell + ` {"RbacGroupId":"None","Temporary":null}`,
				nullCell + " " + nullCell,
				nullCell + " " + nullCell,
				"12 " + nullCell,
				nullCell + ` {"RbacGroupId":"../../etc"}`,
			}
			for i, r := range got {
				if i < len(want) && r["rbac_group_id"]+" "+r["extra_fields"] != want[i] {
					t.Errorf("line %d: %q %q, want %q", i+1, r["rbac_group_id"], r["extra_fields"], want[i])
				}
			}
		},
	}, {
		// The last record widens a key's type, with row groups of 1 MiB cut
		// meanwhile (whether before the widening, so that their files are
		// rewritten, depends on timing): the files of every partition, those
		// whose rows never saw the wider value too, take the final schema.
		name: "a type widened by the last record",
		build: func() map[string][]byte {
			pad := jsonString(strings.Repeat("x", 100<<10))
			var rs []string
			for i := range widenRecords {
				rs = append(rs, rec(i, "AdditionalFields", jsonString(fmt.Sprintf(`{"Late":%d,"Ratio":%d}`, i, i)), "Pad", pad))
			}
			rs = append(rs, rec(widenRecords, "AdditionalFields", jsonString(`{"Late":"v3","Ratio":0.5}`)))
			return map[string][]byte{"wide.json.gz": gz(lines(rs...))}
		},
		args: []string{"--row-group-size", "1"},
		check: func(t *testing.T, lake string, res result) {
			db := openDuckDB(t)
			got := queryDuckDB(t, db, fmt.Sprintf(`SELECT typeof(af_late) AS late, typeof(af_ratio) AS ratio,
				string_agg(af_late, ',' ORDER BY source_line) AS lates, sum(af_ratio) AS ratios
				FROM read_parquet('%s', hive_partitioning=true) GROUP BY ALL`, datasetGlob(lake)))
			var lates []string
			for i := range widenRecords {
				lates = append(lates, fmt.Sprint(i))
			}
			want := fmt.Sprintf("[map[late:VARCHAR lates:%s,v3 ratio:DOUBLE ratios:%g]]",
				strings.Join(lates, ","), float64(widenRecords*(widenRecords-1)/2)+0.5)
			if fmt.Sprint(got) != want {
				t.Errorf("got  %v\nwant %s", got, want)
			}
			paths := parquetFiles(t, lake)
			schemas, _ := fileSchemas(t, paths)
			for i := range schemas {
				if schemas[i] != schemas[0] || !strings.Contains(schemas[i], "binary af_late (STRING)") {
					t.Errorf("%s: schema\n%s", paths[i], schemas[i])
				}
			}
			if len(paths) != 3 {
				t.Errorf("%d files, want one for each of 3 groups", len(paths))
			}
			groups := 0
			for _, p := range paths {
				groups += checkFileLayout(t, p, "snappy")
			}
			if groups <= len(paths) {
				t.Errorf("%d row groups in %d files: the case no longer writes row groups before the last record", groups, len(paths))
			}
			var s struct {
				Rewritten int `json:"rewritten_files"`
			}
			readJSON(t, filepath.Join(lake, "..", "summary.json"), &s)
			t.Logf("%d row groups, %d files rewritten", groups, s.Rewritten)
		},
	}, {
		name: "JSON edge cases",
		files: map[string][]byte{"edge.json": lines(
			`  {"Device\u0049d":"dev-e1","ComponentName":"tab\tquote\"nul\u0000","DeviceName":"\ud83d\ude00 é"}  `,
			"\t"+rec(2, "RbacGroupId", "-3", "AdditionalFields", jsonString(`{"Tiny":0.1e-7,"Huge":1E400,"Neg":-0,"Esc\u0041":"\u00e9"}`)),
			rec(3, "RbacGroupId", "1.0"),
			rec(4, "RbacGroupId", "1e2"),
			rec(5, "RbacGroupId", "9223372036854775808"),
			rec(6, "RbacGroupId", `"-0"`),
			rec(7, "RbacGroupId", "true", "DeviceName", "42", "Manufacturer", `{"n": [1, 2]}`),
			rec(8, "DeviceId", "12345"),
		)},
	}, {
		name:  "stdin",
		stdin: gz(lines(records(1, 4)...)),
		paths: []string{"-"},
	}, {
		name:  "stdin plain text beside a file",
		stdin: lines(records(1, 2)...),
		files: map[string][]byte{"f.json": lines(records(3, 2)...)},
		paths: []string{"-", "f.json"},
	}, {
		name:       "snapshot time from the path",
		files:      map[string][]byte{"2026-12-03/0915/FirmwareHardwareExport/json/_RbacGroupId=5/part-00000.json.gz": gz(lines(records(1, 2)...))},
		noSnapshot: true,
		snapshot:   time.Date(2026, 12, 3, 9, 15, 0, 0, time.UTC),
	}, {
		name: "snapshot time from export.json beside the files",
		files: map[string][]byte{
			"export.json": []byte(`{"exportFiles":["x"],"generatedTime":"2026-12-04T12:34:56Z"}`),
			"2026-12-03/0915/FirmwareHardwareExport/json/_RbacGroupId=5/part-00000.json.gz": gz(lines(records(1, 2)...)),
		},
		noSnapshot: true,
		snapshot:   time.Date(2026, 12, 4, 12, 34, 56, 0, time.UTC),
	}, {
		name: "export.json with a byte-order mark",
		files: map[string][]byte{
			"export.json":        []byte("\xef\xbb\xbf{\"exportFiles\":[\"x\"],\"generatedTime\":\"2026-12-04T12:34:56Z\"}\r\n"),
			"part-00000.json.gz": gz(lines(records(1, 2)...)),
		},
		noSnapshot: true,
		snapshot:   time.Date(2026, 12, 4, 12, 34, 56, 0, time.UTC),
	}, {
		name: "export.json that is not JSON is a usage error naming it",
		files: map[string][]byte{
			"export.json":        []byte(`generatedTime: 2026-12-04`),
			"part-00000.json.gz": gz(lines(records(1, 2)...)),
		},
		noSnapshot: true,
		code:       2, err: []string{filepath.Join("in", "export.json"), "--snapshot-time"},
		check: func(t *testing.T, lake string, res result) { assertOneLine(t, res); assertNothingPublished(t, lake) },
	}, {
		name: "export.json without generatedTime is a usage error naming it",
		files: map[string][]byte{
			"export.json":        []byte(`{"exportFiles":["x"]}`),
			"part-00000.json.gz": gz(lines(records(1, 2)...)),
		},
		noSnapshot: true,
		code:       2, err: []string{filepath.Join("in", "export.json"), "generatedTime"},
		check: func(t *testing.T, lake string, res result) { assertOneLine(t, res); assertNothingPublished(t, lake) },
	}, {
		name: "--snapshot-time overrides export.json and the path",
		files: map[string][]byte{
			"export.json": []byte(`{"exportFiles":["x"],"generatedTime":"2026-12-04T12:34:56Z"}`),
			"2026-12-03/0915/FirmwareHardwareExport/json/_RbacGroupId=5/part-00000.json.gz": gz(lines(records(1, 2)...)),
		},
		check: func(t *testing.T, lake string, res result) {
			entries, _ := os.ReadDir(filepath.Join(lake, dataset))
			if len(entries) != 1 || entries[0].Name() != "snapshot_date=2026-12-01" {
				t.Errorf("dataset folder holds %v, want snapshot_date=2026-12-01 only", entries)
			}
		},
	}, {
		name:       "no snapshot time",
		files:      map[string][]byte{"a.json": lines(rec(1))},
		noSnapshot: true,
		code:       2, err: []string{"--snapshot-time"},
		check: func(t *testing.T, lake string, res result) { assertOneLine(t, res); assertNothingPublished(t, lake) },
	}, {
		name:  "bad --snapshot-time",
		args:  []string{"--snapshot-time", "yesterday"},
		files: map[string][]byte{"a.json": lines(rec(1))},
		code:  2, err: []string{"snapshot-time"},
		check: func(t *testing.T, lake string, res result) { assertNothingPublished(t, lake) },
	}, {
		name:  "empty folder",
		files: map[string][]byte{},
		code:  2, err: []string{"no export files"},
		check: func(t *testing.T, lake string, res result) { assertOneLine(t, res); assertNothingPublished(t, lake) },
	}, {
		name:  "folder with only export.json",
		files: map[string][]byte{"export.json": []byte(`{"exportFiles":[],"generatedTime":"2026-12-01T06:00:00Z"}`)},
		code:  2, err: []string{"no export files"},
		check: func(t *testing.T, lake string, res result) { assertOneLine(t, res); assertNothingPublished(t, lake) },
	}, {
		name:  "missing input path",
		paths: []string{"does-not-exist.json.gz"},
		code:  2, err: []string{"does-not-exist.json.gz"},
		check: func(t *testing.T, lake string, res result) { assertOneLine(t, res); assertNothingPublished(t, lake) },
	}, {
		name:  "unwritable output",
		files: map[string][]byte{"a.json": lines(rec(1))},
		args:  []string{"--output", "{in}/a.json/lake"},
		code:  -1, err: []string{"a.json/lake"},
		check: func(t *testing.T, lake string, res result) { assertOneLine(t, res) },
	}}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			runInputCase(t, c)
		})
	}
}

// runInputCase lays out the case's input in <tmp>/in, converts it into
// <tmp>/lake with its summary in <tmp>/summary.json, and checks the result.
func runInputCase(t *testing.T, c inputCase) {
	tmp := t.TempDir()
	in := filepath.Join(tmp, "in")
	if err := os.Mkdir(in, 0o755); err != nil {
		t.Fatal(err)
	}
	if c.build != nil {
		c.files = c.build()
	}
	for name, data := range c.files {
		path := filepath.Join(in, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lake := filepath.Join(tmp, "lake")
	sumPath := filepath.Join(tmp, "summary.json")
	args := []string{"convert", "--output", lake, "--summary-json", sumPath}
	if !c.noSnapshot {
		args = append(args, "--snapshot-time", caseSnapshot.Format(time.RFC3339))
	}
	for _, a := range c.args {
		args = append(args, strings.ReplaceAll(a, "{in}", in))
	}
	paths := c.paths
	if paths == nil {
		paths = []string{"."}
	}
	for _, p := range paths {
		if p != "-" {
			p = filepath.Join(in, p)
		}
		args = append(args, p)
	}

	res := runCLI(t, c.stdin, args...)
	switch {
	case c.code == -1 && (res.code == 1 || res.code == 2):
	case res.code != c.code:
		t.Fatalf("want exit %d, got %v", c.code, res)
	}
	for _, s := range c.err {
		if !strings.Contains(res.lastLine(), s) {
			t.Errorf("stderr's last line %q does not name %q", res.lastLine(), s)
		}
	}
	if res.code == 0 {
		var files []exportFile
		for _, p := range paths {
			if p == "-" {
				files = append(files, exportFile{name: "-", data: c.stdin})
				continue
			}
			if p == "." {
				files = append(files, readExportFolder(t, in)...)
				continue
			}
			data, err := os.ReadFile(filepath.Join(in, p))
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, exportFile{name: filepath.Base(p), hint: hintOf(p), data: data})
		}
		snapshot := c.snapshot
		if snapshot.IsZero() {
			snapshot = caseSnapshot
		}
		if c.skipOracle {
			checkLakeSize(t, lake, files)
			compareTables(t, readDuckDB(t, lake), readArrow(t, lake))
			c.check(t, lake, res)
			return
		}
		_, exp := verifyLake(t, lake, files, snapshot)
		checkManifest(t, lake, snapshot, exp)
		checkSummary(t, res, sumPath, exp, lake)
	}
	if c.check != nil {
		c.check(t, lake, res)
	}
}
