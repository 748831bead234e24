package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
	"github.com/mdvm-parquet/mdvm-parquet/schema/sample"
)

// Every dataset end to end: a generated export with its quirks is
// converted by the binary, in a time zone far from UTC, and read back with
// DuckDB; each row must hold exactly what an oracle of the records, written
// apart from the decoder, expects.

// datasetConfig is the small quirky export of each dataset the tests use.
func datasetConfig(ds *schema.Dataset) sample.Config {
	return sample.Config{Dataset: ds, Records: 600, Files: 4, Groups: 3, Unassigned: true, Quirks: true, Seed: 5}
}

func TestSchemaGoldenEveryDataset(t *testing.T) {
	for _, ds := range schema.Datasets() {
		res := runCLI(t, nil, "schema", "--dataset", ds.Name)
		if res.code != 0 {
			t.Fatalf("schema --dataset %s: %v", ds.Name, res)
		}
		golden(t, "schema-"+ds.Name+".txt", res.stdout)
	}
	if res := runCLI(t, nil, "schema", "--dataset", "nope"); res.code != exitUsage {
		t.Errorf("schema of an unknown dataset: %v", res)
	}
}

func TestDatasetsCommand(t *testing.T) {
	res := runCLI(t, nil, "datasets")
	if res.code != 0 {
		t.Fatalf("datasets: %v", res)
	}
	for _, ds := range schema.Datasets() {
		for _, want := range []string{ds.Name + "\n", ds.Title, ds.JSONPath} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("datasets does not show %q:\n%s", want, res.stdout)
			}
		}
		if ds.FilesPath != "" && !strings.Contains(res.stdout, ds.FilesPath) {
			t.Errorf("datasets does not show %s", ds.FilesPath)
		}
	}
}

func TestConvertEveryDataset(t *testing.T) {
	// The binary runs far from UTC: times without a zone must stay UTC.
	t.Setenv("TZ", "Asia/Kolkata")
	for _, ds := range schema.Datasets() {
		if ds == schema.HardwareFirmware {
			continue // the other end-to-end tests
		}
		t.Run(ds.Name, func(t *testing.T) {
			cfg := datasetConfig(ds)
			dir := t.TempDir()
			if _, err := sample.Write(dir, cfg); err != nil {
				t.Fatal(err)
			}
			lake := t.TempDir()
			sumPath := filepath.Join(t.TempDir(), "summary.json")
			convertOK(t, nil, "--dataset", ds.Name, "--output", lake, "--summary-json", sumPath, dir)

			want := datasetOracle(t, ds, cfg)
			var sum struct {
				Records, Rows, Rejected int64
				Unconverted             int64 `json:"unconverted_values"`
			}
			readJSON(t, sumPath, &sum)
			if sum.Records != int64(cfg.Records) || sum.Rows != sum.Records || sum.Rejected != 0 {
				t.Errorf("summary: %+v, want %d records, all rows", sum, cfg.Records)
			}
			if sum.Unconverted != want.unconverted || want.unconverted == 0 {
				t.Errorf("%d unconverted values, the oracle counts %d", sum.Unconverted, want.unconverted)
			}

			got := readDataset(t, lake, ds)
			checkColumnTypes(t, ds, got.types)
			if len(got.rows) != len(want.rows) {
				t.Fatalf("%d rows, want %d", len(got.rows), len(want.rows))
			}
			for _, r := range got.rows {
				key := r[schema.SourceFileColumn] + ":" + r[schema.SourceLineColumn]
				exp, ok := want.rows[key]
				if !ok {
					t.Fatalf("row of %s is not in the export", key)
				}
				for col, w := range exp {
					if g := r[col]; g != w && !(col == schema.ExtraColumn && sameJSON(g, w)) {
						t.Errorf("%s: %s = %s, want %s", key, col, g, w)
					}
				}
			}
			checkTypedCorners(t, lake, ds)
			parquetSchemaGolden(t, lake, ds)
		})
	}
}

// oracle is what each row of a dataset's lake should hold, by
// "source_file:source_line", and how many values do not convert.
type oracle struct {
	rows        map[string]map[string]string
	unconverted int64
}

// datasetOracle reads the generated records with encoding/json and works
// out each row's cells, rendered as renderCell renders DuckDB's.
func datasetOracle(t *testing.T, ds *schema.Dataset, cfg sample.Config) oracle {
	t.Helper()
	files, err := sample.Plan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	o := oracle{rows: map[string]map[string]string{}}
	if cfg.GeneratedTime.IsZero() {
		cfg.GeneratedTime = sample.DefaultGeneratedTime
	}
	fi, line := 0, 0
	err = sample.Records(cfg, func(recText []byte) error {
		for line == files[fi].Records {
			fi, line = fi+1, 0
		}
		line++
		key := files[fi].Path + ":" + strconv.Itoa(line)
		o.rows[key] = o.expectRow(t, ds, recText, files[fi].Group, cfg.GeneratedTime)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (o *oracle) expectRow(t *testing.T, ds *schema.Dataset, text []byte, groupHint string, generated time.Time) map[string]string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var rec map[string]any
	if err := dec.Decode(&rec); err != nil {
		t.Fatal(err)
	}
	row := map[string]string{}
	for _, f := range ds.Fields {
		if f.Column != "" {
			row[f.Column] = "NULL"
		}
	}
	extra := map[string]any{}
	group := groupHint
	for k, v := range rec {
		f := ds.Field(k)
		switch {
		case f == nil:
			extra[k] = v
		case f.Key == ds.GroupIDKey:
			group = ""
			if n, ok := groupNumber(v); ok {
				group = n
			} else if v != nil {
				extra[k] = v
			}
		default:
			cell, ok := expectCell(f.Type, v)
			if !ok {
				o.unconverted++
				extra[k] = v
			}
			row[f.Column] = cell
		}
	}
	if group == "" {
		group = "NULL"
	}
	row["rbac_group_id"] = group
	row[schema.ExtraColumn] = "NULL"
	if len(extra) > 0 {
		b, _ := json.Marshal(extra)
		row[schema.ExtraColumn] = string(b)
	}
	if ds.Partitioning == schema.ByEvent {
		row["event_date"] = row[ds.Field(ds.EventTimeKey).Column][:10]
	} else {
		row[schema.SnapshotTimeColumn] = generated.UTC().Format(microUTC)
		row["snapshot_date"] = generated.UTC().Format(time.DateOnly)
	}
	return row
}

// groupNumber reads a group id that is an integer, as a number or digits.
func groupNumber(v any) (string, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		s = x
	}
	n, err := strconv.ParseInt(s, 10, 32)
	return strconv.FormatInt(n, 10), err == nil
}

const microUTC = "2006-01-02T15:04:05.000000Z"

// oracleTimeLayouts are the time forms the exports write, read with the
// standard library.
var oracleTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999",
}

// expectCell renders a record's value of a field of type t, and reports
// whether it converts.
func expectCell(t schema.Type, v any) (string, bool) {
	if v == nil {
		return "NULL", true
	}
	s, isText := v.(string)
	switch t {
	case schema.String:
		if isText {
			return s, true
		}
		b, _ := json.Marshal(v)
		return string(b), true
	case schema.Timestamp:
		for _, layout := range oracleTimeLayouts {
			if tm, err := time.ParseInLocation(layout, s, time.UTC); err == nil && isText {
				return tm.UTC().Truncate(time.Microsecond).Format(microUTC), true
			}
		}
	case schema.StringList:
		list, ok := v.([]any)
		if isText && json.Unmarshal([]byte(s), &list) == nil {
			ok = true
		}
		if ok {
			elems := make([]string, len(list))
			for i, e := range list {
				elems[i] = e.(string)
			}
			return "[" + strings.Join(elems, "|") + "]", true
		}
	case schema.Double:
		if n, ok := v.(json.Number); ok {
			f, _ := n.Float64()
			return strconv.FormatFloat(f, 'g', -1, 64), true
		}
	case schema.Int32, schema.Int64:
		if n, ok := v.(json.Number); ok {
			return string(n), true
		}
	case schema.Bool:
		if b, ok := v.(bool); ok {
			return strconv.FormatBool(b), true
		}
		if b, err := strconv.ParseBool(s); isText && err == nil {
			return strconv.FormatBool(b), true
		}
	}
	return "NULL", false
}

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xa, yb)
}

// datasetTable is a dataset's lake as DuckDB reads it.
type datasetTable struct {
	types map[string]string
	rows  []map[string]string
}

func datasetSource(lake string, ds *schema.Dataset) string {
	glob := filepath.ToSlash(filepath.Join(lake, ds.Name)) + "/**/*.parquet"
	return fmt.Sprintf("read_parquet('%s', hive_partitioning=true)", glob)
}

// readDataset reads every row of a dataset's lake with DuckDB.
func readDataset(t *testing.T, lake string, ds *schema.Dataset) datasetTable {
	t.Helper()
	db := openDuckDB(t)
	src := datasetSource(lake, ds)
	tb := datasetTable{types: map[string]string{}}
	for _, r := range queryRendered(t, db, "DESCRIBE SELECT * FROM "+src) {
		tb.types[r["column_name"]] = r["column_type"]
	}
	tb.rows = queryRendered(t, db, "SELECT * FROM "+src)
	for _, r := range tb.rows {
		for col, typ := range tb.types {
			if typ == "DATE" && r[col] != "NULL" {
				r[col] = r[col][:len(time.DateOnly)]
			}
		}
	}
	return tb
}

// queryRendered runs a query and renders each cell with renderCell.
func queryRendered(t *testing.T, db *sql.DB, query string) []map[string]string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("duckdb %q: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []map[string]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		r := map[string]string{}
		for i, c := range cols {
			r[c] = renderCell(vals[i])
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// renderCell renders a value DuckDB scanned: lists as [a|b], times in UTC
// with microseconds.
func renderCell(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []any:
		elems := make([]string, len(x))
		for i, e := range x {
			elems[i] = renderCell(e)
		}
		return "[" + strings.Join(elems, "|") + "]"
	case time.Time:
		return x.UTC().Format(microUTC)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// checkColumnTypes checks the types DuckDB reads each column as.
func checkColumnTypes(t *testing.T, ds *schema.Dataset, types map[string]string) {
	t.Helper()
	duck := map[schema.Type]string{
		schema.String: "VARCHAR", schema.Timestamp: "TIMESTAMP WITH TIME ZONE", schema.StringList: "VARCHAR[]",
		schema.Double: "DOUBLE", schema.Bool: "BOOLEAN", schema.Int32: "INTEGER", schema.Int64: "BIGINT",
	}
	want := map[string]string{"rbac_group_id": "BIGINT", schema.ExtraColumn: "VARCHAR",
		schema.SourceFileColumn: "VARCHAR", schema.SourceLineColumn: "BIGINT"}
	if ds.Partitioning == schema.ByEvent {
		want["event_date"] = "DATE"
	} else {
		want["snapshot_date"] = "DATE"
		want[schema.SnapshotTimeColumn] = "TIMESTAMP WITH TIME ZONE"
	}
	for _, f := range ds.Fields {
		if f.Column != "" {
			want[f.Column] = duck[f.Type]
		}
	}
	for col, w := range want {
		if types[col] != w {
			t.Errorf("column %s is %q, want %q", col, types[col], w)
		}
	}
	if len(types) != len(want) {
		t.Errorf("columns %v, want %v", types, want)
	}
}

// checkTypedCorners asks DuckDB for the values the issue names: empty lists
// (not NULL) beside others, read with list functions, and NULL scores.
func checkTypedCorners(t *testing.T, lake string, ds *schema.Dataset) {
	t.Helper()
	db := openDuckDB(t)
	src := datasetSource(lake, ds)
	count := func(where string) int {
		r := queryRendered(t, db, "SELECT count(*) AS n FROM "+src+" WHERE "+where)
		n, _ := strconv.Atoi(r[0]["n"])
		return n
	}
	for _, f := range ds.Fields {
		if f.Column == "" {
			continue
		}
		switch f.Type {
		case schema.StringList:
			if count(f.Column+" = []") == 0 || count("len("+f.Column+") > 0") == 0 {
				t.Errorf("%s: want empty lists and others", f.Column)
			}
		case schema.Timestamp, schema.Double, schema.Bool, schema.Int32:
			if count(f.Column+" IS NOT NULL") == 0 {
				t.Errorf("%s: no value", f.Column)
			}
		}
	}
	if ds == schema.SoftwareVulnerabilities {
		r := queryRendered(t, db, "SELECT cvss_score FROM "+src+" WHERE cve_id = 'CVE-2024-10487' LIMIT 1")
		if len(r) != 1 || r[0]["cvss_score"] != "9.8" {
			t.Errorf("cvss_score of CVE-2024-10487: %v", r)
		}
		if count("cvss_score IS NULL AND cve_id = 'CVE-2024-11110'") == 0 {
			t.Errorf("no NULL cvss_score for a CVE the service has not scored")
		}
	}
}

// parquetSchemaGolden checks that every file of the dataset declares one
// schema, the golden one.
func parquetSchemaGolden(t *testing.T, lake string, ds *schema.Dataset) {
	t.Helper()
	var schemas []string
	filepath.WalkDir(filepath.Join(lake, ds.Name), func(path string, d fs.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(path, ".parquet") {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		info, _ := f.Stat()
		pf, err := parquet.OpenFile(f, info.Size())
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		schemas = append(schemas, pf.Schema().String())
		return nil
	})
	sort.Strings(schemas)
	if len(schemas) == 0 || schemas[0] != schemas[len(schemas)-1] {
		t.Fatalf("%d files, schemas differ or none", len(schemas))
	}
	golden(t, "parquet-schema-"+ds.Name+".txt", schemas[0]+"\n")
}
