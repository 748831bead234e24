package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
	"github.com/mdvm-parquet/mdvm-parquet/schema/sample"
)

// TestMain lets the test binary stand in for mdvm-bench when the benchmark
// re-executes itself for the DuckDB side.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "duckdb-convert" {
		os.Exit(run(os.Args, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

const testRecords = 3000

func TestDuckDBSide(t *testing.T) {
	dir := t.TempDir()
	cfg := corpusConfig(schema.HardwareFirmware, testRecords, 3, 6, 9)
	if _, err := sample.Write(filepath.Join(dir, "export"), cfg); err != nil {
		t.Fatal(err)
	}
	c := &corpus{Dir: filepath.Join(dir, "export"), Files: 3}
	if err := c.findPaths(); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(dir, "out")
	var stdout bytes.Buffer
	job := duckdbJob{Dataset: schema.HardwareFirmware, Paths: c.Paths, Output: out, Snapshot: sample.DefaultGeneratedTime, Threads: 2}
	if err := runDuckDB(context.Background(), job, &stdout); err != nil {
		t.Fatal(err)
	}
	var res duckdbResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || res.Rows != testRecords {
		t.Fatalf("printed %q (%v), want %d rows", stdout.String(), err, testRecords)
	}

	// Partition folders as the lake has them, typed flattened columns.
	if m, _ := filepath.Glob(filepath.Join(out, "snapshot_date=2026-11-30", "rbac_group_id=0", "*.parquet")); len(m) == 0 {
		t.Error("no rbac_group_id=0 partition")
	}
	types := parquetTypes(t, out)
	for col, want := range map[string]string{
		"device_id": "VARCHAR", "additional_fields": "VARCHAR", "snapshot_time": "TIMESTAMP WITH TIME ZONE",
		"af_system_sku": "VARCHAR", "af_memory_gb": "BIGINT", "af_clock_speed_ghz": "DOUBLE",
		"af_secure_boot_enabled": "BOOLEAN", "source_file": "VARCHAR",
	} {
		if types[col] != want {
			t.Errorf("column %s is %q, want %s", col, types[col], want)
		}
	}
	n, err := countParquetRows(context.Background(), out)
	if err != nil || n != testRecords {
		t.Errorf("counted %d rows (%v), want %d", n, err, testRecords)
	}
}

func parquetTypes(t *testing.T, dir string) map[string]string {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("DESCRIBE SELECT * FROM read_parquet(" + quote(dir+"/**/*.parquet") + ", hive_partitioning = false)")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	types := map[string]string{}
	for rows.Next() {
		var name, typ string
		var null, key, def, extra sql.NullString
		if err := rows.Scan(&name, &typ, &null, &key, &def, &extra); err != nil {
			t.Fatal(err)
		}
		types[name] = typ
	}
	return types
}

// benchJSON runs the benchmark on a small corpus and decodes its report.
func benchJSON(t *testing.T, dir string, args ...string) (int, report, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	base := []string{"mdvm-bench", "--dir", dir, "--records", "3000", "--files", "3", "--groups", "6", "--json"}
	code := run(append(base, args...), &stdout, &stderr)
	var rep report
	if code != exitUsage {
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
			t.Fatalf("report %q: %v; stderr: %s", stdout.String(), err, stderr.String())
		}
	}
	return code, rep, stderr.String()
}

func TestBenchDuckDBOnly(t *testing.T) {
	dir := t.TempDir()
	code, rep, stderr := benchJSON(t, dir, "--only", "duckdb", "--runs", "2")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if len(rep.Sides) != 1 || rep.Sides[0].Side != sideDuckDB || rep.Sides[0].Status != statusOK {
		t.Fatalf("sides %+v", rep.Sides)
	}
	s := rep.Sides[0]
	if len(s.Runs) != 2 || s.Runs[0].Rows != testRecords || s.WallS <= 0 || s.PeakRSSMiB <= 0 || s.RecordsPerS <= 0 {
		t.Errorf("side %+v", s)
	}
	if rep.Corpus.Records != testRecords || rep.Corpus.InputMB <= 0 {
		t.Errorf("corpus %+v", rep.Corpus)
	}
	if !strings.Contains(stderr, "generating corpus") {
		t.Errorf("corpus not generated: %s", stderr)
	}

	// The second time the cached corpus is used.
	code, _, stderr = benchJSON(t, dir, "--only", "duckdb")
	if code != exitOK || strings.Contains(stderr, "generating corpus") {
		t.Errorf("exit %d, cached corpus not used: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", sideDuckDB)); !os.IsNotExist(err) {
		t.Errorf("output left behind without --keep: %v", err)
	}
}

func TestBenchMissingBinary(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-such-binary")

	code, rep, stderr := benchJSON(t, dir, "--bin", missing)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if len(rep.Sides) != 2 || rep.Sides[0].Status != statusSkipped || rep.Sides[1].Status != statusOK || rep.Ratio != 0 {
		t.Errorf("sides %+v ratio %v", rep.Sides, rep.Ratio)
	}
	if !strings.Contains(rep.Sides[0].Reason, "binary not found") {
		t.Errorf("reason %q", rep.Sides[0].Reason)
	}

	if code, _, _ := benchJSON(t, dir, "--bin", missing, "--only", "ours"); code != exitUsage {
		t.Errorf("--only ours without the binary: exit %d, want %d", code, exitUsage)
	}
}

func TestBenchFailingSide(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "broken")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho 'no such command: convert' >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, rep, _ := benchJSON(t, dir, "--bin", script)
	if code != exitFailed {
		t.Fatalf("exit %d, want %d", code, exitFailed)
	}
	if rep.Sides[0].Status != statusFailed || !strings.Contains(rep.Sides[0].Reason, "no such command: convert") {
		t.Errorf("ours %+v", rep.Sides[0])
	}
	if rep.Sides[1].Status != statusOK {
		t.Errorf("duckdb %+v", rep.Sides[1])
	}
}

func TestBenchFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"numbers and side", []string{"--records", "0", "--runs", "-1", "--only", "both"},
			[]string{"--records 0", "--runs -1", `--only "both"`}},
		{"unknown dataset", []string{"--dataset", "nope"}, []string{`--dataset: unknown dataset "nope"`}},
		{"delta dataset", []string{"--dataset", "vulnerability_changes"},
			[]string{"--dataset vulnerability_changes: not a snapshot dataset", "measure one of hardware_firmware, software_vulnerabilities,"}},
		{"compare hardware to itself", []string{"--compare-hardware"}, []string{"--compare-hardware: the dataset is hardware_firmware already"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"mdvm-bench"}, tc.args...), &stdout, &stderr)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d", code, exitUsage)
			}
			for _, want := range tc.want {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr %q lacks %q", stderr.String(), want)
				}
			}
		})
	}
}

// TestBenchCompareHardware benches a software_vulnerabilities corpus and a
// hardware_firmware one of about its JSON size, and compares them.
func TestBenchCompareHardware(t *testing.T) {
	dir := t.TempDir()
	code, rep, stderr := benchJSON(t, dir, "--only", "duckdb", "--dataset", "software_vulnerabilities", "--compare-hardware", "--records", "1000")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if rep.Corpus.Dataset != "software_vulnerabilities" || rep.Sides[0].Runs[0].Rows != 1000 {
		t.Errorf("corpus %+v, sides %+v", rep.Corpus, rep.Sides)
	}
	hw := rep.Hardware
	if hw == nil || hw.Corpus.Dataset != "hardware_firmware" || hw.Sides[0].Status != statusOK {
		t.Fatalf("hardware %+v", hw)
	}
	if r := hw.Corpus.InputMB / rep.Corpus.InputMB; r < 0.95 || r > 1.05 {
		t.Errorf("hardware corpus of %.2f MB JSON, the dataset's %.2f MB", hw.Corpus.InputMB, rep.Corpus.InputMB)
	}
	if len(rep.PerByte) != 1 || rep.PerByte[0].Side != sideDuckDB || rep.PerByte[0].Slowdown <= 0 {
		t.Errorf("per byte %+v", rep.PerByte)
	}
	if !strings.Contains(stderr, "corpus-software_vulnerabilities-r1000-") {
		t.Errorf("corpus name lacks the dataset: %s", stderr)
	}
}

func TestReport(t *testing.T) {
	rep := report{
		Corpus:  corpusInfo{Records: 1000, InputMB: 100, Files: 2, Groups: 3},
		Threads: 2, Runs: 3,
		Sides: []sideResult{
			{Side: sideOurs, Status: statusOK, Runs: []runResult{{WallS: 4, PeakRSSMiB: 100}, {WallS: 1, PeakRSSMiB: 300}, {WallS: 2, PeakRSSMiB: 200}}},
			{Side: sideDuckDB, Status: statusOK, Runs: []runResult{{WallS: 4, PeakRSSMiB: 500}, {WallS: 4, PeakRSSMiB: 500}, {WallS: 8, PeakRSSMiB: 700}}},
		},
	}
	rep.finish()
	ours, duck := rep.Sides[0], rep.Sides[1]
	if ours.WallS != 2 || ours.PeakRSSMiB != 200 || ours.RecordsPerS != 500 || ours.MBPerS != 50 {
		t.Errorf("ours %+v", ours)
	}
	if duck.WallS != 4 || rep.Ratio != 2 {
		t.Errorf("duckdb %+v, ratio %v", duck, rep.Ratio)
	}
	var b bytes.Buffer
	if err := rep.writeTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"median of 3", "records/s", "peak RSS MiB", "throughput ours/duckdb: 2.00x"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}

	// Compared with a hardware run twice as fast per byte.
	hw := &report{Corpus: corpusInfo{Dataset: "hardware_firmware", Records: 900, InputMB: 100}, Runs: 1,
		Sides: []sideResult{
			{Side: sideOurs, Status: statusOK, Runs: []runResult{{WallS: 1, PeakRSSMiB: 100}}},
			{Side: sideDuckDB, Status: statusFailed, Reason: "out of memory"},
		}}
	hw.finish()
	rep.Corpus.Dataset = "software_vulnerabilities"
	rep.compare(hw)
	if len(rep.PerByte) != 1 || rep.PerByte[0].Slowdown != 2 || !rep.failed() {
		t.Errorf("per byte %+v, failed %v", rep.PerByte, rep.failed())
	}
	b.Reset()
	if err := rep.writeTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"corpus: software_vulnerabilities, 1000 records", "JSON MB/s", "corpus: hardware_firmware, 900 records",
		"duckdb failed: out of memory", "ours: 50.0 MB/s against 100.0 MB/s, slowdown 2.00x; peak RSS 200 MiB against 100 MiB"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}

	if m := median([]float64{3, 1}); m != 2 {
		t.Errorf("median of 3 and 1 = %v", m)
	}
}

func TestCorpusManifest(t *testing.T) {
	dir := t.TempDir()
	cfg := corpusConfig(schema.HardwareFirmware, 300, 2, 2, 1)
	var log bytes.Buffer
	c, err := ensureCorpus(dir, cfg, &log)
	if err != nil {
		t.Fatal(err)
	}
	if c.Records != 300 || len(c.Paths) != 2 || !c.GeneratedTime.Equal(sample.DefaultGeneratedTime) {
		t.Errorf("corpus %+v", c)
	}

	// A part file gone: the cache is not trusted.
	if err := os.Remove(c.Paths[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := ensureCorpus(dir, cfg, &log); err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Errorf("missing part file: %v", err)
	}

	// An older generator's corpus is made anew.
	manifest := filepath.Join(filepath.Dir(c.Dir), "corpus.json")
	old := *c
	old.Format = corpusFormat - 1
	if err := writeCorpus(manifest, &old); err != nil {
		t.Fatal(err)
	}
	log.Reset()
	start := time.Now()
	if c, err = ensureCorpus(dir, cfg, &log); err != nil || len(c.Paths) != 2 {
		t.Fatalf("regenerate: %v", err)
	}
	if !strings.Contains(log.String(), "generating") {
		t.Errorf("not regenerated in %v: %s", time.Since(start), log.String())
	}
}

// snapshotDatasets are the datasets the benchmark measures.
func snapshotDatasets() []*schema.Dataset {
	var ds []*schema.Dataset
	for _, d := range schema.Datasets() {
		if d.Partitioning == schema.BySnapshot {
			ds = append(ds, d)
		}
	}
	return ds
}

func TestDuckDBStatements(t *testing.T) {
	for _, d := range schema.Datasets() {
		t.Run(d.Name, func(t *testing.T) {
			job := duckdbJob{Dataset: d, Paths: []string{"a.json.gz", "b's.json.gz"}, Output: "out", Snapshot: sample.DefaultGeneratedTime, Threads: 3}
			stmts, err := duckdbStatements(job)
			if d.Partitioning != schema.BySnapshot {
				if !errors.Is(err, errNotSnapshot) {
					t.Fatalf("error %v, want %v", err, errNotSnapshot)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			keys, err := fileKeys(d)
			if err != nil {
				t.Fatal(err)
			}
			copyStmt := stmts[len(stmts)-1]
			for _, want := range []string{
				"SET threads = 3", "'b''s.json.gz'", "compression = 'gzip'", "AS source_file", "AS snapshot_time",
				"AS snapshot_date", "AS rbac_group_id", "PARTITION_BY (snapshot_date, rbac_group_id), COMPRESSION snappy",
			} {
				if !strings.Contains(strings.Join(stmts, ";\n"), want) {
					t.Errorf("statements lack %q:\n%s", want, strings.Join(stmts, ";\n"))
				}
			}
			if got := strings.Contains(copyStmt, "json_transform("); got != (d.FlattenKey != "") {
				t.Errorf("json_transform in the query: %v, flatten key %q", got, d.FlattenKey)
			}
			for _, f := range d.Fields {
				if f.Column != "" && !strings.Contains(copyStmt, " AS "+f.Column+",") {
					t.Errorf("no column %s", f.Column)
				}
				if f.Type == schema.Timestamp && !strings.Contains(copyStmt, "TRY_CAST("+ident(keys[f.Key])+" AS TIMESTAMPTZ) AS "+f.Column) {
					t.Errorf("time %s not read with TRY_CAST", f.Key)
				}
			}
			if err := explainSQL(copyStmt); err != nil {
				t.Errorf("DuckDB rejects the query: %v", err)
			}
		})
	}
}

// explainSQL has DuckDB parse and plan the query of a COPY statement, with
// its files made to exist.
func explainSQL(copyStmt string) error {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	query := copyStmt[len("COPY ("):strings.LastIndex(copyStmt, ") TO ")]
	dir, err := os.MkdirTemp("", "explain")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for _, name := range []string{"a.json.gz", "b's.json.gz"} {
		if err := os.WriteFile(filepath.Join(dir, name), gzipped("{}\n"), 0o644); err != nil {
			return err
		}
	}
	query = strings.NewReplacer("'a.json.gz'", quote(filepath.Join(dir, "a.json.gz")),
		"'b''s.json.gz'", quote(filepath.Join(dir, "b's.json.gz"))).Replace(query)
	rows, err := db.Query("EXPLAIN " + query)
	if err != nil {
		return err
	}
	return rows.Close()
}

func gzipped(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

// TestDuckDBSnapshotDatasets runs the DuckDB side on a small corpus of
// each snapshot dataset: every record written, every documented column of
// the type our schema gives it and as often set as in the records.
func TestDuckDBSnapshotDatasets(t *testing.T) {
	const records = 400
	for _, d := range snapshotDatasets() {
		t.Run(d.Name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := corpusConfig(d, records, 2, 3, 5)
			if _, err := sample.Write(filepath.Join(dir, "export"), cfg); err != nil {
				t.Fatal(err)
			}
			c := &corpus{Dir: filepath.Join(dir, "export"), Files: 2}
			if err := c.findPaths(); err != nil {
				t.Fatal(err)
			}

			out := filepath.Join(dir, "out")
			var stdout bytes.Buffer
			job := duckdbJob{Dataset: d, Paths: c.Paths, Output: out, Snapshot: sample.DefaultGeneratedTime, Threads: 2}
			if err := runDuckDB(context.Background(), job, &stdout); err != nil {
				t.Fatal(err)
			}
			var res duckdbResult
			if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || res.Rows != records {
				t.Fatalf("printed %q (%v), want %d rows", stdout.String(), err, records)
			}
			if n, err := countParquetRows(context.Background(), out); err != nil || n != records {
				t.Errorf("counted %d rows (%v), want %d", n, err, records)
			}

			types := parquetTypes(t, out)
			if types[schema.SnapshotTimeColumn] != duckdbOutputType[schema.Timestamp] {
				t.Errorf("snapshot_time is %q", types[schema.SnapshotTimeColumn])
			}
			set := setCounts(t, out, d)
			want := recordSetCounts(t, cfg)
			for _, f := range d.Fields {
				if f.Column == "" {
					continue
				}
				if types[f.Column] != duckdbOutputType[f.Type] {
					t.Errorf("column %s is %q, want %s", f.Column, types[f.Column], duckdbOutputType[f.Type])
				}
				if set[f.Column] != want[f.Column] {
					t.Errorf("column %s set in %d rows, the records set it %d times", f.Column, set[f.Column], want[f.Column])
				}
			}
		})
	}
}

// duckdbOutputType is how DuckDB reads back a column of each of our types.
var duckdbOutputType = map[schema.Type]string{
	schema.String: "VARCHAR", schema.Int64: "BIGINT", schema.Int32: "INTEGER", schema.Double: "DOUBLE",
	schema.Bool: "BOOLEAN", schema.Timestamp: "TIMESTAMP WITH TIME ZONE", schema.StringList: "VARCHAR[]",
}

// setCounts counts the non-NULL values of each documented column below dir.
func setCounts(t *testing.T, dir string, d *schema.Dataset) map[string]int64 {
	t.Helper()
	var cols, exprs []string
	for _, f := range d.Fields {
		if f.Column != "" {
			cols = append(cols, f.Column)
			exprs = append(exprs, "count("+ident(f.Column)+")")
		}
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	counts := make([]int64, len(cols))
	dest := make([]any, len(cols))
	for i := range counts {
		dest[i] = &counts[i]
	}
	q := "SELECT " + strings.Join(exprs, ", ") + " FROM read_parquet(" + quote(dir+"/**/*.parquet") + ", hive_partitioning = false)"
	if err := db.QueryRow(q).Scan(dest...); err != nil {
		t.Fatal(err)
	}
	set := map[string]int64{}
	for i, c := range cols {
		set[c] = counts[i]
	}
	return set
}

// recordSetCounts counts, for each documented column, the records of cfg
// whose field is present and not null.
func recordSetCounts(t *testing.T, cfg sample.Config) map[string]int64 {
	t.Helper()
	set := map[string]int64{}
	err := sample.Records(cfg, func(rec []byte) error {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(rec, &m); err != nil {
			return err
		}
		for k, v := range m {
			if f := cfg.Dataset.Field(k); f != nil && string(v) != "null" {
				set[f.Column]++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return set
}
