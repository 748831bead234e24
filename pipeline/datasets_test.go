package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/mdvm-parquet/mdvm-parquet/pipeline/defender/defendertest"
	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

// TestFakeServesEveryDataset: the fake API knows every dataset by its name,
// at the paths the descriptions give.
func TestFakeServesEveryDataset(t *testing.T) {
	byName := map[string]defendertest.Dataset{}
	for _, d := range defendertest.Datasets {
		byName[d.Name] = d
	}
	for _, ds := range schema.Datasets() {
		d, ok := byName[ds.Name]
		if !ok {
			t.Errorf("the fake API does not serve %s", ds.Name)
			continue
		}
		if !slices.Contains(d.PagesPaths, ds.JSONPath) || d.ExportPath != ds.FilesPath {
			t.Errorf("%s: fake serves %v and %q, description says %q and %q", ds.Name, d.PagesPaths, d.ExportPath, ds.JSONPath, ds.FilesPath)
		}
	}
}

// fileRows reads every row of a Parquet file, each column rendered as text:
// NULL, a list as [a|b], a timestamp in RFC 3339 with microseconds.
func fileRows(t *testing.T, path string) []map[string]string {
	t.Helper()
	pf := openParquet(t, path)
	cols := pf.Schema().Columns()
	var out []map[string]string
	for _, rg := range pf.RowGroups() {
		rr := rg.Rows()
		buf := make([]parquet.Row, 64)
		for {
			n, err := rr.ReadRows(buf)
			for _, row := range buf[:n] {
				out = append(out, renderRow(pf.Schema(), cols, row))
			}
			if err != nil {
				break
			}
		}
		rr.Close()
	}
	return out
}

func renderRow(s *parquet.Schema, cols [][]string, row parquet.Row) map[string]string {
	cells := map[string]string{}
	lists := map[string][]string{}
	for _, v := range row {
		path := cols[v.Column()]
		name := path[0]
		if len(path) > 1 { // name.list.element
			switch v.DefinitionLevel() {
			case 0:
				cells[name] = "NULL"
			case 1:
				lists[name] = []string{}
			default:
				lists[name] = append(lists[name], string(v.ByteArray()))
			}
			continue
		}
		leaf, _ := s.Lookup(path...)
		switch {
		case v.IsNull():
			cells[name] = "NULL"
		case isTimestamp(leaf.Node):
			cells[name] = time.UnixMicro(v.Int64()).UTC().Format(microLayout)
		default:
			cells[name] = v.String()
		}
	}
	for name, l := range lists {
		cells[name] = "[" + strings.Join(l, "|") + "]"
	}
	return cells
}

const microLayout = "2006-01-02T15:04:05.000000Z"

func isTimestamp(n parquet.Node) bool {
	lt := n.Type().LogicalType()
	if lt == nil {
		return false
	}
	_, ok := lt.Value.(*format.TimestampType)
	return ok
}

// TestConvertRewritesTypedFields: files rewritten because a flattened key
// widened keep their typed values, lists (empty ones too) and NULLs.
func TestConvertRewritesTypedFields(t *testing.T) {
	ds := *typedDataset
	ds.Fields = append(slices.Clip(ds.Fields), schema.Field{Key: "additionalFields", Column: "additional_fields", Type: schema.String})
	ds.FlattenKey = "additionalFields"
	ds.SortKeys = []string{"deviceId"}

	const n, widen = 12000, 10000
	lines := make([]string, n)
	for i := range lines {
		k := `7`
		if i >= widen {
			k = `"v3"`
		}
		lines[i] = fmt.Sprintf(`{"deviceId":"dev%05d","rbacGroupId":1,"n":%d,"big":%d,"x":%s,"ok":%v,"t":"2021-01-11 09:47:58.%03d",`+
			`"l":%s,"additionalFields":{"K":%s,"Pad":"%s"}}`,
			i, i, int64(i)<<40, []string{"1.5", "null", `"abc"`}[i%3], i%2 == 0, i%1000,
			[]string{`[]`, `["a","b"]`, `null`, `["c"]`}[i%4], k, strings.Repeat("p", 200))
	}
	dir := t.TempDir()
	sum, err := convertLines(t, dir, testSnapshot, lines, func(o *Options) {
		o.Dataset = &ds
		o.Readers, o.Decoders = 1, 1
		o.MemoryBudget, o.RowGroupBytes = 64<<10, 64<<10
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.RewrittenFiles == 0 {
		t.Fatal("no file was rewritten; the test did not flush before the key widened")
	}
	if sum.Unconverted != n/3 {
		t.Errorf("%d unconverted values, want %d", sum.Unconverted, n/3)
	}
	got := 0
	for _, f := range lakeFiles(t, dir) {
		for _, r := range fileRows(t, filepath.Join(dir, f)) {
			var i int
			fmt.Sscanf(r["device_id"], "dev%d", &i)
			want := map[string]string{
				"n": fmt.Sprint(i), "big": fmt.Sprint(int64(i) << 40), "x": []string{"1.5", "NULL", "NULL"}[i%3],
				"ok": fmt.Sprint(i%2 == 0), "t": fmt.Sprintf("2021-01-11T09:47:58.%03d000Z", i%1000),
				"l":            []string{"[]", "[a|b]", "NULL", "[c]"}[i%4],
				"extra_fields": []string{"NULL", "NULL", `{"x":"abc"}`}[i%3],
			}
			for col, w := range want {
				if r[col] != w {
					t.Fatalf("%s row %d: %s = %q, want %q", f, i, col, r[col], w)
				}
			}
			got++
		}
	}
	if got != n {
		t.Errorf("%d rows read, want %d", got, n)
	}
}

func changeLine(dev int, event string) string {
	return fmt.Sprintf(`{"deviceId":"dev%d","rbacGroupId":%d,"cveId":"CVE-2026-%04d","status":"New","eventTimestamp":%q}`,
		dev, 1+dev%2, dev, event)
}

// TestConvertByEvent: a delta is partitioned by the day of each event, and
// a run replaces the event dates it touches only.
func TestConvertByEvent(t *testing.T) {
	dir := t.TempDir()
	byEvent := func(o *Options) { o.Dataset = schema.VulnerabilityChanges }
	first := []string{
		changeLine(1, "2026-11-28 10:00:00.000"),
		changeLine(2, "2026-11-29T23:59:59.9999999Z"),
		changeLine(3, "2026-11-30T00:30:00+01:00"), // the 29th in UTC
		changeLine(4, "2026-11-30 05:00:00"),
	}
	sum, err := convertLines(t, dir, testSnapshot, first, byEvent)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 4 || sum.Partitions != 4 {
		t.Fatalf("rows %d, partitions %d; want 4, 4", sum.Rows, sum.Partitions)
	}
	want := map[string]int{"2026-11-28": 1, "2026-11-29": 2, "2026-11-30": 1}
	checkEventDates(t, dir, want)

	// A second run with events of the 30th and a new day replaces those
	// and leaves the 28th and 29th as they were.
	second := []string{changeLine(5, "2026-11-30T06:00:00Z"), changeLine(6, "2026-11-30T07:00:00Z"), changeLine(7, "2026-12-01")}
	if _, err := convertLines(t, dir, testSnapshot.Add(24*time.Hour), second, byEvent); err != nil {
		t.Fatal(err)
	}
	want["2026-11-30"], want["2026-12-01"] = 2, 1
	checkEventDates(t, dir, want)

	// A record with no event time is set aside.
	_, err = convertLines(t, dir, testSnapshot, []string{`{"deviceId":"dev9","eventTimestamp":"later"}`}, byEvent)
	if err == nil || !strings.Contains(err.Error(), "rejected") {
		t.Errorf("a record with no event time: %v", err)
	}
	checkEventDates(t, dir, want)
}

// checkEventDates checks the rows of each event_date folder, its _SUCCESS
// and manifest, and that no snapshot_time column is written.
func checkEventDates(t *testing.T, dir string, want map[string]int) {
	t.Helper()
	got := map[string]int{}
	for _, f := range lakeFiles(t, dir) {
		parts := strings.Split(filepath.ToSlash(f), "/")
		if parts[0] != "vulnerability_changes" || !strings.HasPrefix(parts[1], "event_date=") || !strings.HasPrefix(parts[2], "rbac_group_id=") {
			t.Fatalf("file %s is not in an event_date partition", f)
		}
		day := strings.TrimPrefix(parts[1], "event_date=")
		for _, r := range fileRows(t, filepath.Join(dir, f)) {
			if !strings.HasPrefix(r["event_timestamp"], day) {
				t.Errorf("%s: event %s", f, r["event_timestamp"])
			}
			if _, ok := r[schema.SnapshotTimeColumn]; ok {
				t.Errorf("%s has a snapshot_time column", f)
			}
			got[day]++
		}
	}
	for day, n := range want {
		folder := filepath.Join(dir, "vulnerability_changes", "event_date="+day)
		for _, name := range []string{SuccessFile, ManifestFile} {
			if _, err := os.Stat(filepath.Join(folder, name)); err != nil {
				t.Errorf("event date %s: %v", day, err)
			}
		}
		if got[day] != n {
			t.Errorf("event date %s: %d rows, want %d", day, got[day], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("rows per event date %v, want %v", got, want)
	}
}

func TestExportOptionsSince(t *testing.T) {
	hour := time.Now().Add(-time.Hour).Truncate(time.Second)
	tests := []struct {
		ds    *schema.Dataset
		since time.Time
		err   string // "" when Since is accepted
	}{
		{schema.VulnerabilityChanges, hour, ""},
		{schema.VulnerabilityChanges, time.Time{}, "give its start time"},
		{schema.VulnerabilityChanges, time.Now().Add(-15 * 24 * time.Hour), "want the past"},
		{schema.VulnerabilityChanges, time.Now().Add(time.Hour), "want the past"},
		{schema.SoftwareVulnerabilities, hour, "takes no start time"},
	}
	for _, tt := range tests {
		o := ExportOptions{Convert: Options{Dataset: tt.ds}, Since: tt.since}
		err := o.check()
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s since %s: %v, want %q", tt.ds.Name, tt.since, err, tt.err)
			}
			continue
		}
		want := tt.ds.JSONPath + "?sinceTime=" + strings.ReplaceAll(hour.UTC().Format(time.RFC3339), ":", "%3A")
		if o.Method != MethodJSON || o.Path != want || strings.Contains(err.Error(), "start time") {
			t.Errorf("%s: method %s, path %s (want %s), %v", tt.ds.Name, o.Method, o.Path, want, err)
		}
	}
}
