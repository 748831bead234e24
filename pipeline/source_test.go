package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSnapshotTimeExportResponse reads the snapshot time from export.json
// files as editors and tools leave them, and checks that one that cannot
// be used fails naming the file.
func TestSnapshotTimeExportResponse(t *testing.T) {
	want := time.Date(2026, 12, 4, 12, 34, 56, 0, time.UTC)
	body := `{"exportFiles":["part-00000.json.gz"],"generatedTime":"2026-12-04T12:34:56Z"}`
	cases := []struct {
		name string
		data string // "" makes export.json a folder
		bad  bool   // SnapshotTime fails with ErrBadExportResponse
	}{
		{name: "plain", data: body},
		{name: "byte-order mark", data: "\xef\xbb\xbf" + body},
		{name: "byte-order mark and CRLF", data: "\xef\xbb\xbf{\r\n\"generatedTime\": \"2026-12-04T12:34:56Z\"\r\n}\r\n"},
		{name: "two byte-order marks", data: "\xef\xbb\xbf\xef\xbb\xbf" + body, bad: true},
		{name: "not JSON", data: "generatedTime=2026-12-04", bad: true},
		{name: "cut short", data: body[:30], bad: true},
		{name: "no generatedTime", data: `{"exportFiles":[]}`, bad: true},
		{name: "generatedTime not a time", data: `{"generatedTime":"yesterday"}`, bad: true},
		{name: "a folder", bad: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, ExportResponseFile)
			var err error
			if c.data == "" {
				err = os.Mkdir(path, 0o755)
			} else {
				err = os.WriteFile(path, []byte(c.data), 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
			part := filepath.Join(dir, "part-00000.json.gz")
			if err := os.WriteFile(part, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			inputs, err := Inputs([]string{dir}, nil)
			if err != nil {
				t.Fatal(err)
			}

			got, err := SnapshotTime([]string{dir}, inputs)
			switch {
			case c.bad && !errors.Is(err, ErrBadExportResponse):
				t.Fatalf("err = %v, want ErrBadExportResponse", err)
			case c.bad && !strings.Contains(err.Error(), path):
				t.Errorf("err = %v, does not name %s", err, path)
			case !c.bad && (err != nil || !got.Equal(want)):
				t.Errorf("SnapshotTime = %v, %v; want %v", got, err, want)
			}
		})
	}
}
