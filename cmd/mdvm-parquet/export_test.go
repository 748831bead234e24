package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver

	"github.com/mdvm-parquet/mdvm-parquet/pipeline/defender/defendertest"
	"github.com/mdvm-parquet/mdvm-parquet/schema"
	"github.com/mdvm-parquet/mdvm-parquet/schema/sample"
	"github.com/mdvm-parquet/mdvm-parquet/sink/azurite"
)

// The export command run in this process against the fake Defender API,
// its files in Azurite.

// clientSecret is the application secret the fake accepts; no output may
// ever show it.
const clientSecret = "Zx9~client-secret-value-that-must-not-leak"

// fakeTenant is a generated export in Azurite, handed out by a fake API.
type fakeTenant struct {
	dir string // the export on disk
	api *defendertest.Server

	mu    sync.Mutex
	links []string      // every link handed out
	ttl   time.Duration // lifetime of the links handed out
}

// newFakeTenant uploads a small generated export and signs the command in
// to a fake API that hands out its links.
func newFakeTenant(t *testing.T) *fakeTenant {
	t.Helper()
	ft := &fakeTenant{dir: t.TempDir(), ttl: time.Hour}
	cfg := sample.Config{Dataset: schema.HardwareFirmware, Records: 300, Files: 3, Groups: 2,
		Unassigned: true, Quirks: true, Seed: 3}
	sum, err := sample.Write(ft.dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	az := azurite.Start(t)
	container := az.NewContainer(t)
	for _, f := range sum.Files {
		data, err := os.ReadFile(filepath.Join(ft.dir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		az.Upload(t, container, f.Path, data)
	}

	ft.api = defendertest.New(t, defendertest.Options{Unlimited: true, ClientSecret: clientSecret})
	ft.api.SetExportFunc(schema.HardwareFirmware.Name, func(int) ([]string, time.Time) {
		ft.mu.Lock()
		defer ft.mu.Unlock()
		var links []string
		for _, f := range sum.Files {
			links = append(links, az.SASURL(t, container, f.Path, ft.ttl))
		}
		ft.links = append(ft.links, links...)
		return links, sum.GeneratedTime
	})

	exportHTTPClient = ft.api.HTTPClient()
	t.Cleanup(func() { exportHTTPClient = nil })
	t.Setenv("AZURE_TENANT_ID", ft.api.Tenant)
	t.Setenv("AZURE_CLIENT_ID", ft.api.ClientID)
	t.Setenv("AZURE_CLIENT_SECRET", clientSecret)
	t.Setenv("AZURE_AUTHORITY_HOST", ft.api.AuthorityHost())
	return ft
}

// exportRun is what one in-process run of the command left.
type exportRun struct {
	code           int
	stdout, stderr string
}

// runExport runs the command with args, signed in to the fake when the
// command is export.
func runExport(t *testing.T, ft *fakeTenant, args ...string) exportRun {
	t.Helper()
	var stdout, stderr bytes.Buffer
	all := []string{"mdvm-parquet"}
	for _, a := range args {
		all = append(all, a)
		if a == "export" {
			all = append(all, "--credential", "env", "--api-url", ft.api.URL)
		}
	}
	code := run(all, strings.NewReader(""), &stdout, &stderr)
	return exportRun{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func (r exportRun) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// lakeLines reads a lake back with DuckDB, partition columns included, one
// line a row, in a stable order.
func lakeLines(t *testing.T, lake string) []string {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	glob := filepath.ToSlash(filepath.Join(lake, schema.HardwareFirmware.Name)) + "/**/*.parquet"
	rows, err := db.Query(fmt.Sprintf("SELECT * FROM read_parquet('%s', hive_partitioning=true) ORDER BY ALL", glob))
	if err != nil {
		t.Fatalf("read %s: %v", lake, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%q", vals))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func sameLake(t *testing.T, got, want string) {
	t.Helper()
	g, w := lakeLines(t, got), lakeLines(t, want)
	if len(g) == 0 || len(g) != len(w) {
		t.Fatalf("%s has %d rows, %s has %d", got, len(g), want, len(w))
	}
	for i := range g {
		if g[i] != w[i] {
			t.Fatalf("row %d differs:\n got %.300s\nwant %.300s", i, g[i], w[i])
		}
	}
}

func TestExportCommand(t *testing.T) {
	ft := newFakeTenant(t)
	dir := t.TempDir()
	lake, raw, sumPath := filepath.Join(dir, "lake"), filepath.Join(dir, "raw"), filepath.Join(dir, "summary.json")
	res := runExport(t, ft, "export", "--allow-http", "--output", lake, "--keep-raw", raw,
		"--summary-json", sumPath, "--max-rejected", "1000", "--download-workers", "2")
	if res.code != 0 || !strings.Contains(res.stdout, "published") {
		t.Fatalf("export: %v", res)
	}

	fromDisk := filepath.Join(dir, "from-disk")
	if res := runExport(t, ft, "convert", "--output", fromDisk, "--max-rejected", "1000", ft.dir); res.code != 0 {
		t.Fatalf("convert of the files on disk: %v", res)
	}
	sameLake(t, lake, fromDisk)

	replay := filepath.Join(dir, "replay")
	if res := runExport(t, ft, "convert", "--output", replay, "--max-rejected", "1000", raw); res.code != 0 {
		t.Fatalf("convert of the raw folder: %v", res)
	}
	sameLake(t, replay, lake)
	assertNoSecrets(t, ft, res.stdout+res.stderr+readTree(t, dir))
}

func TestExportNoSnapshotYet(t *testing.T) {
	ft := newFakeTenant(t)
	ft.api.SetExport(schema.HardwareFirmware.Name, nil, time.Time{})
	lake := filepath.Join(t.TempDir(), "lake")
	res := runExport(t, ft, "export", "--allow-http", "--output", lake)
	if res.code != 0 || !strings.Contains(res.stdout, "no snapshot yet") {
		t.Fatalf("export of no snapshot: %v", res)
	}
	if files := readTree(t, lake); files != "" {
		t.Errorf("lake holds files:\n%.500s", files)
	}
}

func TestExportUsage(t *testing.T) {
	ft := newFakeTenant(t)
	res := runExport(t, ft, "export", "--method", "xml", "--page-size", "0", "--sas-valid-hours", "30", "--download-workers", "0")
	if res.code != exitUsage {
		t.Fatalf("bad flags: %v", res)
	}
	for _, want := range []string{"--method", "--page-size", "--sas-valid-hours", "--download-workers"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("error does not name %s: %s", want, res.stderr)
		}
	}

	// The links Azurite makes are http: refused without --allow-http.
	res = runExport(t, ft, "export", "--output", filepath.Join(t.TempDir(), "lake"))
	if res.code != exitFailed || !strings.Contains(res.stderr, `scheme "http" not allowed`) {
		t.Errorf("http links without --allow-http: %v", res)
	}
}

// TestExportKeepsSecrets runs an export that fails (every link handed out
// has expired) with debug logs in JSON, and searches everything it wrote
// for the client secret, the tokens and the signatures handed out.
func TestExportKeepsSecrets(t *testing.T) {
	ft := newFakeTenant(t)
	ft.ttl = -time.Hour
	ft.api.ServerError(1)
	dir := t.TempDir()
	res := runExport(t, ft, "--log-level", "debug", "--log-format", "json", "export", "--allow-http",
		"--output", filepath.Join(dir, "lake"), "--keep-raw", filepath.Join(dir, "raw"),
		"--summary-json", filepath.Join(dir, "summary.json"))
	if res.code != exitFailed || !strings.Contains(res.stderr, "download link expired") {
		t.Fatalf("export with expired links: %v", res)
	}
	if len(ft.links) != 6 || len(ft.api.Tokens()) == 0 {
		t.Fatalf("%d links and %d tokens handed out; want two export answers and a token", len(ft.links), len(ft.api.Tokens()))
	}
	assertNoSecrets(t, ft, res.stdout+res.stderr+readTree(t, dir))
}

// assertNoSecrets fails if text holds the client secret, a token issued,
// or a signature handed out.
func assertNoSecrets(t *testing.T, ft *fakeTenant, text string) {
	t.Helper()
	secrets := map[string]string{clientSecret: "the client secret"}
	for _, tok := range ft.api.Tokens() {
		secrets[tok] = "a bearer token"
	}
	ft.mu.Lock()
	for _, link := range ft.links {
		u, _ := url.Parse(link)
		sig := u.Query().Get("sig")
		secrets[sig] = "a SAS signature"
		secrets[url.QueryEscape(sig)] = "an escaped SAS signature"
	}
	ft.mu.Unlock()
	for s, what := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("the output shows %s", what)
		}
	}
	for _, m := range sigValue.FindAllString(text, -1) {
		if !strings.HasSuffix(m, "REDACTED") {
			t.Errorf("the output shows a signature: %s", m)
		}
	}
}

// sigValue finds a SAS signature parameter and its value.
var sigValue = regexp.MustCompile(`(?i)\bsig(=|%3D)[^&"'\s\\]*`)

// readTree returns every regular file under dir, each headed by its path,
// or "" when there is none.
func readTree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "== %s\n", path)
		b.Write(data)
		return nil
	})
	return b.String()
}

// TestExportJSONMethod reads the pages under the endpoint's other
// documented name, given with --path.
func TestExportJSONMethod(t *testing.T) {
	ft := newFakeTenant(t)
	cfg := sample.Config{Dataset: schema.HardwareFirmware, Records: 250, Groups: 2, Seed: 5, Casing: sample.Camel}
	var recs []json.RawMessage
	if err := sample.Records(cfg, func(rec []byte) error {
		recs = append(recs, bytes.Clone(rec))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ft.api.SetRecords(schema.HardwareFirmware.Name, recs)
	lake := filepath.Join(t.TempDir(), "lake")
	path := "/api/machines/HardwareFirmwareInventoryProductCodeByMachine"
	res := runExport(t, ft, "export", "--method", "json", "--path", path, "--page-size", "100", "--output", lake)
	if res.code != 0 {
		t.Fatalf("export: %v", res)
	}
	if n := ft.api.Calls(path); n != 3 {
		t.Errorf("%d page requests, want 3", n)
	}
	lines := lakeLines(t, lake)
	if len(lines) != len(recs) {
		t.Errorf("lake holds %d rows, want %d", len(lines), len(recs))
	}
	if len(lines) > 0 && !strings.Contains(lines[0], `"HardwareFirmwareInventoryProductCodeByMachine"`) {
		t.Errorf("row does not name the endpoint as its source: %.300s", lines[0])
	}
}
