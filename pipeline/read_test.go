package pipeline

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/klauspost/compress/gzip"
)

func gz(t testing.TB, members ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, m := range members {
		w := gzip.NewWriter(&b)
		w.Write([]byte(m))
		w.Close()
	}
	return b.Bytes()
}

func bytesInput(name string, data []byte) Input {
	return Input{Name: name, Size: int64(len(data)), Open: func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}}
}

// readAll runs the read stage on one input and returns its lines joined.
func readAll(t testing.TB, in Input) (string, error) {
	t.Helper()
	out := make(chan chunk, 1024)
	var stored atomic.Int64
	err := readInput(context.Background(), 0, in, out, &stored, &Progress{})
	close(out)
	var b strings.Builder
	line := int64(1)
	for c := range out {
		if c.firstLine != line {
			t.Fatalf("chunk starts at line %d, want %d", c.firstLine, line)
		}
		line += int64(bytes.Count(c.data, []byte{'\n'}))
		b.Write(c.data)
	}
	return b.String(), err
}

func TestReadInput(t *testing.T) {
	long := strings.Repeat("x", 3*chunkSize) // a line longer than a chunk
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"plain", []byte("a\nb\n"), "a\nb\n"},
		{"plain no final newline", []byte("a\nb"), "a\nb"},
		{"gzip", gz(t, "a\nb\n"), "a\nb\n"},
		{"multi-member gzip", gz(t, "a\n", "b\n", "c"), "a\nb\nc"},
		{"bom", []byte("\xef\xbb\xbfa\n"), "a\n"},
		{"gzip bom", gz(t, "\xef\xbb\xbfa\n"), "a\n"},
		{"empty", nil, ""},
		{"empty gzip", gz(t, ""), ""},
		{"long line", gz(t, "a\n"+long+"\nb\n"), "a\n" + long + "\nb\n"},
		{"gzip named plain", gz(t, "z\n"), "z\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, bytesInput("f.json", tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %d bytes %.40q, want %d bytes %.40q", len(got), got, len(tt.want), tt.want)
			}
		})
	}
}

// TestReadTruncatedGzip cuts a gzip stream at every byte offset: each cut
// must fail, naming the input, never pass for a shorter file.
func TestReadTruncatedGzip(t *testing.T) {
	data := gz(t, "{\"DeviceId\":\"a\"}\n{\"DeviceId\":\"b\"}\n")
	for n := 2; n < len(data); n++ {
		_, err := readAll(t, bytesInput("part-1.json.gz", data[:n]))
		if err == nil {
			t.Fatalf("cut at %d of %d bytes read without error", n, len(data))
		}
		if !strings.Contains(err.Error(), "part-1.json.gz") {
			t.Fatalf("cut at %d: error %q does not name the file", n, err)
		}
	}
}

func TestReadCorruptGzip(t *testing.T) {
	data := gz(t, strings.Repeat("{\"DeviceId\":\"a\"}\n", 100))
	data[len(data)-6] ^= 0xff // the CRC-32
	_, err := readAll(t, bytesInput("bad.gz", data))
	if err == nil || !strings.Contains(err.Error(), "bad.gz") || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("err = %v", err)
	}
}

func TestReadOpenError(t *testing.T) {
	in := Input{Name: "gone", Open: func(context.Context) (io.ReadCloser, error) { return nil, errors.New("boom") }}
	if _, err := readAll(t, in); err == nil || !strings.Contains(err.Error(), "gone") {
		t.Fatalf("err = %v", err)
	}
}
