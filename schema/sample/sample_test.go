package sample

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

var update = flag.Bool("update", false, "rewrite golden files")

// quirkyConfig is the shape of the bundled sample, smaller.
func quirkyConfig() Config {
	return Config{
		Dataset: schema.HardwareFirmware, Records: 600, Files: 16, Groups: 12,
		Unassigned: true, Seed: 42, Quirks: true,
	}
}

// storedFile is a written part file read back with the standard library.
type storedFile struct {
	File
	text    []byte // decompressed
	members int
}

func readBack(t *testing.T, dir string, files []File) []storedFile {
	t.Helper()
	out := make([]storedFile, 0, len(files))
	for _, f := range files {
		raw, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(raw)) != f.GzipBytes {
			t.Errorf("%s: %d gzip bytes stored, summary says %d", f.Path, len(raw), f.GzipBytes)
		}
		text, members := gunzip(t, raw)
		if int64(len(text)) != f.JSONBytes {
			t.Errorf("%s: %d JSON bytes, summary says %d", f.Path, len(text), f.JSONBytes)
		}
		out = append(out, storedFile{File: f, text: text, members: members})
	}
	return out
}

// gunzip decompresses every member of raw and counts them.
func gunzip(t *testing.T, raw []byte) ([]byte, int) {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(raw))
	zr, err := gzip.NewReader(br)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	members := 0
	for {
		zr.Multistream(false)
		if _, err := io.Copy(&text, zr); err != nil {
			t.Fatal(err)
		}
		members++
		if err := zr.Reset(br); err == io.EOF {
			return text.Bytes(), members
		} else if err != nil {
			t.Fatal(err)
		}
	}
}

// lines splits text into lines, dropping a BOM, CRs and blank lines.
func lines(text []byte) [][]byte {
	text = bytes.TrimPrefix(text, []byte("\xef\xbb\xbf"))
	var out [][]byte
	for _, l := range bytes.Split(text, []byte("\n")) {
		l = bytes.TrimSuffix(l, []byte("\r"))
		if len(l) > 0 {
			out = append(out, l)
		}
	}
	return out
}

func streamed(t *testing.T, cfg Config) [][]byte {
	t.Helper()
	var recs [][]byte
	err := Records(cfg, func(rec []byte) error {
		recs = append(recs, append([]byte(nil), rec...))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestWriteCounts(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		files int
	}{
		{"by group, one file each", Config{Records: 300, Groups: 5, Unassigned: true}, 6},
		{"by group, extra files", Config{Records: 3000, Groups: 5, Files: 9}, 9},
		{"by group, files raised to groups", Config{Records: 3000, Groups: 7, Files: 2}, 7},
		{"fewer devices than groups", Config{Records: 7, Groups: 10}, 3},
		{"records not a multiple of three", Config{Records: 1001, Groups: 4, Files: 6}, 6},
		{"only unassigned", Config{Records: 50, Unassigned: true}, 1},
		{"mixed", Config{Records: 2000, Groups: 8, Unassigned: true, Files: 5, Layout: Mixed}, 5},
		{"mixed, more files than devices", Config{Records: 4, Groups: 3, Files: 9, Layout: Mixed}, 2},
		{"camel", Config{Records: 99, Groups: 2, Casing: Camel}, 2},
		{"quirks, one file", Config{Records: 400, Unassigned: true, Quirks: true}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Dataset = schema.HardwareFirmware
			dir := t.TempDir()
			s, err := Write(dir, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Files) != tt.files {
				t.Errorf("%d files, want %d", len(s.Files), tt.files)
			}

			var got [][]byte
			for _, f := range readBack(t, dir, s.Files) {
				ls := lines(f.text)
				if len(ls) != f.Records {
					t.Errorf("%s: %d records, summary says %d", f.Path, len(ls), f.Records)
				}
				if f.Records == 0 {
					t.Errorf("%s: empty file", f.Path)
				}
				got = append(got, ls...)
			}
			if len(got) != cfg.Records || s.Records != cfg.Records {
				t.Fatalf("%d records written, summary %d, want %d", len(got), s.Records, cfg.Records)
			}
			want := streamed(t, cfg)
			for i := range got {
				if !json.Valid(got[i]) {
					t.Fatalf("record %d is not valid JSON: %.200s", i, got[i])
				}
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("record %d differs between Write and Records", i)
				}
			}
		})
	}
}

func TestPaths(t *testing.T) {
	byGroup := regexp.MustCompile(`^2026-11-30/0600/FirmwareHardwareExport/json/OrgId=[0-9a-f-]{36}/_RbacGroupId=(\d+)/part-\d{5}-[0-9a-f-]{36}\.c000\.json\.gz$`)
	mixed := regexp.MustCompile(`^2026-11-30/0600/FirmwareHardwareExport/json/OrgId=[0-9a-f-]{36}/part-\d{5}-[0-9a-f-]{36}\.c000\.json\.gz$`)

	cfg := quirkyConfig()
	files, err := Plan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		m := byGroup.FindStringSubmatch(f.Path)
		if m == nil || m[1] != f.Group {
			t.Errorf("path %s does not match the by-group layout of group %s", f.Path, f.Group)
		}
		if seen[f.Path] {
			t.Errorf("path %s twice", f.Path)
		}
		seen[f.Path] = true
	}

	cfg.Layout = Mixed
	files, err = Plan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !mixed.MatchString(f.Path) || f.Group != "" {
			t.Errorf("path %s group %q does not match the mixed layout", f.Path, f.Group)
		}
	}
}

func TestExportJSON(t *testing.T) {
	dir := t.TempDir()
	cfg := quirkyConfig()
	s, err := Write(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Context       string   `json:"@odata.context"`
		ExportFiles   []string `json:"exportFiles"`
		GeneratedTime string   `json:"generatedTime"`
	}
	raw, err := os.ReadFile(s.ExportJSON)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.GeneratedTime != "2026-11-30T06:00:00Z" {
		t.Errorf("generatedTime %q", resp.GeneratedTime)
	}
	if !strings.Contains(resp.Context, "ExportFilesResponse") {
		t.Errorf("@odata.context %q", resp.Context)
	}
	if len(resp.ExportFiles) != len(s.Files) {
		t.Fatalf("%d exportFiles, %d files", len(resp.ExportFiles), len(s.Files))
	}
	for _, u := range resp.ExportFiles {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(u))); err != nil {
			t.Error(err)
		}
	}

	cfg.BaseURL = "https://127.0.0.1:10000/tvm-firmware-export"
	body, err := ExportJSON(cfg, s.Files)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(resp.ExportFiles[0], cfg.BaseURL+"/2026-11-30/0600/") {
		t.Errorf("exportFiles[0] = %q", resp.ExportFiles[0])
	}
}

// hashTree hashes every file under dir, names included.
func hashTree(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		h.Write([]byte(filepath.ToSlash(rel) + "\x00"))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestDeterministic(t *testing.T) {
	for _, layout := range []Layout{ByGroup, Mixed} {
		cfg := quirkyConfig()
		cfg.Layout = layout
		hashes := map[string]int{}
		for _, conc := range []int{1, 3, 16} {
			cfg.Concurrency = conc
			dir := t.TempDir()
			if _, err := Write(dir, cfg); err != nil {
				t.Fatal(err)
			}
			hashes[hashTree(t, dir)]++
		}
		if len(hashes) != 1 {
			t.Errorf("layout %d: %d different outputs for one config", layout, len(hashes))
		}

		cfg.Seed++
		dir := t.TempDir()
		if _, err := Write(dir, cfg); err != nil {
			t.Fatal(err)
		}
		if hashes[hashTree(t, dir)] != 0 {
			t.Errorf("layout %d: another seed gave the same output", layout)
		}
	}
}

func TestWriteFile(t *testing.T) {
	cfg := quirkyConfig()
	dir := t.TempDir()
	s, err := Write(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	files, err := Plan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		var buf bytes.Buffer
		got, err := WriteFile(&buf, cfg, f)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if !bytes.Equal(buf.Bytes(), want) || got != s.Files[i] {
			t.Errorf("%s: WriteFile differs from Write", f.Path)
		}
	}

	other := files[0]
	other.Path = "elsewhere.json.gz"
	if _, err := WriteFile(io.Discard, cfg, other); err == nil {
		t.Error("WriteFile accepted a file of another export")
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"no dataset", Config{Records: 1}, []string{"no dataset"}},
		{"unsupported", Config{Dataset: &schema.Dataset{Name: "nope"}, Records: 1}, []string{"no sample generator"}},
		{"no records", Config{Dataset: schema.HardwareFirmware}, []string{"records must be positive"}},
		{"all at once", Config{Records: -1, Files: -1, Groups: -2, Casing: 7, Layout: 9},
			[]string{"no dataset", "records", "files", "groups", "casing", "layout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Write(t.TempDir(), tt.cfg)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	_, err := Plan(Config{Dataset: &schema.Dataset{Name: "nope"}, Records: 1})
	if !errors.Is(err, ErrUnsupported) {
		t.Errorf("error %v is not ErrUnsupported", err)
	}
}

func TestRecordsStops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := Records(quirkyConfig(), func([]byte) error {
		n++
		if n == 5 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 5 {
		t.Errorf("got %v after %d records", err, n)
	}
}

func TestSupported(t *testing.T) {
	if got := Supported(); len(got) != len(schema.Datasets()) || got[0] != "hardware_firmware" {
		t.Errorf("Supported() = %v", got)
	}
	keys, err := FlattenKeys(schema.HardwareFirmware)
	if err != nil || len(keys) < 20 {
		t.Fatalf("FlattenKeys: %d keys, %v", len(keys), err)
	}
}

func TestGolden(t *testing.T) {
	cfg := quirkyConfig()
	cfg.GeneratedTime = time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	var got bytes.Buffer
	recs := streamed(t, cfg)
	for _, r := range recs[:20] {
		got.Write(r)
		got.WriteByte('\n')
	}

	path := filepath.Join("testdata", "first-records.golden.jsonl")
	if *update {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("first records differ from %s; run go test -update if the change is meant", path)
	}
}

func BenchmarkRecords(b *testing.B) {
	cfg := Config{Dataset: schema.HardwareFirmware, Records: 30000, Groups: 50, Unassigned: true, Layout: Mixed}
	var n int64
	for b.Loop() {
		err := Records(cfg, func(rec []byte) error {
			n += int64(len(rec)) + 1
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(n / int64(b.N))
}

func BenchmarkWriteFile(b *testing.B) {
	cfg := Config{Dataset: schema.HardwareFirmware, Records: 30000, Groups: 50, Unassigned: true, Layout: Mixed}
	files, err := Plan(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for b.Loop() {
		f, err := WriteFile(io.Discard, cfg, files[0])
		if err != nil {
			b.Fatal(err)
		}
		n += f.JSONBytes
	}
	b.SetBytes(n / int64(b.N))
}

// FuzzRecords checks that any config either is refused or yields exactly
// the records asked for, each valid JSON, spread over files that add up.
func FuzzRecords(f *testing.F) {
	f.Add(int64(42), uint16(600), uint8(12), uint8(16), true, false, false, true)
	f.Add(int64(-1), uint16(1), uint8(0), uint8(0), false, true, true, false)
	f.Add(int64(7), uint16(0), uint8(3), uint8(1), true, true, false, true)
	f.Fuzz(func(t *testing.T, seed int64, records uint16, groups, files uint8, quirks, mixed, camel, unassigned bool) {
		cfg := Config{
			Dataset: schema.HardwareFirmware, Records: int(records % 2000), Groups: int(groups),
			Files: int(files), Seed: seed, Quirks: quirks, Unassigned: unassigned,
		}
		if mixed {
			cfg.Layout = Mixed
		}
		if camel {
			cfg.Casing = Camel
		}
		plan, err := Plan(cfg)
		if err != nil {
			if cfg.Records > 0 {
				t.Fatalf("refused %+v: %v", cfg, err)
			}
			return
		}
		sum := 0
		for _, f := range plan {
			if f.Records <= 0 {
				t.Fatalf("file %s holds %d records", f.Path, f.Records)
			}
			sum += f.Records
		}
		n := 0
		err = Records(cfg, func(rec []byte) error {
			n++
			if !json.Valid(rec) {
				t.Fatalf("invalid record %.200s", rec)
			}
			return nil
		})
		if err != nil || n != cfg.Records || sum != cfg.Records {
			t.Fatalf("%d records streamed, %d planned, want %d (%v)", n, sum, cfg.Records, err)
		}
	})
}

// TestBundledSample checks that testdata/sample-export is what the
// generator writes for the flags `make sample` passes, and that it holds
// every quirk.
func TestBundledSample(t *testing.T) {
	bundled := filepath.Join("..", "..", "testdata", "sample-export")
	cfg := Config{
		Dataset: schema.HardwareFirmware, Records: 600, Files: 16, Groups: 12, Unassigned: true,
		Layout: ByGroup, Quirks: true, Seed: 20261130,
		GeneratedTime: time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC),
	}
	dir := t.TempDir()
	if _, err := Write(dir, cfg); err != nil {
		t.Fatal(err)
	}
	if hashTree(t, dir) != hashTree(t, bundled) {
		t.Fatalf("%s differs from the generator's output; run make sample", bundled)
	}
	if _, err := os.Stat(filepath.Join(bundled, "2026-11-30", "0600")); err != nil {
		t.Error(err)
	}
}
