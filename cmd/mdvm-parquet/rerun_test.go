package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hashTree returns the SHA-256 of every file below root, by relative path.
func hashTree(t *testing.T, root string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		h := sha256.Sum256(data)
		sums[filepath.ToSlash(rel)] = hex.EncodeToString(h[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

// assertSameTree fails when the files below a folder changed.
func assertSameTree(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	for name, sum := range before {
		switch got, ok := after[name]; {
		case !ok:
			t.Errorf("%s: %s was removed", what, name)
		case got != sum:
			t.Errorf("%s: %s was changed", what, name)
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			t.Errorf("%s: %s was added", what, name)
		}
	}
}

// assertNoLeftovers fails when staging or journal files remain after a run.
func assertNoLeftovers(t *testing.T, lake string) {
	t.Helper()
	for _, dir := range []string{"_staging", "_journal"} {
		for name := range hashTreeIfAny(t, filepath.Join(lake, dir)) {
			t.Errorf("%s/%s left behind", dir, name)
		}
	}
}

func hashTreeIfAny(t *testing.T, root string) map[string]string {
	if _, err := os.Stat(root); os.IsNotExist(err) {
		return nil
	}
	return hashTree(t, root)
}

// countsByDate returns, per snapshot_date, the rows and the distinct
// (source_file, source_line) pairs DuckDB reads in the lake.
func countsByDate(t *testing.T, lake string) map[string]string {
	t.Helper()
	db := openDuckDB(t)
	out := map[string]string{}
	for _, r := range queryDuckDB(t, db, fmt.Sprintf(`SELECT snapshot_date, count(*) AS n,
		count(DISTINCT (source_file, source_line)) AS d FROM read_parquet('%s', hive_partitioning=true) GROUP BY ALL`,
		datasetGlob(lake))) {
		out[r["snapshot_date"][:10]] = r["n"] + " rows, " + r["d"] + " distinct"
	}
	return out
}

func TestConvertRerun(t *testing.T) {
	lake := t.TempDir()
	other := time.Date(2026, 11, 29, 18, 0, 0, 0, time.UTC)
	convertOK(t, nil, "--output", lake, "--snapshot-time", other.Format(time.RFC3339), sampleExport)
	convertOK(t, nil, "--output", lake, sampleExport)
	first := readManifest(t, lake, sampleSnapshot)
	otherBefore := hashTree(t, snapshotDir(lake, other))

	convertOK(t, nil, "--output", lake, sampleExport)

	t.Run("one copy of every row", func(t *testing.T) {
		want := map[string]string{"2026-11-29": "600 rows, 600 distinct", "2026-11-30": "600 rows, 600 distinct"}
		if got := countsByDate(t, lake); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got %v, want %v", got, want)
		}
		second := readManifest(t, lake, sampleSnapshot)
		if second.RunID == first.RunID {
			t.Fatalf("the rerun left the first run's manifest (%s)", first.RunID)
		}
		for _, p := range parquetFiles(t, lake) {
			if strings.Contains(p, "snapshot_date=2026-11-30") && strings.Contains(p, first.RunID) {
				t.Errorf("the rerun left a file of the first run: %s", p)
			}
		}
		files := readExportFolder(t, sampleExport)
		exp := expect(t, decodeExport(t, files), sampleSnapshot, second.keyColumns())
		checkManifest(t, lake, sampleSnapshot, exp)
	})
	t.Run("other snapshot untouched", func(t *testing.T) {
		assertSameTree(t, "snapshot_date="+other.Format(time.DateOnly), otherBefore, hashTree(t, snapshotDir(lake, other)))
	})
	assertNoLeftovers(t, lake)
}

func TestConvertFailedRunKeepsLake(t *testing.T) {
	lake := t.TempDir()
	convertOK(t, nil, "--output", lake, sampleExport)
	before := hashTree(t, filepath.Join(lake, dataset))

	fails := []struct {
		name  string
		files map[string][]byte
		err   string
	}{
		{"too many rejects", map[string][]byte{"a.json.gz": gz(lines(append(records(1, 300), "not json")...))}, "a.json.gz:301"},
		{"truncated gzip", map[string][]byte{
			"a.json.gz": gz(lines(records(1, 300)...)),
			"b.json.gz": func() []byte { b := gz(lines(records(400, 300)...)); return b[:len(b)-3] }(),
		}, "b.json.gz"},
	}
	for _, f := range fails {
		t.Run(f.name, func(t *testing.T) {
			in := t.TempDir()
			for name, data := range f.files {
				if err := os.WriteFile(filepath.Join(in, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			res := runCLI(t, nil, "convert", "--output", lake, "--snapshot-time", sampleSnapshot.Format(time.RFC3339), in)
			if res.code != 1 || !strings.Contains(res.lastLine(), f.err) {
				t.Fatalf("want exit 1 naming %s, got %v", f.err, res)
			}
			assertSameTree(t, dataset, before, hashTree(t, filepath.Join(lake, dataset)))
			assertNoLeftovers(t, lake)
		})
	}
	verifyLake(t, lake, readExportFolder(t, sampleExport), sampleSnapshot)
}

// TestConvertKilledRun kills runs at several points: every file a reader can
// see stays whole, and the next run leaves exactly its own rows.
func TestConvertKilledRun(t *testing.T) {
	lake := t.TempDir()
	convertOK(t, nil, "--output", lake, sampleExport)
	in, tmp := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(in, "a.json.gz"), gz(lines(records(1, 20000)...)), 0o644); err != nil {
		t.Fatal(err)
	}
	// A run takes about 150 ms here: the kills fall on reading, writing,
	// publishing, and after the end.
	for delay := 10 * time.Millisecond; delay <= 160*time.Millisecond; delay += 50 * time.Millisecond {
		cmd := exec.Command(binary, "convert", "--quiet", "--output", lake, "--memory-budget", "1",
			"--snapshot-time", sampleSnapshot.Format(time.RFC3339), in)
		cmd.Env = append(os.Environ(), "TMPDIR="+tmp) // where rows set aside on disk go
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		cmd.Process.Kill()
		cmd.Wait()

		for _, p := range parquetFiles(t, lake) {
			parquetRows(t, p) // fails on a partial file
		}
		db := openDuckDB(t)
		queryDuckDB(t, db, fmt.Sprintf("SELECT count(*) FROM read_parquet('%s', hive_partitioning=true)", datasetGlob(lake)))
	}

	convertOK(t, nil, "--output", lake, sampleExport)
	verifyLake(t, lake, readExportFolder(t, sampleExport), sampleSnapshot)
	assertNoLeftovers(t, lake)
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Logf("killed runs left %d entries in their temporary folder", len(left))
	}
}
