package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The oracle: what the lake must hold, worked out from the export files by
// the test alone, with encoding/json, and compared with what the readers see.

// documented maps the documented keys, in lower case, to their columns.
var documented = map[string]string{
	"deviceid":         "device_id",
	"devicename":       "device_name",
	"rbacgroupname":    "rbac_group_name",
	"componenttype":    "component_type",
	"manufacturer":     "manufacturer",
	"componentname":    "component_name",
	"componentversion": "component_version",
	"additionalfields": "additional_fields",
	"rbacgroupid":      "", // in the path only
}

// exportFile is one input of a run: its name as lineage columns carry it,
// the group id its path names, and its bytes as stored.
type exportFile struct {
	name string
	hint string
	data []byte
}

// member is one key and value of a JSON object, in the order written.
type member struct {
	key string
	val json.RawMessage
}

// exportRecord is one non-blank line of an input.
type exportRecord struct {
	file    string
	line    int64
	text    string   // the line as the product must keep it: no BOM, no CR
	members []member // nil when the line is not a JSON object
	object  bool
	hint    string
}

var groupSegment = regexp.MustCompile(`^_RbacGroupId=(-?[0-9]+)$`)

// readExportFolder reads the export files below root as the product is
// documented to find them: recursively, skipping export.json and names
// starting with "." or "_" (but for _RbacGroupId=N folders).
func readExportFolder(t *testing.T, root string) []exportFile {
	t.Helper()
	var files []exportFile
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") && !groupSegment.MatchString(name)) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || name == "export.json" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		files = append(files, exportFile{name: filepath.ToSlash(rel), hint: hintOf(rel), data: data})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	return files
}

func hintOf(path string) string {
	for _, seg := range strings.Split(filepath.ToSlash(path), "/") {
		if m := groupSegment.FindStringSubmatch(seg); m != nil {
			return m[1]
		}
	}
	return ""
}

// decodeExport cuts the files into records: gzip by magic bytes (every
// member), lines split on LF, a BOM and a CR dropped, blank lines skipped.
func decodeExport(t *testing.T, files []exportFile) []exportRecord {
	t.Helper()
	var recs []exportRecord
	for _, f := range files {
		data := decompressed(t, f)
		for i, line := range bytes.Split(data, []byte("\n")) {
			line = bytes.TrimSuffix(line, []byte("\r"))
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			line = bytes.ToValidUTF8(line, []byte("\uFFFD"))
			ms, ok := objectMembers(line)
			recs = append(recs, exportRecord{file: f.name, line: int64(i + 1), text: string(line),
				members: ms, object: ok, hint: f.hint})
		}
	}
	return recs
}

// decompressed returns the bytes of f, gunzipped (every member) when they
// start with the gzip magic.
func decompressed(t *testing.T, f exportFile) []byte {
	t.Helper()
	if !bytes.HasPrefix(f.data, []byte{0x1f, 0x8b}) {
		return f.data
	}
	zr, err := gzip.NewReader(bytes.NewReader(f.data))
	if err != nil {
		t.Fatalf("oracle: gunzip %s: %v", f.name, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("oracle: gunzip %s: %v", f.name, err)
	}
	return data
}

// objectMembers returns the members of a JSON object in the order written,
// or false when data is not exactly one JSON object.
func objectMembers(data []byte) ([]member, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	ms := []member{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		ms = append(ms, member{key: tok.(string), val: v})
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return ms, true
}

// expectation is what the lake must hold for a set of inputs.
type expectation struct {
	snapshot time.Time
	rows     map[string]map[string]string // by source_file:source_line, column → cell
	rejects  map[string]exportRecord      // by source_file:source_line
	records  int
	perFile  map[string]int // records (rows and rejects) per input
	afs      map[string]*afColumn
}

// afColumn is what the oracle knows of one flattened key's column.
type afColumn struct {
	kinds map[string]bool // kinds of the values seen
}

func lineageKey(file string, line int64) string { return fmt.Sprintf("%s:%d", file, line) }

// expect works out the lake's rows for recs. keyColumn maps each flattened
// key to its column, as the product documents it.
func expect(t *testing.T, recs []exportRecord, snapshot time.Time, keyColumn map[string]string) *expectation {
	t.Helper()
	e := &expectation{snapshot: snapshot, rows: map[string]map[string]string{},
		rejects: map[string]exportRecord{}, perFile: map[string]int{}, afs: map[string]*afColumn{}}
	for _, r := range recs {
		e.records++
		e.perFile[r.file]++
		key := lineageKey(r.file, r.line)
		row, ok := expectRow(r, snapshot)
		if !ok {
			e.rejects[key] = r
			continue
		}
		e.flatten(t, r, row, keyColumn)
		e.rows[key] = row
	}
	return e
}

// expectRow works out a record's cells, but for the flattened columns. It
// reports false for a record that must be rejected.
func expectRow(r exportRecord, snapshot time.Time) (map[string]string, bool) {
	if !r.object {
		return nil, false
	}
	row := map[string]string{
		"snapshot_time": cell(snapshot.UTC()),
		"snapshot_date": cell(snapshot.UTC().Truncate(24 * time.Hour)),
		"source_file":   r.file,
		"source_line":   strconv.FormatInt(r.line, 10),
		"rbac_group_id": nullCell,
	}
	for _, col := range documented {
		if col != "" {
			row[col] = nullCell
		}
	}
	set := map[string]bool{}
	var extra []member
	for _, m := range r.members {
		lk := strings.ToLower(m.key)
		col, ok := documented[lk]
		switch {
		case !ok:
			extra = append(extra, m)
		case set[lk]:
			// The same key again in another letter case: kept aside.
			if !isNull(m.val) {
				extra = append(extra, m)
			}
		case lk == "rbacgroupid":
			set[lk] = !isNull(m.val)
			if g, ok := groupID(m.val); ok {
				row["rbac_group_id"] = g
			} else if !isNull(m.val) {
				extra = append(extra, m) // "Unassigned" keeps its text
			}
		default:
			set[lk] = !isNull(m.val)
			row[col] = textCell(m.val)
		}
	}
	if !set["rbacgroupid"] && r.hint != "" {
		row["rbac_group_id"] = r.hint
	}
	if dev := row["device_id"]; dev == nullCell || strings.TrimSpace(dev) == "" {
		return nil, false
	}
	row["extra_fields"] = nullCell
	if len(extra) > 0 {
		row["extra_fields"] = membersText(extra)
	}
	return row, true
}

func isNull(v json.RawMessage) bool { return string(v) == "null" }

// groupID returns the partition value of a group id: an integer, as a
// number or as digits in a string.
func groupID(v json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(v, &s) != nil {
		s = string(v)
	}
	g, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return "", false
	}
	return strconv.FormatInt(g, 10), true
}

// textCell is the text a string column holds for a JSON value: a string
// unescaped, anything else as written (compacted), NULL for null.
func textCell(v json.RawMessage) string {
	if isNull(v) {
		return nullCell
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		panic(err)
	}
	return b.String()
}

// membersText renders members as one compact JSON object, in order.
func membersText(ms []member) string {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		b.Write(k)
		b.WriteByte(':')
		json.Compact(&b, m.val)
	}
	b.WriteByte('}')
	return b.String()
}

// flatten adds the raw values of the record's additionalFields keys to row,
// under "af:"+column, first value of a column kept, and notes their kinds.
func (e *expectation) flatten(t *testing.T, r exportRecord, row map[string]string, keyColumn map[string]string) {
	t.Helper()
	var doc json.RawMessage
	for _, m := range r.members {
		if strings.EqualFold(m.key, "additionalFields") {
			doc = m.val
			break
		}
	}
	if doc == nil || isNull(doc) {
		return
	}
	var s string
	if json.Unmarshal(doc, &s) == nil {
		if strings.TrimSpace(s) == "" || !json.Valid([]byte(s)) {
			return
		}
		doc = json.RawMessage(s)
	}
	add := func(k string, v json.RawMessage) {
		col, ok := keyColumn[k]
		if !ok {
			t.Errorf("%s:%d: additionalFields key %q has no column in the manifest's flattened_keys", r.file, r.line, k)
			return
		}
		if _, seen := row["af:"+col]; seen {
			return
		}
		row["af:"+col] = string(v)
		c := e.afs[col]
		if c == nil {
			c = &afColumn{kinds: map[string]bool{}}
			e.afs[col] = c
		}
		c.kinds[kindOf(v)] = true
	}
	if ms, ok := objectMembers(doc); ok {
		for _, m := range ms {
			add(m.key, m.val)
		}
		return
	}
	var items []json.RawMessage
	if json.Unmarshal(doc, &items) != nil {
		return
	}
	for _, it := range items {
		ms, ok := objectMembers(it)
		if !ok {
			continue
		}
		if k, v, ok := pair(ms); ok {
			add(k, v)
			continue
		}
		for _, m := range ms {
			add(m.key, m.val)
		}
	}
}

// pair recognises {"Key": k, "Value": v} (or "Name"), in any letter case.
func pair(ms []member) (string, json.RawMessage, bool) {
	if len(ms) != 2 {
		return "", nil, false
	}
	var key string
	var val json.RawMessage
	found := false
	for _, m := range ms {
		switch strings.ToLower(m.key) {
		case "key", "name":
			found = json.Unmarshal(m.val, &key) == nil
		case "value":
			val = m.val
		}
	}
	return key, val, found && val != nil
}

// kindOf names what a flattened value is.
func kindOf(v json.RawMessage) string {
	switch {
	case isNull(v):
		return "null"
	case string(v) == "true" || string(v) == "false":
		return "bool"
	case v[0] == '"':
		return "string"
	case v[0] == '{' || v[0] == '[':
		return "json"
	}
	lit := string(v)
	if strings.ContainsAny(lit, ".eE") {
		if f, err := strconv.ParseFloat(lit, 64); err == nil && !math.IsInf(f, 0) {
			return "float"
		}
		return "bignum"
	}
	n, err := strconv.ParseInt(lit, 10, 64)
	if err != nil {
		return "bignum"
	}
	if n > 1<<53 || n < -(1<<53) {
		return "wideint"
	}
	return "int"
}

// duckType is the DuckDB type a flattened column must have, from the kinds
// of all its values in the snapshot: integers that fit int64 are BIGINT,
// numbers with a fraction DOUBLE (integers too, while exact in a double),
// booleans BOOLEAN; anything else or any mix is VARCHAR.
func (c *afColumn) duckType() string {
	k := c.kinds
	only := func(allowed ...string) bool {
		n := 0
		for _, a := range allowed {
			if k[a] {
				n++
			}
		}
		nonNull := len(k)
		if k["null"] {
			nonNull--
		}
		return n > 0 && n == nonNull
	}
	switch {
	case only("bool"):
		return "BOOLEAN"
	case only("int", "wideint"):
		return "BIGINT"
	case only("int", "float"):
		return "DOUBLE"
	}
	return "VARCHAR"
}

// afCell renders a flattened value as a column of type typ holds it.
func afCell(raw string, typ string) string {
	v := json.RawMessage(raw)
	if isNull(v) {
		return nullCell
	}
	switch typ {
	case "BIGINT":
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return "unparsable int " + raw
		}
		return cell(n)
	case "DOUBLE":
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return "unparsable float " + raw
		}
		return cell(f)
	}
	return textCell(v)
}

// check compares what a reader saw with the expectation: the same rows,
// each cell as worked out from the input.
func (e *expectation) check(t *testing.T, tb *table) {
	t.Helper()
	if len(tb.rows) != len(e.rows) {
		t.Errorf("lake holds %d rows, the input %d records that are not rejects", len(tb.rows), len(e.rows))
	}
	for col, c := range e.afs {
		if got, want := tb.types[col], c.duckType(); got != want {
			t.Errorf("column %s: DuckDB type %s, want %s (values seen: %v)", col, got, want, c.kinds)
		}
	}
	bad := 0
	seen := map[string]bool{}
	for _, r := range tb.rows {
		key := r["source_file"] + ":" + r["source_line"]
		if seen[key] {
			t.Errorf("row %s appears twice", key)
		}
		seen[key] = true
		want, ok := e.rows[key]
		if !ok {
			t.Errorf("row %s: no such record in the input", key)
			continue
		}
		for _, col := range tb.columns {
			exp, ok := want[col]
			if strings.HasPrefix(col, "af_") {
				exp, ok = nullCell, true
				if raw, set := want["af:"+col]; set {
					exp = afCell(raw, tb.types[col])
				}
			}
			if !ok {
				t.Errorf("column %s: not a column the product documents", col)
				continue
			}
			if got := r[col]; got != exp {
				t.Errorf("row %s column %s: got %q, want %q", key, col, clip(got), clip(exp))
				if bad++; bad > 20 {
					t.Fatal("too many differences")
				}
			}
		}
	}
	for key := range e.rows {
		if !seen[key] {
			t.Errorf("record %s is missing from the lake", key)
		}
	}
}

// partitionCounts counts the expected rows per rbac_group_id cell.
func (e *expectation) partitionCounts() map[string]int {
	m := map[string]int{}
	for _, r := range e.rows {
		m[r["rbac_group_id"]]++
	}
	return m
}

// validUTF8Rows reports whether every string cell is valid UTF-8.
func validUTF8Rows(tb *table) bool {
	for _, r := range tb.rows {
		for _, v := range r {
			if !utf8.ValidString(v) {
				return false
			}
		}
	}
	return true
}
