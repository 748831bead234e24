package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/parquet-go/parquet-go"

	"github.com/mdvm-parquet/mdvm-parquet/pipeline"
	"github.com/mdvm-parquet/mdvm-parquet/pipeline/defender"
	"github.com/mdvm-parquet/mdvm-parquet/pipeline/defender/defendertest"
	"github.com/mdvm-parquet/mdvm-parquet/pipeline/internal/faultproxy"
	"github.com/mdvm-parquet/mdvm-parquet/schema"
	"github.com/mdvm-parquet/mdvm-parquet/schema/sample"
	"github.com/mdvm-parquet/mdvm-parquet/sink/azurite"
	"github.com/mdvm-parquet/mdvm-parquet/sink/local"
)

func TestMain(m *testing.M) { os.Exit(azurite.Run(m)) }

// apiExport is a generated export as the service hands it out: its files
// uploaded to Azurite behind a fault proxy, and a fake Defender API whose
// via-files endpoint answers fresh SAS links through the proxy.
type apiExport struct {
	cfg       sample.Config
	dir       string        // the same export on disk, export.json included
	files     []sample.File // in export.json order
	az        *azurite.Server
	container string
	proxy     *faultproxy.Proxy
	api       *defendertest.Server

	// ttl is the lifetime of a file's link in answer number call (from 1)
	// of the via-files endpoint. Defaults to an hour.
	ttl   atomic.Pointer[func(call int, file string) time.Duration]
	calls atomic.Int64
}

const exportPath = "/api/machines/HardwareFirmwareInventoryExport"

func newAPIExport(t *testing.T, records, files int) *apiExport {
	t.Helper()
	e := &apiExport{
		cfg: sample.Config{Dataset: schema.HardwareFirmware, Records: records, Files: files,
			Groups: 3, Unassigned: true, Quirks: true, Seed: 7},
		dir: t.TempDir(),
		az:  azurite.Start(t),
	}
	sum, err := sample.Write(e.dir, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.files = sum.Files
	e.container = e.az.NewContainer(t)
	for _, f := range e.files {
		e.az.Upload(t, e.container, f.Path, e.data(t, f))
	}
	e.proxy = faultproxy.Start(t, e.az.Endpoint)
	e.api = defendertest.New(t, defendertest.Options{Unlimited: true})
	e.api.SetExportFunc(schema.HardwareFirmware.Name, func(int) ([]string, time.Time) {
		call := int(e.calls.Add(1))
		ttl := func(int, string) time.Duration { return time.Hour }
		if f := e.ttl.Load(); f != nil {
			ttl = *f
		}
		var links []string
		for _, f := range e.files {
			links = append(links, e.proxy.Rewrite(e.az.SASURL(t, e.container, f.Path, ttl(call, f.Path))))
		}
		return links, sum.GeneratedTime
	})
	return e
}

// data returns the bytes of one of the export's files.
func (e *apiExport) data(t *testing.T, f sample.File) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, filepath.FromSlash(f.Path)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// reset clears faults, counts and link lifetimes between runs.
func (e *apiExport) reset() {
	e.proxy.Reset()
	e.calls.Store(0)
	e.ttl.Store(nil)
}

// client returns an API client of the fake with quick retries.
func (e *apiExport) client(t *testing.T, log *slog.Logger, allowHTTP bool) *defender.Client {
	t.Helper()
	c, err := defender.New(defender.Config{
		APIURL: e.api.URL, Credential: e.api.Credential(), HTTPClient: e.api.HTTPClient(),
		AllowHTTP: allowHTTP, Logger: log,
		Retry: defender.Retry{BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// options are the options of an export into a new lake under t's folder.
func (e *apiExport) options(t *testing.T, lake string) pipeline.ExportOptions {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	return pipeline.ExportOptions{
		Client:          e.client(t, log, true),
		SASValidHours:   6,
		DownloadWorkers: 3,
		Download:        fastDownloads(log),
		Convert:         lakeOptions(t, lake, log),
	}
}

// lakeOptions are conversion options writing to a local lake at dir.
func lakeOptions(t testing.TB, dir string, log *slog.Logger) pipeline.Options {
	t.Helper()
	b, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return pipeline.Options{Dataset: schema.HardwareFirmware, Bucket: b, MaxRejected: 1 << 20, Logger: log}
}

// convertDir converts the export files under dir into a new lake and
// returns the lake's folder and the run's summary.
func convertDir(t *testing.T, dir string) (string, *pipeline.Summary) {
	t.Helper()
	inputs, err := pipeline.Inputs([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	snapshot, err := pipeline.SnapshotTime([]string{dir}, inputs)
	if err != nil {
		t.Fatal(err)
	}
	lake := t.TempDir()
	opt := lakeOptions(t, lake, slog.New(slog.DiscardHandler))
	opt.Inputs, opt.SnapshotTime = inputs, snapshot
	sum, err := pipeline.Convert(context.Background(), opt)
	if err != nil {
		t.Fatalf("convert %s: %v", dir, err)
	}
	return lake, sum
}

// lakeRows renders every row of every Parquet file of a lake as one line,
// its partition folder first, sorted: two lakes with the same rows give the
// same lines, however their rows are spread over files and row groups.
func lakeRows(t *testing.T, root string) []string {
	t.Helper()
	var rows []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".parquet") {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		got, err := parquetRows(path)
		for _, r := range got {
			rows = append(rows, filepath.ToSlash(rel)+" "+r)
		}
		return err
	})
	if err != nil {
		t.Fatalf("read lake %s: %v", root, err)
	}
	sort.Strings(rows)
	return rows
}

// parquetRows renders the rows of one file: each value with its column
// path and its repetition and definition levels, so that NULL, empty and
// list values all differ.
func parquetRows(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	pf, err := parquet.OpenFile(f, info.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cols := pf.Schema().Columns()
	var out []string
	buf := make([]parquet.Row, 128)
	for _, rg := range pf.RowGroups() {
		rows := rg.Rows()
		for {
			n, err := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				var b strings.Builder
				for _, v := range row {
					fmt.Fprintf(&b, "%s:%d:%d:", strings.Join(cols[v.Column()], "."), v.RepetitionLevel(), v.DefinitionLevel())
					if !v.IsNull() {
						b.WriteString(v.String())
					}
					b.WriteByte('|')
				}
				out = append(out, b.String())
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		}
		rows.Close()
	}
	return out, nil
}

// sameRows fails the test unless two lakes hold the same rows.
func sameRows(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("lake has %d rows, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("row %d differs:\n got %.400s\nwant %.400s", i, got[i], want[i])
		}
	}
}

// requests returns the proxy's log of requests for one file.
func requests(p *faultproxy.Proxy, file string) []faultproxy.Entry {
	var out []faultproxy.Entry
	for _, e := range p.Log() {
		if strings.HasSuffix(e.Path, "/"+file) {
			out = append(out, e)
		}
	}
	return out
}

// TestExportMatchesConvert exports the same snapshot under each fault the
// service and storage are known for, and checks that every run publishes,
// row for row, the lake that convert makes of the files on disk.
func TestExportMatchesConvert(t *testing.T) {
	e := newAPIExport(t, 600, 5)
	wantLake, wantSum := convertDir(t, e.dir)
	want := lakeRows(t, wantLake)
	if len(want) == 0 || wantSum.Rows != int64(len(want)) {
		t.Fatalf("reference lake: %d rows read back, summary says %d", len(want), wantSum.Rows)
	}
	sorted := make([]string, len(e.files))
	for i, f := range e.files {
		sorted[i] = f.Path
	}
	sort.Strings(sorted)
	first, last := sorted[0], sorted[len(sorted)-1]

	tests := []struct {
		name        string
		setup       func()
		exportCalls int64          // answers of the via-files endpoint
		apiCalls    int            // requests to it, refused ones included
		fetches     map[string]int // requests per file; others once
		check       func(t *testing.T)
	}{
		{name: "clean", exportCalls: 1, apiCalls: 1},
		{name: "api throttled with retry-after",
			setup:       func() { e.api.Throttle(1, "1") },
			exportCalls: 1, apiCalls: 2},
		{name: "api server errors",
			setup:       func() { e.api.ServerError(2) },
			exportCalls: 1, apiCalls: 3},
		{name: "storage busy",
			setup: func() {
				e.proxy.Add(faultproxy.Rule{Match: first, Times: 2, Fault: faultproxy.Busy()})
			},
			exportCalls: 1, apiCalls: 1, fetches: map[string]int{first: 3}},
		{name: "connection cut mid-blob",
			setup: func() {
				e.proxy.Add(faultproxy.Rule{Match: first, Times: 2, Fault: faultproxy.Cut(1000)})
			},
			exportCalls: 1, apiCalls: 1, fetches: map[string]int{first: 3},
			check: func(t *testing.T) {
				var ranges []string
				for _, r := range requests(e.proxy, first) {
					ranges = append(ranges, r.Range)
				}
				if want := []string{"", "bytes=1000-", "bytes=2000-"}; fmt.Sprint(ranges) != fmt.Sprint(want) {
					t.Errorf("requests asked for %q, want %q", ranges, want)
				}
			}},
		{name: "blob still being copied",
			setup: func() {
				e.proxy.Add(faultproxy.Rule{Match: last, Times: 2, Fault: faultproxy.EmptyBody()})
			},
			exportCalls: 1, apiCalls: 1, fetches: map[string]int{last: 3}},
		{name: "expired link",
			setup: func() {
				ttl := func(call int, file string) time.Duration {
					if call == 1 && file == last {
						return -time.Hour
					}
					return time.Hour
				}
				e.ttl.Store(&ttl)
			},
			exportCalls: 2, apiCalls: 2, fetches: map[string]int{last: 2}},
		{name: "link expires mid-blob",
			setup: func() {
				e.proxy.Add(faultproxy.Rule{Match: first, Times: 1, Fault: faultproxy.Cut(1000)})
				e.proxy.Add(faultproxy.Rule{Match: first, Times: 1, Fault: faultproxy.AuthFailed()})
			},
			exportCalls: 2, apiCalls: 2, fetches: map[string]int{first: 3},
			check: func(t *testing.T) {
				var ranges []string
				for _, r := range requests(e.proxy, first) {
					ranges = append(ranges, r.Range)
				}
				if want := []string{"", "bytes=1000-", "bytes=1000-"}; fmt.Sprint(ranges) != fmt.Sprint(want) {
					t.Errorf("requests asked for %q, want %q", ranges, want)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.reset()
			before := e.api.Calls(exportPath)
			if tt.setup != nil {
				tt.setup()
			}
			lake := t.TempDir()
			sum, err := pipeline.Export(context.Background(), e.options(t, lake))
			if err != nil {
				t.Fatalf("export: %v", err)
			}
			sameRows(t, lakeRows(t, lake), want)
			if sum.Records != wantSum.Records || sum.Rejected != wantSum.Rejected || !sum.SnapshotTime.Equal(wantSum.SnapshotTime) {
				t.Errorf("summary: %d records, %d rejected, snapshot %s; convert: %d, %d, %s",
					sum.Records, sum.Rejected, sum.SnapshotTime, wantSum.Records, wantSum.Rejected, wantSum.SnapshotTime)
			}
			if got := e.calls.Load(); got != tt.exportCalls {
				t.Errorf("%d export answers, want %d", got, tt.exportCalls)
			}
			if got := e.api.Calls(exportPath) - before; got != tt.apiCalls {
				t.Errorf("%d export requests, want %d", got, tt.apiCalls)
			}
			for _, f := range e.files {
				want := 1
				if n, ok := tt.fetches[f.Path]; ok {
					want = n
				}
				if got := len(requests(e.proxy, f.Path)); got != want {
					t.Errorf("%s requested %d times, want %d", f.Path, got, want)
				}
			}
			if tt.check != nil {
				tt.check(t)
			}
		})
	}
}

// TestExportKeepRaw keeps the export as received while a blob download is
// cut, and replays the kept folder with convert: the two lakes match.
func TestExportKeepRaw(t *testing.T) {
	e := newAPIExport(t, 1200, 4)
	e.proxy.Add(faultproxy.Rule{Match: e.files[1].Path, Times: 1, Fault: faultproxy.Cut(700)})
	raw := filepath.Join(t.TempDir(), "raw")
	lake := t.TempDir()
	opt := e.options(t, lake)
	opt.KeepRaw = raw
	if _, err := pipeline.Export(context.Background(), opt); err != nil {
		t.Fatalf("export: %v", err)
	}

	for _, f := range e.files {
		got, err := os.ReadFile(filepath.Join(raw, filepath.FromSlash(f.Path)))
		if err != nil || !bytes.Equal(got, e.data(t, f)) {
			t.Errorf("kept %s: %d bytes (err %v), want the %d received", f.Path, len(got), err, len(e.data(t, f)))
		}
	}
	resp, err := os.ReadFile(filepath.Join(raw, pipeline.ExportResponseFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(resp), "sig=REDACTED") || strings.Count(string(resp), "sig=") != len(e.files) {
		t.Errorf("export.json does not hide every signature:\n%s", resp)
	}
	assertNoHidden(t, raw)

	replay, _ := convertDir(t, raw)
	sameRows(t, lakeRows(t, replay), lakeRows(t, lake))

	// A second export of the same snapshot may reuse the folder; another
	// snapshot may not.
	if _, err := pipeline.Export(context.Background(), withKeepRaw(e.options(t, t.TempDir()), raw)); err != nil {
		t.Errorf("export again into the same raw folder: %v", err)
	}
	os.WriteFile(filepath.Join(raw, "2020-01-01"), nil, 0o644)
	_, err = pipeline.Export(context.Background(), withKeepRaw(e.options(t, t.TempDir()), raw))
	if err == nil || !strings.Contains(err.Error(), "not part of this export") {
		t.Errorf("raw folder holding another export: err = %v", err)
	}
}

func withKeepRaw(o pipeline.ExportOptions, dir string) pipeline.ExportOptions {
	o.KeepRaw = dir
	return o
}

// assertNoHidden fails if a temporary file was left under dir.
func assertNoHidden(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".") && path != dir {
			t.Errorf("left behind: %s", path)
		}
		return nil
	})
}

// TestExportNoSnapshot: an empty exportFiles writes nothing and says so.
func TestExportNoSnapshot(t *testing.T) {
	e := newAPIExport(t, 10, 1)
	e.api.SetExport(schema.HardwareFirmware.Name, nil, time.Time{})
	lake, raw := t.TempDir(), filepath.Join(t.TempDir(), "raw")
	opt := withKeepRaw(e.options(t, lake), raw)
	sum, err := pipeline.Export(context.Background(), opt)
	if !errors.Is(err, pipeline.ErrNoSnapshot) || sum == nil || sum.Published || sum.Files != 0 {
		t.Fatalf("export of no snapshot: sum %+v, err %v; want ErrNoSnapshot", sum, err)
	}
	if entries, _ := os.ReadDir(lake); len(entries) != 0 {
		t.Errorf("lake holds %d entries, want none", len(entries))
	}
	if _, err := os.Stat(raw); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("raw folder made for no snapshot: %v", err)
	}
}

// TestExportRefusesHTTP: without AllowHTTP, an http file link is an error
// before anything is downloaded.
func TestExportRefusesHTTP(t *testing.T) {
	e := newAPIExport(t, 10, 1)
	log := slog.New(slog.DiscardHandler)
	opt := e.options(t, t.TempDir())
	opt.Client = e.client(t, log, false)
	opt.Download.AllowHTTP = false
	_, err := pipeline.Export(context.Background(), opt)
	if !errors.Is(err, defender.ErrInsecureURL) {
		t.Errorf("err = %v, want ErrInsecureURL", err)
	}
	if n := len(e.proxy.Log()); n != 0 {
		t.Errorf("%d downloads sent", n)
	}
	if strings.Contains(fmt.Sprint(err), "sig=") && !strings.Contains(fmt.Sprint(err), "sig=REDACTED") {
		t.Errorf("error shows a signature: %v", err)
	}

	// Links are checked again where they are downloaded.
	opt.Client = e.client(t, log, true)
	_, err = pipeline.Export(context.Background(), opt)
	if err == nil || !strings.Contains(err.Error(), `scheme "http" not allowed`) {
		t.Errorf("download of an http link: err = %v", err)
	}
}

// pagesRecords returns the export's records as the JSON pages carry them.
func pagesRecords(t *testing.T, n int) [][]byte {
	t.Helper()
	cfg := sample.Config{Dataset: schema.HardwareFirmware, Records: n, Groups: 3, Unassigned: true,
		Quirks: true, Seed: 11, Casing: sample.Camel}
	var recs [][]byte
	err := sample.Records(cfg, func(rec []byte) error {
		recs = append(recs, bytes.Clone(rec))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestExportPages reads the JSON pages, one fault on the way, and checks
// the lake against convert of the same records from a file named after the
// endpoint; the kept raw file holds exactly those records.
func TestExportPages(t *testing.T) {
	e := newAPIExport(t, 10, 1)
	recs := pagesRecords(t, 1500)
	raws := make([][]byte, len(recs))
	copy(raws, recs)
	e.api.SetRecords(schema.HardwareFirmware.Name, toRaw(recs))
	e.api.ServerError(1)

	lake, raw := t.TempDir(), filepath.Join(t.TempDir(), "raw")
	opt := withKeepRaw(e.options(t, lake), raw)
	opt.Method, opt.PageSize = pipeline.MethodJSON, 400
	start := time.Now().UTC().Truncate(time.Second)
	sum, err := pipeline.Export(context.Background(), opt)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	if sum.SnapshotTime.Before(start) || sum.SnapshotTime.After(time.Now()) || sum.SnapshotTime.Nanosecond() != 0 {
		t.Errorf("snapshot time %s: want the first request's, in whole seconds", sum.SnapshotTime)
	}
	if pages := e.api.Calls("/api/machines/HardwareFirmwareInventoryByMachine"); pages != 5 {
		t.Errorf("%d page requests, want 4 pages and one retry", pages)
	}

	name := "HardwareFirmwareInventoryByMachine"
	lines := append(bytes.Join(raws, []byte("\n")), '\n')
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, name), lines, 0o644)
	inputs, _ := pipeline.Inputs([]string{filepath.Join(dir, name)}, nil)
	ref := t.TempDir()
	copt := lakeOptions(t, ref, slog.New(slog.DiscardHandler))
	copt.Inputs, copt.SnapshotTime = inputs, sum.SnapshotTime
	if _, err := pipeline.Convert(context.Background(), copt); err != nil {
		t.Fatal(err)
	}
	sameRows(t, lakeRows(t, lake), lakeRows(t, ref))

	kept := gunzipFile(t, filepath.Join(raw, name+".json.gz"))
	if !bytes.Equal(kept, lines) {
		t.Errorf("kept records: %d bytes, want the %d received", len(kept), len(lines))
	}
	inputs, _ = pipeline.Inputs([]string{raw}, nil)
	if got, err := pipeline.SnapshotTime([]string{raw}, inputs); err != nil || !got.Equal(sum.SnapshotTime) {
		t.Errorf("kept snapshot time %s (%v), want %s", got, err, sum.SnapshotTime)
	}
}

func toRaw(recs [][]byte) []json.RawMessage {
	out := make([]json.RawMessage, len(recs))
	for i, r := range recs {
		out[i] = r
	}
	return out
}

func gunzipFile(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestExportPagesLoop: a nextLink that loops is an error, and nothing is
// published.
func TestExportPagesLoop(t *testing.T) {
	e := newAPIExport(t, 10, 1)
	e.api.SetRecords(schema.HardwareFirmware.Name, toRaw(pagesRecords(t, 50)))
	e.api.LoopNextLink(true)
	lake := t.TempDir()
	opt := e.options(t, lake)
	opt.Method, opt.PageSize = pipeline.MethodJSON, 10
	sum, err := pipeline.Export(context.Background(), opt)
	if !errors.Is(err, defender.ErrNextLinkLoop) {
		t.Fatalf("err = %v, want ErrNextLinkLoop", err)
	}
	if sum != nil && sum.Published {
		t.Error("published a snapshot read from a looping nextLink")
	}
	if rows := lakeRows(t, lake); len(rows) != 0 {
		t.Errorf("lake holds %d rows", len(rows))
	}
}

// TestExportOptionsChecked: every problem of the options is named at once,
// before anything is sent.
func TestExportOptionsChecked(t *testing.T) {
	_, err := pipeline.Export(context.Background(), pipeline.ExportOptions{
		Method: "xml", PageSize: defender.MaxPageSize + 1,
		Convert: pipeline.Options{Dataset: schema.HardwareFirmware},
	})
	for _, want := range []string{"no api client", "no output bucket", `method "xml"`, "page size 200001"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to say %q", err, want)
		}
	}
}
