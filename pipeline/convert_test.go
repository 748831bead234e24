package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
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
	sum, err := convertLines(t, dir, testSnapshot, []string{record(1, "1", `{}`)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Published || !slices.Equal(sum.PublishedDates, []string{"2026-11-30"}) || len(sum.UnpublishedDates) != 0 {
		t.Errorf("published %v, dates %v and %v; want the snapshot's one date", sum.Published, sum.PublishedDates, sum.UnpublishedDates)
	}
	before := lakeFiles(t, dir)
	sum, err = convertLines(t, dir, testSnapshot, []string{record(2, "1", `{}`), "oops", record(3, "5", `{}`), "oops again"}, nil)
	if !errors.Is(err, ErrTooManyRejected) || !strings.Contains(err.Error(), "part-00001.json:2") {
		t.Fatalf("err = %v", err)
	}
	// The summary reconciles with what was published: nothing.
	if sum.Published || sum.Records != 4 || sum.Rows != 0 || sum.Rejected != 2 || sum.NotPublished != 2 ||
		sum.Partitions+sum.ParquetFiles != 0 || sum.BytesOut != 0 {
		t.Errorf("summary %+v; want 4 records = 0 rows + 2 rejected + 2 not published, nothing published", sum)
	}
	if len(sum.PublishedDates)+len(sum.UnpublishedDates) != 0 {
		t.Errorf("dates published %v, unpublished %v; want none: the run failed before publishing", sum.PublishedDates, sum.UnpublishedDates)
	}
	if kept := sum.RejectsWritten; kept < 1 || kept > sum.Rejected {
		t.Errorf("the rejects file holds %d of the %d rejects", kept, sum.Rejected)
	}
	// Each file's counts add up to the run's, rejects written or not.
	var records, rejected int64
	for _, in := range sum.Inputs {
		records, rejected = records+in.Records, rejected+in.Rejected
	}
	if records != sum.Records || rejected != sum.Rejected {
		t.Errorf("inputs count %d records, %d rejected; the run %d, %d", records, rejected, sum.Records, sum.Rejected)
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

// failMoves is a bucket whose moves into one folder fail, as storage that
// gives out part way through a publish does.
type failMoves struct {
	sink.Bucket
	prefix string
}

var errMoveFault = errors.New("move refused by the test")

func (b failMoves) Move(ctx context.Context, from, to string) error {
	if strings.HasPrefix(to, b.prefix) {
		return fmt.Errorf("move %s: %w", to, errMoveFault)
	}
	return b.Bucket.Move(ctx, from, to)
}

// TestConvertByEventFailsPartWay makes the publish of the second of three
// event dates fail: the first stays published, the third as it was, and the
// summary says so and reconciles. A rerun publishes every date.
func TestConvertByEventFailsPartWay(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	byEvent := func(o *Options) { o.Dataset, o.MaxRejected = schema.VulnerabilityChanges, 1 }
	old := []string{changeLine(1, "2026-11-28T01:00:00Z"), changeLine(2, "2026-11-29T01:00:00Z"), changeLine(3, "2026-11-30T01:00:00Z")}
	if _, err := convertLines(t, dir, testSnapshot, old, byEvent); err != nil {
		t.Fatal(err)
	}

	// The delta: two rows of two groups on the 28th, one on the 29th,
	// three on the 30th, and a reject.
	delta := []string{
		changeLine(10, "2026-11-28T02:00:00Z"), changeLine(11, "2026-11-28T03:00:00Z"),
		changeLine(12, "2026-11-29T02:00:00Z"),
		changeLine(13, "2026-11-30T02:00:00Z"), changeLine(14, "2026-11-30T03:00:00Z"), changeLine(15, "2026-11-30T04:00:00Z"),
		"not json",
	}
	sum, err := convertLines(t, dir, testSnapshot, delta, func(o *Options) {
		byEvent(o)
		o.Bucket = failMoves{Bucket: o.Bucket, prefix: "vulnerability_changes/event_date=2026-11-29/"}
	})
	if !errors.Is(err, errMoveFault) {
		t.Fatalf("err = %v, want the move fault", err)
	}

	// The summary counts the 28th's output as published, the rest not.
	if sum.Published || !slices.Equal(sum.PublishedDates, []string{"2026-11-28"}) ||
		!slices.Equal(sum.UnpublishedDates, []string{"2026-11-29", "2026-11-30"}) {
		t.Errorf("published %v, dates %v, unpublished %v; want the 28th only", sum.Published, sum.PublishedDates, sum.UnpublishedDates)
	}
	if sum.Records != 7 || sum.Rows != 2 || sum.Rejected != 1 || sum.NotPublished != 4 {
		t.Errorf("records %d = rows %d + rejected %d + not published %d; want 7 = 2 + 1 + 4",
			sum.Records, sum.Rows, sum.Rejected, sum.NotPublished)
	}
	var bytes int64
	var files int
	for _, f := range lakeFiles(t, dir) {
		if strings.Contains(f, "event_date=2026-11-28") {
			info, _ := os.Stat(filepath.Join(dir, f))
			bytes += info.Size()
			files++
		}
	}
	if sum.Partitions != 2 || sum.ParquetFiles != files || files != 2 || sum.BytesOut != bytes {
		t.Errorf("output %d partitions, %d files, %d bytes; the 28th holds 2 groups, %d files, %d bytes",
			sum.Partitions, sum.ParquetFiles, sum.BytesOut, files, bytes)
	}
	data, _ := json.Marshal(sum)
	var fromJSON struct {
		Published   []string `json:"published_dates"`
		Unpublished []string `json:"unpublished_dates"`
	}
	if err := json.Unmarshal(data, &fromJSON); err != nil || !slices.Equal(fromJSON.Published, sum.PublishedDates) ||
		!slices.Equal(fromJSON.Unpublished, sum.UnpublishedDates) {
		t.Errorf("summary JSON %s (%v)", data, err)
	}

	// The 28th holds the delta, the 29th and 30th what they held.
	want := map[string][]string{"2026-11-28": {"dev10", "dev11"}, "2026-11-29": {"dev2"}, "2026-11-30": {"dev3"}}
	if got := devicesByDate(t, dir); !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("devices by event date %v, want %v", got, want)
	}
	for _, d := range []string{"2026-11-28", "2026-11-30"} {
		if _, err := os.Stat(filepath.Join(dir, "vulnerability_changes", "event_date="+d, SuccessFile)); err != nil {
			t.Errorf("event date %s: %v", d, err)
		}
	}

	// Once the failed run's process is gone, a rerun undoes its cut-short
	// publish and publishes every date.
	b, _ := local.New(dir)
	journals, err := readJournals(ctx, b, schema.VulnerabilityChanges)
	if err != nil || len(journals) != 1 {
		t.Fatalf("journals %v, %v; want the failed run's", journals, err)
	}
	journals[0].Owner.PID = 1 << 30
	if err := writeJournal(ctx, b, journals[0]); err != nil {
		t.Fatal(err)
	}
	sum, err = convertLines(t, dir, testSnapshot, delta, byEvent)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Published || !slices.Equal(sum.PublishedDates, []string{"2026-11-28", "2026-11-29", "2026-11-30"}) ||
		len(sum.UnpublishedDates) != 0 || sum.Rows != 6 || sum.NotPublished != 0 {
		t.Errorf("rerun: published %v, dates %v and %v, rows %d, not published %d",
			sum.Published, sum.PublishedDates, sum.UnpublishedDates, sum.Rows, sum.NotPublished)
	}
	checkEventDates(t, dir, map[string]int{"2026-11-28": 2, "2026-11-29": 1, "2026-11-30": 3})
}

// devicesByDate returns the device ids of the rows of each event date of
// vulnerability_changes below dir, sorted.
func devicesByDate(t *testing.T, dir string) map[string][]string {
	t.Helper()
	got := map[string][]string{}
	for _, f := range lakeFiles(t, dir) {
		_, rest, _ := strings.Cut(filepath.ToSlash(f), "event_date=")
		day, _, _ := strings.Cut(rest, "/")
		for _, r := range fileRows(t, filepath.Join(dir, f)) {
			got[day] = append(got[day], r["device_id"])
		}
	}
	for _, ids := range got {
		slices.Sort(ids)
	}
	return got
}
