package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mdvm-parquet/mdvm-parquet/pipeline/defender"
	"github.com/mdvm-parquet/mdvm-parquet/pipeline/defender/defendertest"
	"github.com/mdvm-parquet/mdvm-parquet/schema"
	"github.com/mdvm-parquet/mdvm-parquet/schema/sample"
	"github.com/mdvm-parquet/mdvm-parquet/sink/azurite"
)

// The export of every dataset from the fake API, in both shapes.

// budgetSpan is the span of the tests' budget of five via-files calls: the
// service's minute, shortened.
const budgetSpan = 1500 * time.Millisecond

// exportSample is the small export of each dataset the fake hands out.
func exportSample(ds *schema.Dataset, casing sample.Casing) sample.Config {
	return sample.Config{Dataset: ds, Records: 150, Files: 3, Groups: 2, Unassigned: true, Seed: 9, Casing: casing}
}

// newDatasetsTenant starts a fake API that serves every dataset: its
// generated files from Azurite through the via-files endpoint, and the same
// records in camelCase through the JSON pages.
func newDatasetsTenant(t *testing.T) *fakeTenant {
	t.Helper()
	az := azurite.Start(t)
	container := az.NewContainer(t)
	api := defendertest.New(t, defendertest.Options{Unlimited: true, ClientSecret: clientSecret})
	for _, ds := range schema.Datasets() {
		dir := t.TempDir()
		sum, err := sample.Write(dir, exportSample(ds, sample.Pascal))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range sum.Files {
			data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
			if err != nil {
				t.Fatal(err)
			}
			az.Upload(t, container, f.Path, data)
		}
		api.SetExportFunc(ds.Name, func(int) ([]string, time.Time) {
			var links []string
			for _, f := range sum.Files {
				links = append(links, az.SASURL(t, container, f.Path, time.Hour))
			}
			return links, sum.GeneratedTime
		})
		var recs []json.RawMessage
		err = sample.Records(exportSample(ds, sample.Camel), func(rec []byte) error {
			recs = append(recs, append(json.RawMessage(nil), rec...))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		api.SetRecords(ds.Name, recs)
	}

	exportHTTPClient = api.HTTPClient()
	exportBudget = []defender.Window{{Calls: 5, Per: budgetSpan}}
	t.Cleanup(func() { exportHTTPClient, exportBudget = nil, nil })
	t.Setenv("AZURE_TENANT_ID", api.Tenant)
	t.Setenv("AZURE_CLIENT_ID", api.ClientID)
	t.Setenv("AZURE_CLIENT_SECRET", clientSecret)
	t.Setenv("AZURE_AUTHORITY_HOST", api.AuthorityHost())
	return &fakeTenant{api: api}
}

// datasetRows counts a dataset's rows in a lake with DuckDB.
func datasetRows(t *testing.T, lake string, ds *schema.Dataset) int {
	t.Helper()
	r := queryRendered(t, openDuckDB(t), "SELECT count(*) AS n FROM "+datasetSource(lake, ds))
	n, _ := strconv.Atoi(r[0]["n"])
	return n
}

// tokenCalls counts the sign-ins the fake answered.
func tokenCalls(api *defendertest.Server) int {
	n := 0
	for _, r := range api.Requests() {
		if strings.HasSuffix(r.Path, "/oauth2/v2.0/token") {
			n++
		}
	}
	return n
}

// TestExportAllDatasets pulls every snapshot dataset in one run, by each
// method, with one sign-in; the delta is left out.
func TestExportAllDatasets(t *testing.T) {
	ft := newDatasetsTenant(t)
	for _, method := range []string{"files", "json"} {
		t.Run(method, func(t *testing.T) {
			dir := t.TempDir()
			lake, sumPath := filepath.Join(dir, "lake"), filepath.Join(dir, "summary.json")
			before := tokenCalls(ft.api)
			res := runExport(t, ft, "export", "--dataset", "all", "--method", method, "--allow-http",
				"--output", lake, "--summary-json", sumPath, "--keep-raw", filepath.Join(dir, "raw"))
			if res.code != 0 {
				t.Fatalf("export --dataset all: %v", res)
			}
			if n := tokenCalls(ft.api) - before; n != 1 {
				t.Errorf("%d sign-ins for one run, want 1", n)
			}
			checkExportBudget(t, ft.api)
			var sums []struct {
				Dataset   string
				Rows      int64
				Published bool
			}
			readJSON(t, sumPath, &sums)
			got := map[string]int64{}
			for _, s := range sums {
				if s.Published {
					got[s.Dataset] = s.Rows
				}
			}
			for _, ds := range schema.Datasets() {
				want := 150
				if ds.IsDelta() {
					want = 0 // a delta needs its own --since
				}
				if got[ds.Name] != int64(want) {
					t.Errorf("%s: summary says %d rows, want %d", ds.Name, got[ds.Name], want)
				}
				if want > 0 {
					if n := datasetRows(t, lake, ds); n != want {
						t.Errorf("%s: %d rows in the lake, want %d", ds.Name, n, want)
					}
					if _, err := os.Stat(filepath.Join(dir, "raw", ds.Name)); err != nil {
						t.Errorf("%s: no raw zone of its own: %v", ds.Name, err)
					}
				}
			}
			assertNoSecrets(t, ft, res.stdout+res.stderr+readTree(t, dir))
		})
	}
}

// checkExportBudget checks that no six via-files calls fell within one span
// of the budget: the datasets of one run share it.
func checkExportBudget(t *testing.T, api *defendertest.Server) {
	t.Helper()
	var at []time.Time
	for _, r := range api.Requests() {
		if strings.HasSuffix(r.Path, "Export") {
			at = append(at, r.At)
		}
	}
	for i := 5; i < len(at); i++ {
		if d := at[i].Sub(at[i-5]); d < budgetSpan-100*time.Millisecond {
			t.Errorf("six via-files calls within %s; the budget is five per %s", d, budgetSpan)
		}
	}
}

// TestExportChanges pulls the delta since a time from the pages, the only
// way there is, and lays it out by event date.
func TestExportChanges(t *testing.T) {
	ft := newDatasetsTenant(t)
	ds := schema.VulnerabilityChanges
	lake := filepath.Join(t.TempDir(), "lake")
	start := time.Now()
	res := runExport(t, ft, "export", "--dataset", ds.Name, "--since", "72h", "--output", lake)
	if res.code != 0 {
		t.Fatalf("export of the changes: %v", res)
	}
	var since []string
	for _, r := range ft.api.Requests() {
		if r.Path == ds.JSONPath {
			since = append(since, r.Query.Get(ds.SinceParam))
		}
	}
	if len(since) != 1 {
		t.Fatalf("pages asked with sinceTime %q, want one call", since)
	}
	if got, err := time.Parse(time.RFC3339, since[0]); err != nil || got.Sub(start.Add(-72*time.Hour)).Abs() > time.Minute {
		t.Errorf("sinceTime %q, want 72 hours before %s", since[0], start.UTC().Format(time.RFC3339))
	}
	if n := datasetRows(t, lake, ds); n != 150 {
		t.Errorf("%d rows, want 150", n)
	}
	days, _ := filepath.Glob(filepath.Join(lake, ds.Name, "event_date=*"))
	if len(days) < 2 {
		t.Errorf("event dates %v, want the changes of several days", days)
	}
	for _, d := range days {
		if _, err := os.Stat(filepath.Join(d, "_SUCCESS")); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}

	// Too far back, or no start at all: a usage error, and no call made.
	calls := ft.api.Calls(ds.JSONPath)
	for _, args := range [][]string{{"--since", "15d"}, {"--since", "2020-01-01T00:00:00Z"}, {}} {
		res := runExport(t, ft, append([]string{"export", "--dataset", ds.Name, "--output", lake}, args...)...)
		if res.code != exitUsage || !strings.Contains(res.stderr, "--since") {
			t.Errorf("export %v: %v", args, res)
		}
	}
	if ft.api.Calls(ds.JSONPath) != calls {
		t.Errorf("a refused command called the API")
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	max := 14 * 24 * time.Hour
	tests := []struct {
		in, want string // want "" for an error
	}{
		{"24h", "2026-11-29T06:00:00Z"},
		{"90m", "2026-11-30T04:30:00Z"},
		{"7d", "2026-11-23T06:00:00Z"},
		{"14d", "2026-11-16T06:00:00Z"},
		{"2026-11-29T00:00:00Z", "2026-11-29T00:00:00Z"},
		{"2026-11-29T02:00:00+02:00", "2026-11-29T00:00:00Z"},
		{"2026-11-16T06:00:00Z", "2026-11-16T06:00:00Z"},
		{"2026-11-16T05:59:59Z", ""},
		{"15d", ""},
		{"337h", ""},
		{"0h", ""},
		{"-2h", ""},
		{"2026-12-01T00:00:00Z", ""},
		{"yesterday", ""},
		{"d", ""},
		{"", ""},
		{"2026-11-29", ""},
	}
	for _, tt := range tests {
		got, err := parseSince(tt.in, now, max)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("parseSince(%q) = %s, want an error", tt.in, got.Format(time.RFC3339))
		case tt.want != "" && (err != nil || got.UTC().Format(time.RFC3339) != tt.want):
			t.Errorf("parseSince(%q) = %s, %v; want %s", tt.in, got.UTC().Format(time.RFC3339), err, tt.want)
		}
	}
}
