package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
	"github.com/mdvm-parquet/mdvm-parquet/sink"
	"github.com/mdvm-parquet/mdvm-parquet/sink/local"
)

var testSnapshot = time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)

// convertLines converts the given lines as one input into the lake at dir.
func convertLines(t *testing.T, dir string, snapshot time.Time, lines []string, tune func(*Options)) (*Summary, error) {
	t.Helper()
	b, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{
		Dataset: schema.HardwareFirmware, Bucket: b, SnapshotTime: snapshot,
		Inputs: []Input{bytesInput("part-00001.json", []byte(strings.Join(lines, "\n")))},
	}
	if tune != nil {
		tune(&opt)
	}
	return Convert(context.Background(), opt)
}

func record(i int, group, af string) string {
	return fmt.Sprintf(`{"DeviceId":"dev%05d","RbacGroupId":%s,"ComponentType":"Bios","AdditionalFields":%q}`, i, group, af)
}

// lakeFiles returns the Parquet files below dir, relative to it.
func lakeFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".parquet") {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return nil
	})
	sort.Strings(files)
	return files
}

func openParquet(t *testing.T, path string) *parquet.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	info, _ := f.Stat()
	pf, err := parquet.OpenFile(f, info.Size())
	if err != nil {
		t.Fatal(err)
	}
	return pf
}

// columnValues returns the values of one column of a file, as text.
func columnValues(t *testing.T, pf *parquet.File, name string) []string {
	t.Helper()
	leaf, ok := pf.Schema().Lookup(name)
	if !ok {
		t.Fatalf("no column %s in %s", name, pf.Schema())
	}
	var out []string
	for _, rg := range pf.RowGroups() {
		rows := rg.Rows()
		buf := make([]parquet.Row, 64)
		for {
			n, err := rows.ReadRows(buf)
			for _, r := range buf[:n] {
				v := r[leaf.ColumnIndex]
				if v.IsNull() {
					out = append(out, "<null>")
				} else {
					out = append(out, v.String())
				}
			}
			if err != nil {
				break
			}
		}
		rows.Close()
	}
	return out
}

// TestConvertRewritesStaleFiles makes a key widen from integer to text, and
// another appear, after files were written: every file of the snapshot must
// end with the final schema and the values as written.
func TestConvertRewritesStaleFiles(t *testing.T) {
	// The widening comes several chunks in, after the first row groups
	// were written: decoding runs only a few chunks ahead of writing.
	const n, widen = 12000, 10000
	var lines []string
	for i := 0; i < n; i++ {
		k := `7`
		if i >= widen {
			k = `"v3"`
		}
		late := ""
		if i == n-1 {
			late = `,"Late":true`
		}
		lines = append(lines, record(i, fmt.Sprint(1+i%3), `{"K":`+k+`,"Pad":"`+strings.Repeat("p", 200)+`"`+late+`}`))
	}
	dir := t.TempDir()
	sum, err := convertLines(t, dir, testSnapshot, lines, func(o *Options) {
		o.Readers, o.Decoders = 1, 1
		o.MemoryBudget, o.RowGroupBytes = 64<<10, 64<<10
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.RewrittenFiles == 0 {
		t.Fatalf("no file was rewritten; the test did not flush before the key widened")
	}
	if sum.Rows != n || sum.Records != n {
		t.Fatalf("rows %d, records %d", sum.Rows, sum.Records)
	}
	var want string
	counts := map[string]int{}
	for _, f := range lakeFiles(t, dir) {
		pf := openParquet(t, filepath.Join(dir, f))
		if s := pf.Schema().String(); want == "" {
			want = s
		} else if s != want {
			t.Fatalf("%s has schema\n%s\nwant\n%s", f, s, want)
		}
		for _, v := range columnValues(t, pf, "af_k") {
			counts[v]++
		}
		if got := columnValues(t, pf, "af_late"); len(got) == 0 {
			t.Fatalf("%s: no af_late column", f)
		}
	}
	if counts["7"] != widen || counts["v3"] != n-widen {
		t.Errorf("af_k values %v, want %d × 7 and %d × v3", counts, widen, n-widen)
	}
	if !strings.Contains(want, "binary af_k (STRING)") || !strings.Contains(want, "boolean af_late") {
		t.Errorf("schema:\n%s", want)
	}
}

// TestConvertRerun checks that a rerun of a snapshot replaces it, and leaves
// other snapshot dates alone.
func TestConvertRerun(t *testing.T) {
	dir := t.TempDir()
	lines := []string{record(1, "1", `{}`), record(2, "2", `{}`)}
	other := testSnapshot.AddDate(0, 0, -1)
	for _, s := range []time.Time{other, testSnapshot, testSnapshot} {
		if _, err := convertLines(t, dir, s, lines, nil); err != nil {
			t.Fatal(err)
		}
	}
	files := lakeFiles(t, dir)
	if len(files) != 4 {
		t.Fatalf("files %v: want two groups on two dates", files)
	}
	for _, d := range []string{"2026-11-29", "2026-11-30"} {
		for _, f := range []string{SuccessFile, ManifestFile} {
			if _, err := os.Stat(filepath.Join(dir, "hardware_firmware", "snapshot_date="+d, f)); err != nil {
				t.Error(err)
			}
		}
	}
	for _, left := range []string{stagingDir, journalDir} {
		entries, _ := os.ReadDir(filepath.Join(dir, left))
		for _, e := range entries {
			sub, _ := os.ReadDir(filepath.Join(dir, left, e.Name()))
			if len(sub) > 0 {
				t.Errorf("%s/%s left behind: %v", left, e.Name(), sub)
			}
		}
	}
}

// TestConvertRerunRejects checks that a rerun leaves the rejects of the
// published run only.
func TestConvertRerunRejects(t *testing.T) {
	dir := t.TempDir()
	var sum *Summary
	for range 2 {
		var err error
		sum, err = convertLines(t, dir, testSnapshot, []string{record(1, "1", `{}`), "bad"}, func(o *Options) { o.MaxRejected = 1 })
		if err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir, RejectedDir, "hardware_firmware", "snapshot_date=2026-11-30"))
	if err != nil || len(entries) != 1 || entries[0].Name() != sum.RunID+".jsonl" {
		t.Fatalf("rejects files %v (%v), want only %s.jsonl", entries, err, sum.RunID)
	}
}

// TestConvertFailurePublishesNothing checks that a run over the reject limit
// leaves the previous snapshot exactly as it was.
func TestConvertFailurePublishesNothing(t *testing.T) {
	dir := t.TempDir()
	if _, err := convertLines(t, dir, testSnapshot, []string{record(1, "1", `{}`)}, nil); err != nil {
		t.Fatal(err)
	}
	before := lakeFiles(t, dir)
	sum, err := convertLines(t, dir, testSnapshot, []string{record(2, "1", `{}`), "oops", record(3, "5", `{}`), "oops again"}, nil)
	if !errors.Is(err, ErrTooManyRejected) || !strings.Contains(err.Error(), "part-00001.json:2") {
		t.Fatalf("err = %v", err)
	}
	// The summary reconciles with what was published: nothing.
	if sum.Published || sum.Records != 4 || sum.Rows != 0 || sum.Rejected != 2 || sum.NotPublished != 2 ||
		sum.Partitions+sum.ParquetFiles != 0 || sum.BytesOut != 0 {
		t.Errorf("summary %+v; want 4 records = 0 rows + 2 rejected + 2 not published, nothing published", sum)
	}
	if kept := sum.Inputs[0].Rejected; kept < 1 || kept > sum.Rejected {
		t.Errorf("the rejects file holds %d of the %d rejects", kept, sum.Rejected)
	}
	if after := lakeFiles(t, dir); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("lake changed: %v → %v", before, after)
	}
	data, err := os.ReadFile(filepath.Join(dir, strings.TrimPrefix(sum.RejectsFile, dir+"/")))
	if err != nil || !strings.Contains(string(data), `"line":2`) || !strings.Contains(string(data), `"raw":"oops"`) {
		t.Errorf("rejects file: %s, %v", data, err)
	}
}

// TestRecoverLake leaves the journal of a run killed in each phase of its
// publish, and checks that the next run puts the lake right.
func TestRecoverLake(t *testing.T) {
	for _, phase := range []string{phaseMoving, phaseReplacing} {
		t.Run(phase, func(t *testing.T) {
			dir := t.TempDir()
			ctx := context.Background()
			if _, err := convertLines(t, dir, testSnapshot, []string{record(1, "1", `{}`)}, nil); err != nil {
				t.Fatal(err)
			}
			b, _ := local.New(dir)
			old := lakeFiles(t, dir)
			datePath := "hardware_firmware/snapshot_date=2026-11-30"
			newFile := datePath + "/rbac_group_id=1/part-killed-00001.parquet"
			data, _ := os.ReadFile(filepath.Join(dir, old[0]))
			if err := sink.Put(ctx, b, newFile, data); err != nil {
				t.Fatal(err)
			}
			j := journal{RunID: "killed", Dataset: "hardware_firmware", Phase: phase, DatePath: datePath,
				New: []string{newFile}, Old: append([]string{datePath + "/" + SuccessFile}, old...), Manifest: []byte(`{}`)}
			if err := writeJournal(ctx, b, j); err != nil {
				t.Fatal(err)
			}
			if err := recoverLake(ctx, b, schema.HardwareFirmware, "", testLogger(t)); err != nil {
				t.Fatal(err)
			}
			got := lakeFiles(t, dir)
			want := old
			if phase == phaseReplacing {
				want = []string{newFile}
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("files %v, want %v", got, want)
			}
			if _, err := os.Stat(filepath.Join(dir, datePath, SuccessFile)); err != nil {
				t.Errorf("no _SUCCESS after recovery: %v", err)
			}
		})
	}
}

// TestConvertLeavesLiveRunsAlone checks that a run does not undo the
// publish, nor remove the staged files, of a run still going on, and does
// clean up after a dead one.
func TestConvertLeavesLiveRunsAlone(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	b, _ := local.New(dir)
	ds := schema.HardwareFirmware
	live := thisOwner("live", time.Now())
	dead := owner{RunID: "dead", Host: live.Host, PID: 1 << 30, Started: time.Now()}
	for _, o := range []owner{live, dead} {
		if err := claim(ctx, b, ds, o); err != nil {
			t.Fatal(err)
		}
		if err := sink.Put(ctx, b, stagingPrefix(ds, o.RunID)+"x.parquet", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := convertLines(t, dir, testSnapshot, []string{record(1, "1", `{}`)}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, stagingPrefix(ds, "live"), "x.parquet")); err != nil {
		t.Errorf("a live run's staged file was removed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, stagingPrefix(ds, "dead"), "x.parquet")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a dead run's staged file is still there: %v", err)
	}

	j := journal{RunID: "live", Dataset: ds.Name, Phase: phaseMoving, DatePath: "hardware_firmware/snapshot_date=2026-11-30", Owner: live}
	if err := writeJournal(ctx, b, j); err != nil {
		t.Fatal(err)
	}
	before := lakeFiles(t, dir)
	_, err := convertLines(t, dir, testSnapshot, []string{record(2, "1", `{}`)}, nil)
	if !errors.Is(err, ErrLakeBusy) {
		t.Fatalf("err = %v, want ErrLakeBusy", err)
	}
	if after := lakeFiles(t, dir); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("lake changed while another run was publishing: %v → %v", before, after)
	}
}

// TestConvertNoRecords checks that inputs without a record publish nothing
// rather than an empty snapshot over the date's rows.
func TestConvertNoRecords(t *testing.T) {
	dir := t.TempDir()
	if _, err := convertLines(t, dir, testSnapshot, []string{record(1, "1", `{}`)}, nil); err != nil {
		t.Fatal(err)
	}
	before := lakeFiles(t, dir)
	_, err := convertLines(t, dir, testSnapshot, []string{"", "  "}, nil)
	if !errors.Is(err, ErrNoRecords) {
		t.Fatalf("err = %v, want ErrNoRecords", err)
	}
	if after := lakeFiles(t, dir); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("lake changed: %v → %v", before, after)
	}
}
