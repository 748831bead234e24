package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mdvm-parquet/mdvm-parquet/sink/azurite"
)

// End-to-end tests of the built binary: it is run as a user runs it, and the
// lake it writes is read back with DuckDB and with the Arrow Go Parquet
// reader.

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// binary is the mdvm-parquet command built for this test run.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "mdvm-parquet-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "mdvm-parquet")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build mdvm-parquet:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := azurite.Run(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

const sampleExport = "../../testdata/sample-export"

// sampleSnapshot is the generatedTime of the bundled sample's export.json.
var sampleSnapshot = time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)

// result is what a run of the binary left: its output and exit code.
type result struct {
	stdout, stderr string
	code           int
}

// lastLine is the last non-empty line of stderr: the error, if any.
func (r result) lastLine() string {
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	return lines[len(lines)-1]
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// runTimeout bounds one run of the binary; the runs of these tests take
// well under a second each.
const runTimeout = 60 * time.Second

// runCLI runs the binary with args and stdin, with no MDVM_ variable of the
// environment leaking in.
func runCLI(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	// A run that hangs is stopped with SIGQUIT, so that its goroutines
	// are printed on the stderr the failure shows.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGQUIT) }
	cmd.WaitDelay = 10 * time.Second
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MDVM_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	if ctx.Err() != nil {
		t.Fatalf("run %v: no exit within %s:\n%v", args, runTimeout, res)
	}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run %v: %v", args, err)
		}
		res.code = ee.ExitCode()
	}
	return res
}

// convertOK runs convert and fails the test unless it exits 0.
func convertOK(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	res := runCLI(t, stdin, append([]string{"convert"}, args...)...)
	if res.code != 0 {
		t.Fatalf("convert %v: %v", args, res)
	}
	return res
}

// manifest is the part of _manifest.json the tests read.
type manifest struct {
	RunID    string `json:"run_id"`
	Dataset  string `json:"dataset"`
	Records  int64  `json:"records"`
	Rows     int64  `json:"rows"`
	Rejected int64  `json:"rejected"`
	Inputs   []struct {
		Name     string `json:"name"`
		Records  int64  `json:"records"`
		Rejected int64  `json:"rejected"`
	} `json:"inputs"`
	Outputs []struct {
		Name      string `json:"name"`
		Partition string `json:"partition"`
		Rows      int64  `json:"rows"`
		Bytes     int64  `json:"bytes"`
	} `json:"outputs"`
	Flattened map[string][]string `json:"flattened_keys"`
}

func snapshotDir(lake string, date time.Time) string {
	return filepath.Join(lake, dataset, "snapshot_date="+date.UTC().Format(time.DateOnly))
}

func readManifest(t *testing.T, lake string, date time.Time) manifest {
	t.Helper()
	var m manifest
	readJSON(t, filepath.Join(snapshotDir(lake, date), "_manifest.json"), &m)
	return m
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// keyColumns inverts the manifest's column → keys mapping.
func (m manifest) keyColumns() map[string]string {
	kc := map[string]string{}
	for col, keys := range m.Flattened {
		for _, k := range keys {
			kc[k] = col
		}
	}
	return kc
}

// verifyLake reads the lake with both readers, checks they agree and that
// they hold exactly the rows the oracle expects of files, and returns the
// DuckDB view.
func verifyLake(t *testing.T, lake string, files []exportFile, snapshot time.Time) (*table, *expectation) {
	t.Helper()
	m := readManifest(t, lake, snapshot)
	e := expect(t, decodeExport(t, files), snapshot, m.keyColumns())
	for _, f := range files {
		e.perFile[f.name] += 0 // files without records are inputs too
	}
	checkLakeSize(t, lake, files)
	duck := readDuckDB(t, lake)
	e.check(t, duck)
	compareTables(t, duck, readArrow(t, lake))
	if !validUTF8Rows(duck) {
		t.Error("a cell is not valid UTF-8")
	}
	return duck, e
}

// checkLakeSize fails when the Parquet files take more room than the JSON
// they were made from, beyond a fixed overhead per file: a value must not be
// stored many times over (as statistics of every page, say).
func checkLakeSize(t *testing.T, lake string, files []exportFile) {
	t.Helper()
	var raw, out int64
	for _, f := range files {
		raw += int64(len(decompressed(t, f)))
	}
	paths := parquetFiles(t, lake)
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		out += info.Size()
	}
	const perFile = 64 << 10
	if limit := raw + perFile*int64(len(paths)); out > limit {
		// Fatal: such files take long to read back, and the Arrow Go reader
		// refuses page headers over 4 MiB.
		t.Fatalf("%d Parquet files take %d bytes for %d bytes of JSON (limit %d)", len(paths), out, raw, limit)
	}
}

func TestConvertSample(t *testing.T) {
	lake := t.TempDir()
	sumPath := filepath.Join(t.TempDir(), "summary.json")
	res := convertOK(t, nil, "--output", lake, "--summary-json", sumPath, sampleExport)

	files := readExportFolder(t, sampleExport)
	duck, exp := verifyLake(t, lake, files, sampleSnapshot)

	t.Run("rows per partition", func(t *testing.T) {
		db := openDuckDB(t)
		got := map[string]int{}
		for _, r := range queryDuckDB(t, db, fmt.Sprintf(
			"SELECT rbac_group_id, snapshot_date, count(*) AS n FROM read_parquet('%s', hive_partitioning=true) GROUP BY ALL",
			datasetGlob(lake))) {
			if r["snapshot_date"] != cell(sampleSnapshot.Truncate(24*time.Hour)) {
				t.Errorf("snapshot_date %q", r["snapshot_date"])
			}
			n, _ := strconv.Atoi(r["n"])
			got[r["rbac_group_id"]] = n
		}
		want := exp.partitionCounts()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("rows per rbac_group_id:\n got %v\nwant %v", got, want)
		}
		if want[nullCell] == 0 {
			t.Fatal("the sample has no unassigned group: the NULL partition is not tested")
		}
		if _, err := os.Stat(filepath.Join(snapshotDir(lake, sampleSnapshot), "rbac_group_id="+defaultGroup)); err != nil {
			t.Errorf("NULL group folder: %v", err)
		}
		if len(exp.rejects) != 0 {
			t.Errorf("the oracle rejects %d sample records", len(exp.rejects))
		}
	})

	t.Run("column types", func(t *testing.T) {
		want := map[string]string{
			"device_id": "VARCHAR", "device_name": "VARCHAR", "rbac_group_name": "VARCHAR",
			"component_type": "VARCHAR", "manufacturer": "VARCHAR", "component_name": "VARCHAR",
			"component_version": "VARCHAR", "additional_fields": "VARCHAR",
			"snapshot_time": "TIMESTAMP WITH TIME ZONE", "extra_fields": "VARCHAR",
			"source_file": "VARCHAR", "source_line": "BIGINT",
			"rbac_group_id": "BIGINT", "snapshot_date": "DATE",
		}
		for col, typ := range want {
			if got := duck.types[col]; got != typ {
				t.Errorf("column %s: DuckDB type %q, want %q", col, got, typ)
			}
		}
		seen := map[string]bool{}
		for col, typ := range duck.types {
			if _, ok := want[col]; ok {
				continue
			}
			if !regexp.MustCompile(`^af_[a-z0-9_]+$`).MatchString(col) {
				t.Errorf("column %s: neither documented nor af_[a-z0-9_]+", col)
			}
			if seen[strings.ToLower(col)] {
				t.Errorf("column %s: not unique without regard to case", col)
			}
			seen[strings.ToLower(col)] = true
			seen[typ] = true
		}
		for _, typ := range []string{"VARCHAR", "BIGINT", "DOUBLE", "BOOLEAN"} {
			if !seen[typ] {
				t.Errorf("no flattened column of type %s: the sample no longer covers it", typ)
			}
		}
	})

	t.Run("exact values", func(t *testing.T) { checkSampleValues(t, duck) })

	t.Run("one schema per snapshot", func(t *testing.T) {
		paths := parquetFiles(t, lake)
		schemas, meta := fileSchemas(t, paths)
		for i := range schemas {
			if schemas[i] != schemas[0] {
				t.Errorf("%s has another schema than %s:\n%s\n---\n%s", paths[i], paths[0], schemas[i], schemas[0])
			}
			if meta[i]["mdvm.flattened"] != meta[0]["mdvm.flattened"] || meta[i]["mdvm.flattened"] == "" {
				t.Errorf("%s: mdvm.flattened metadata differs or is empty", paths[i])
			}
		}
	})

	t.Run("file layout", func(t *testing.T) {
		for _, p := range parquetFiles(t, lake) {
			checkFileLayout(t, p, "snappy")
		}
	})

	t.Run("no progress bar off a terminal", func(t *testing.T) {
		if strings.ContainsAny(res.stderr, "\r\x1b") {
			t.Errorf("stderr holds terminal control characters:\n%q", res.stderr)
		}
	})

	t.Run("manifest", func(t *testing.T) { checkManifest(t, lake, sampleSnapshot, exp) })

	t.Run("summary", func(t *testing.T) { checkSummary(t, res, sumPath, exp, lake) })
}

// checkSampleValues checks a handful of records of the sample, cell by cell,
// against values written out by hand.
func checkSampleValues(t *testing.T, duck *table) {
	const dir = "2026-11-30/0600/FirmwareHardwareExport/json/OrgId=9480f0a3-6a0f-4b85-8938-d6f7fec07a64/"
	const part = "-e99260ed-b678-40ee-95f1-34060d0c3677.c000.json.gz"
	cases := []struct {
		name string
		file string
		line int
		want map[string]string
	}{{
		name: "documented fields and object additionalFields",
		file: "_RbacGroupId=13/part-00006", line: 22,
		want: map[string]string{
			"device_id":                      "db06ee8607649b3e9278afae4dac3761c6f06399",
			"device_name":                    "ws-zrh-1187.fabrikam.com",
			"rbac_group_id":                  "13",
			"rbac_group_name":                "Point of Sale APAC",
			"component_type":                 "Hardware",
			"manufacturer":                   "dell",
			"component_name":                 "optiplex_7090",
			"component_version":              "1.0",
			"snapshot_time":                  "2026-11-30T06:00:00Z",
			"snapshot_date":                  "2026-11-30T00:00:00Z",
			"additional_fields":              `{"SystemSKU":"0A5B","SystemFamily":"OptiPlex","BaseBoardManufacturer":"Dell Inc.","BaseBoardProduct":"0W0CHX","BaseBoardVersion":"A00","DeviceFamily":"Workstation","ChassisType":"Desktop","FirmwareType":"UEFI","SecureBootEnabled":true,"TpmVersion":"2.0","MemoryGB":16,"IsVirtualMachine":false,"LastInventoryTime":"2026-11-28 19:12:29.538","SystemProductName":"OptiPlex 7090","BoardRevision":6,"TotalPhysicalMemoryBytes":16804478976,"DiskCount":1,"TotalDiskGB":256,"NetworkAdapterCount":2,"AssetTag":"No Asset Tag"}`,
			"extra_fields":                   `{"IsOnboarded":true}`,
			"af_system_sku":                  "0A5B",
			"af_memory_gb":                   "16",
			"af_is_virtual_machine":          "false",
			"af_secure_boot_enabled":         "true",
			"af_total_physical_memory_bytes": "16804478976",
			"af_clock_speed_ghz":             nullCell,
			"source_line":                    "22",
		},
	}, {
		name: "group Unassigned goes to the NULL partition, its text kept",
		file: "_RbacGroupId=0/part-00000", line: 7,
		want: map[string]string{
			"device_id":       "8dfd8a84830e71f0fcabece3e6b9b3c4574a3e36",
			"rbac_group_id":   nullCell,
			"rbac_group_name": "Unassigned",
			"component_type":  "Hardware",
			"extra_fields":    `{"RbacGroupId":"Unassigned"}`,
			"af_system_sku":   "9VA54UT#ABA",
		},
	}, {
		name: "additionalFields as key/value pairs",
		file: "_RbacGroupId=0/part-00000", line: 20,
		want: map[string]string{
			"device_id":              "230bcdf5255a920424ba67b909147b65b9a1f5eb",
			"rbac_group_id":          "0",
			"rbac_group_name":        "Unassigned",
			"component_type":         "Bios",
			"component_version":      "19.101.140",
			"extra_fields":           nullCell,
			"af_system_sku":          "Surface_Laptop_4_1950:1951",
			"af_base_board_version":  "",
			"af_memory_gb":           "8",
			"af_secure_boot_enabled": "true",
		},
	}, {
		name: "camelCase keys",
		file: "_RbacGroupId=13/part-00006", line: 42,
		want: map[string]string{
			"device_id":          "77e82c9566438a10fc7e902ddb83658c999edfa3",
			"rbac_group_id":      "13",
			"device_name":        "srv-print-920",
			"component_type":     "Processor",
			"extra_fields":       nullCell,
			"af_clock_speed_ghz": "2.4",
			"af_number_of_cores": "16",
		},
	}, {
		name: "group missing takes the file's _RbacGroupId",
		file: "_RbacGroupId=18/part-00007", line: 20,
		want: map[string]string{
			"device_id":       "731b647fdf77bed454f4f5a7b8174fd38e409c15",
			"rbac_group_id":   "18",
			"rbac_group_name": "R&D Labs London",
			"extra_fields":    nullCell,
		},
	}, {
		name: "group as digits in a string",
		file: "_RbacGroupId=63/part-00015", line: 7,
		want: map[string]string{
			"rbac_group_id":   "63",
			"rbac_group_name": "Servers - Production Zürich",
			"extra_fields":    nullCell,
		},
	}, {
		name: "additionalFields empty string",
		file: "_RbacGroupId=22/part-00010", line: 3,
		want: map[string]string{
			"device_id":         "8d250de504756145ad6cfde6abfab194975af9b8",
			"additional_fields": "",
			"af_system_sku":     nullCell,
		},
	}, {
		name: "additionalFields null",
		file: "_RbacGroupId=4/part-00002", line: 11,
		want: map[string]string{
			"additional_fields": nullCell,
			"af_system_sku":     nullCell,
		},
	}, {
		name: "additionalFields absent",
		file: "_RbacGroupId=11/part-00003", line: 7,
		want: map[string]string{
			"device_id":         "4930fdece84999107194c5bcb64188bdba3abb27",
			"additional_fields": nullCell,
		},
	}}
	byKey := map[string]map[string]string{}
	for _, r := range duck.rows {
		byKey[r["source_file"]+":"+r["source_line"]] = r
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := fmt.Sprintf("%s%s%s:%d", dir, c.file, part, c.line)
			row := byKey[key]
			if row == nil {
				t.Fatalf("no row %s", key)
			}
			for col, want := range c.want {
				if got, ok := row[col]; !ok || got != want {
					t.Errorf("%s: column %s = %q, want %q", key, col, clip(got), clip(want))
				}
			}
		})
	}
}

// checkManifest checks the manifest reconciles and names the files on disk.
func checkManifest(t *testing.T, lake string, snapshot time.Time, exp *expectation) {
	m := readManifest(t, lake, snapshot)
	if m.Records != m.Rows+m.Rejected {
		t.Errorf("manifest: records %d != rows %d + rejected %d", m.Records, m.Rows, m.Rejected)
	}
	if m.Records != int64(exp.records) || m.Rows != int64(len(exp.rows)) || m.Rejected != int64(len(exp.rejects)) {
		t.Errorf("manifest: records %d, rows %d, rejected %d; the input has %d records, %d rows, %d rejects",
			m.Records, m.Rows, m.Rejected, exp.records, len(exp.rows), len(exp.rejects))
	}
	var inRecords int64
	for _, in := range m.Inputs {
		inRecords += in.Records
		if want := int64(exp.perFile[in.Name]); in.Records != want {
			t.Errorf("manifest input %s: %d records, the file has %d", in.Name, in.Records, want)
		}
	}
	if inRecords != m.Records || len(m.Inputs) != len(exp.perFile) {
		t.Errorf("manifest: %d inputs with %d records; want %d inputs, %d records", len(m.Inputs), inRecords, len(exp.perFile), m.Records)
	}

	var listed, onDisk []string
	var outRows int64
	for _, o := range m.Outputs {
		listed = append(listed, o.Name)
		outRows += o.Rows
		path := filepath.Join(lake, filepath.FromSlash(o.Name))
		info, err := os.Stat(path)
		if err != nil {
			t.Errorf("manifest output %s: %v", o.Name, err)
			continue
		}
		if info.Size() != o.Bytes {
			t.Errorf("manifest output %s: %d bytes, file has %d", o.Name, o.Bytes, info.Size())
		}
		if n := parquetRows(t, path); n != o.Rows {
			t.Errorf("manifest output %s: %d rows, file has %d", o.Name, o.Rows, n)
		}
		if !strings.HasPrefix(o.Name, o.Partition+"/") {
			t.Errorf("manifest output %s is not in its partition %s", o.Name, o.Partition)
		}
	}
	if outRows != m.Rows {
		t.Errorf("manifest: outputs hold %d rows, rows says %d", outRows, m.Rows)
	}
	for _, p := range parquetFiles(t, lake) {
		if strings.HasPrefix(p, snapshotDir(lake, snapshot)+string(filepath.Separator)) {
			rel, _ := filepath.Rel(lake, p)
			onDisk = append(onDisk, filepath.ToSlash(rel))
		}
	}
	sort.Strings(listed)
	if strings.Join(listed, "\n") != strings.Join(onDisk, "\n") {
		t.Errorf("manifest outputs:\n%s\nfiles on disk:\n%s", strings.Join(listed, "\n"), strings.Join(onDisk, "\n"))
	}
	if _, err := os.Stat(filepath.Join(snapshotDir(lake, snapshot), "_SUCCESS")); err != nil {
		t.Errorf("_SUCCESS: %v", err)
	}
}

// summary is the part of the --summary-json file the tests read.
type summary struct {
	RunID        string    `json:"run_id"`
	Dataset      string    `json:"dataset"`
	SnapshotTime time.Time `json:"snapshot_time"`
	Files        int       `json:"files"`
	Records      int64     `json:"records"`
	Rows         int64     `json:"rows"`
	Rejected     int64     `json:"rejected"`
	NotPublished int64     `json:"not_published"`
	RejectsFile  string    `json:"rejects_file"`
	InvalidUTF8  int64     `json:"invalid_utf8_records"`
	Partitions   int       `json:"partitions"`
	ParquetFiles int       `json:"parquet_files"`
	BytesOut     int64     `json:"bytes_out"`
	Published    bool      `json:"published"`
}

var (
	summaryRecords = regexp.MustCompile(`(?m)^\s+records\s+(\d+) read = (\d+) rows written \+ (\d+) rejected$`)
	summaryFiles   = regexp.MustCompile(`(?m)^\s+files\s+(\d+) read`)
	summaryOutput  = regexp.MustCompile(`(?m)^\s+output\s+(\d+) partitions, (\d+) Parquet files`)
	summaryHead    = regexp.MustCompile(`(?m)^(\S+) snapshot (\S+) of .*: (published|NOT published)$`)
)

// checkSummary checks the printed summary and the JSON one agree with each
// other, with the oracle and with the lake.
func checkSummary(t *testing.T, res result, sumPath string, exp *expectation, lake string) {
	var s summary
	readJSON(t, sumPath, &s)
	head := summaryHead.FindStringSubmatch(res.stdout)
	recs := summaryRecords.FindStringSubmatch(res.stdout)
	files := summaryFiles.FindStringSubmatch(res.stdout)
	out := summaryOutput.FindStringSubmatch(res.stdout)
	if head == nil || recs == nil || files == nil || out == nil {
		t.Fatalf("summary on stdout lacks a line:\n%s", res.stdout)
	}
	printed := fmt.Sprintf("%s %s %s files=%s records=%s rows=%s rejected=%s partitions=%s parquet=%s",
		head[1], head[2], head[3], files[1], recs[1], recs[2], recs[3], out[1], out[2])
	state := map[bool]string{true: "published", false: "NOT published"}[s.Published]
	fromJSON := fmt.Sprintf("%s %s %s files=%d records=%d rows=%d rejected=%d partitions=%d parquet=%d",
		s.Dataset, s.SnapshotTime.Format(time.RFC3339), state, s.Files, s.Records, s.Rows, s.Rejected, s.Partitions, s.ParquetFiles)
	if printed != fromJSON {
		t.Errorf("summaries disagree:\nprinted %s\njson    %s", printed, fromJSON)
	}
	nFiles := len(parquetFiles(t, lake))
	want := fmt.Sprintf("%s %s published files=%d records=%d rows=%d rejected=%d partitions=%d parquet=%d",
		dataset, exp.snapshot.Format(time.RFC3339), len(exp.perFile), exp.records, len(exp.rows), len(exp.rejects),
		len(exp.partitionCounts()), nFiles)
	if fromJSON != want {
		t.Errorf("summary:\n got %s\nwant %s", fromJSON, want)
	}
	var bytesOut int64
	for _, p := range parquetFiles(t, lake) {
		if info, err := os.Stat(p); err == nil && strings.HasPrefix(p, snapshotDir(lake, exp.snapshot)) {
			bytesOut += info.Size()
		}
	}
	if s.BytesOut != bytesOut {
		t.Errorf("summary: bytes_out %d, the files hold %d", s.BytesOut, bytesOut)
	}
	m := readManifest(t, lake, exp.snapshot)
	if m.RunID != s.RunID {
		t.Errorf("summary run %s, manifest run %s", s.RunID, m.RunID)
	}
}

func TestConvertCompression(t *testing.T) {
	for _, c := range []struct{ flag, codec string }{
		{"zstd", "ZSTD"}, {"gzip", "GZIP"}, {"none", "UNCOMPRESSED"},
	} {
		t.Run(c.flag, func(t *testing.T) {
			t.Parallel()
			lake := t.TempDir()
			convertOK(t, nil, "--output", lake, "--compression", c.flag, sampleExport)
			for _, p := range parquetFiles(t, lake) {
				checkFileLayout(t, p, c.codec)
			}
			duck := readDuckDB(t, lake)
			if len(duck.rows) != 600 {
				t.Errorf("DuckDB reads %d rows, want 600", len(duck.rows))
			}
			compareTables(t, duck, readArrow(t, lake))
		})
	}
}

// TestConvertQuietAndEnvironment sets every flag from MDVM_ variables and
// checks that a quiet run prints nothing.
func TestConvertQuietAndEnvironment(t *testing.T) {
	lake := t.TempDir()
	in := t.TempDir()
	if err := os.WriteFile(filepath.Join(in, "a.json"), lines(append(records(1, 5), "not json")...), 0o644); err != nil {
		t.Fatal(err)
	}
	sumPath := filepath.Join(t.TempDir(), "summary.json")
	cmd := exec.Command(binary, "convert", in)
	cmd.Env = append(os.Environ(), "MDVM_QUIET=true", "MDVM_OUTPUT="+lake, "MDVM_SNAPSHOT_TIME=2026-11-30T22:30:00-08:00",
		"MDVM_MAX_REJECTED=1", "MDVM_COMPRESSION=zstd", "MDVM_SUMMARY_JSON="+sumPath)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("convert: %v\n%s", err, stderr.String())
	}
	if stdout.Len()+stderr.Len() != 0 {
		t.Errorf("a quiet run printed:\n%s%s", stdout.String(), stderr.String())
	}
	var s summary
	readJSON(t, sumPath, &s)
	// The offset is taken into account: the snapshot is in UTC, its date too.
	want := time.Date(2026, 12, 1, 6, 30, 0, 0, time.UTC)
	if !s.SnapshotTime.Equal(want) || s.Rows != 5 || s.Rejected != 1 || !s.Published {
		t.Errorf("summary %+v; want snapshot %s, 5 rows, 1 rejected, published", s, want)
	}
	for _, p := range parquetFiles(t, lake) {
		if !strings.Contains(p, "snapshot_date=2026-12-01") {
			t.Errorf("%s: not in the snapshot's UTC date", p)
		}
		checkFileLayout(t, p, "ZSTD")
	}
}
