package pipeline

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestShortReason cuts reasons longer than maxReasonBytes at a character
// boundary, marking the cut.
func TestShortReason(t *testing.T) {
	nested := strings.Repeat("cannot parse array value: ", 560) // 14 KB, as a parser says it
	cases := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"short", "not valid JSON", "not valid JSON"},
		{"at the limit", strings.Repeat("a", 200), strings.Repeat("a", 200)},
		{"one over", strings.Repeat("a", 201), strings.Repeat("a", 197) + "…"},
		{"a character across the cut", strings.Repeat("a", 196) + "é" + strings.Repeat("b", 10), strings.Repeat("a", 196) + "…"},
		{"a character ending at the cut", strings.Repeat("a", 195) + "é" + strings.Repeat("b", 10), strings.Repeat("a", 195) + "é…"},
		{"four-byte characters", strings.Repeat("𝄞", 60), strings.Repeat("𝄞", 49) + "…"},
		{"nested parse error", nested, nested[:197] + "…"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := shortReason(c.in)
			if got != c.want {
				t.Errorf("shortReason = %q (%d bytes), want %q", got, len(got), c.want)
			}
			if len(got) > maxReasonBytes || !utf8.ValidString(got) {
				t.Errorf("shortReason gave %d bytes, valid UTF-8 %t", len(got), utf8.ValidString(got))
			}
		})
	}
}

// TestConvertDeepRecordReason rejects a record with an error 250 levels deep,
// whose parse error repeats itself for kilobytes: the rejects file and the
// error naming the first reject carry it cut short.
func TestConvertDeepRecordReason(t *testing.T) {
	dir := t.TempDir()
	// An error 250 levels deep: the parser's message grows a phrase a level.
	deep := `{"DeviceId":"d","X":` + strings.Repeat("[", 250) + "nope" + strings.Repeat("]", 250) + `}`
	sum, err := convertLines(t, dir, testSnapshot, []string{record(1, "1", `{}`), deep}, nil)
	if !errors.Is(err, ErrTooManyRejected) || !strings.Contains(err.Error(), "part-00001.json:2") {
		t.Fatalf("err = %v", err)
	}
	if len(err.Error()) > 400 {
		t.Errorf("error of %d bytes: %.300s…", len(err.Error()), err)
	}
	data, err := os.ReadFile(filepath.Join(dir, strings.TrimPrefix(sum.RejectsFile, dir+"/")))
	if err != nil {
		t.Fatal(err)
	}
	var line rejectLine
	if err := json.Unmarshal(data, &line); err != nil {
		t.Fatalf("rejects file: %v: %.300s", err, data)
	}
	if len(line.Reason) > maxReasonBytes || !strings.HasSuffix(line.Reason, "…") || line.Raw != deep {
		t.Errorf("reject: reason %q (%d bytes), raw kept whole %t", line.Reason, len(line.Reason), line.Raw == deep)
	}
}
