package pipeline

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestParseTimestamp(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, us int) int64 {
		return time.Date(y, mo, d, h, mi, s, us*1000, time.UTC).UnixMicro()
	}
	tests := []struct {
		in   string
		want int64
	}{
		{"2021-01-11 09:47:58.854", utc(2021, 1, 11, 9, 47, 58, 854000)},
		{"2021-01-11 09:47:58.8540000", utc(2021, 1, 11, 9, 47, 58, 854000)},
		{"2021-01-11T09:47:58.1234567Z", utc(2021, 1, 11, 9, 47, 58, 123456)},
		{"2021-01-11T09:47:58.123456789Z", utc(2021, 1, 11, 9, 47, 58, 123456)},
		{"2021-01-11T09:47:58.9999999", utc(2021, 1, 11, 9, 47, 58, 999999)},
		{"2021-01-11T09:47:58Z", utc(2021, 1, 11, 9, 47, 58, 0)},
		{"2021-01-11t09:47:58z", utc(2021, 1, 11, 9, 47, 58, 0)},
		{"2021-01-11T09:47:58", utc(2021, 1, 11, 9, 47, 58, 0)},
		{"2021-01-11T09:47", utc(2021, 1, 11, 9, 47, 0, 0)},
		{"2021-01-11 09:47:58,5", utc(2021, 1, 11, 9, 47, 58, 500000)},
		{"2021-01-11T09:47:58+02:00", utc(2021, 1, 11, 7, 47, 58, 0)},
		{"2021-01-11T09:47:58.5+01", utc(2021, 1, 11, 8, 47, 58, 500000)},
		{"2021-01-11T01:00:00-0530", utc(2021, 1, 11, 6, 30, 0, 0)},
		{"2021-01-11T23:30:00-01:00", utc(2021, 1, 12, 0, 30, 0, 0)},
		{"2021-01-11T09:47:58+00:00", utc(2021, 1, 11, 9, 47, 58, 0)},
		{"2021-01-11", utc(2021, 1, 11, 0, 0, 0, 0)},
		{"2024-02-29T12:00:00Z", utc(2024, 2, 29, 12, 0, 0, 0)},
		{"2000-02-29", utc(2000, 2, 29, 0, 0, 0, 0)},
		{"0001-01-01T00:00:00Z", utc(1, 1, 1, 0, 0, 0, 0)},
		{"0001-01-01 00:00:00", utc(1, 1, 1, 0, 0, 0, 0)},
		{"9999-12-31T23:59:59.999999Z", utc(9999, 12, 31, 23, 59, 59, 999999)},
		{"1969-12-31T23:59:59.999999Z", -1},
		{"1970-01-01T00:00:00Z", 0},
	}
	for _, tt := range tests {
		got, ok := parseTimestamp([]byte(tt.in))
		if !ok || got != tt.want {
			t.Errorf("parseTimestamp(%q) = %d, %v; want %d (%s)", tt.in, got, ok, tt.want,
				time.UnixMicro(tt.want).UTC().Format(time.RFC3339Nano))
		}
	}
}

func TestParseTimestampRejects(t *testing.T) {
	for _, in := range []string{
		"", " ", "abc", "null", "1610358478", "2021", "2021-01", "21-01-11", "2021-1-11", "2021/01/11",
		"2021-00-11", "2021-13-01", "2021-01-00", "2021-01-32", "2021-04-31", "2023-02-29", "1900-02-29",
		"0000-01-01", "2021-01-11T", "2021-01-11T09", "2021-01-11T9:47", "2021-01-11T24:00:00",
		"2021-01-11T09:60", "2021-01-11T09:47:60", "2021-01-11T09:47:5", "2021-01-11T09:47:58.",
		"2021-01-11T09:47:58.1234567890", "2021-01-11T09:47:58Zjunk", "2021-01-11T09:47:58 Z",
		"2021-01-11T09:47:58+2", "2021-01-11T09:47:58+24:00", "2021-01-11T09:47:58+02:60",
		"2021-01-11T09:47:58+02:00:00", "2021-01-11T09:47:58 +02:00", "2021-01-11X09:47:58",
		"0001-01-01T00:00+00:10", "9999-12-31T23:59:59-00:01",
		" 2021-01-11", "2021-01-11 ", "1/11/2021 9:47:58 AM", "２０２１-01-11",
	} {
		if got, ok := parseTimestamp([]byte(in)); ok {
			t.Errorf("parseTimestamp(%q) = %s, want no parse", in, time.UnixMicro(got).UTC().Format(time.RFC3339Nano))
		}
	}
}

// TestParseTimestampIgnoresLocalZone runs the table in a child process whose
// zone is far from UTC, both through TZ and through time.Local.
func TestParseTimestampIgnoresLocalZone(t *testing.T) {
	if os.Getenv("MDVM_TZ_CHILD") == "1" {
		if time.Now().Format("-0700") == "+0000" {
			t.Fatal("child runs in UTC; the zone was not set")
		}
		TestParseTimestamp(t)
		return
	}
	for _, tz := range []string{"Pacific/Kiritimati", "America/St_Johns", "Asia/Kolkata"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestParseTimestampIgnoresLocalZone$")
		cmd.Env = append(os.Environ(), "MDVM_TZ_CHILD=1", "TZ="+tz)
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "PASS") {
			t.Errorf("TZ=%s: %v\n%s", tz, err, out)
		}
	}
	saved := time.Local
	t.Cleanup(func() { time.Local = saved })
	time.Local = time.FixedZone("UTC-11", -11*3600)
	TestParseTimestamp(t)
}

// FuzzParseTimestamp checks that the parser never panics, that what it
// accepts reads back the same in RFC 3339, and that it agrees with the
// standard library on the RFC 3339 texts both accept.
func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{
		"2021-01-11 09:47:58.854", "2021-01-11T09:47:58.1234567Z", "2021-01-11T09:47:58+02:00",
		"0001-01-01", "9999-12-31T23:59:59.999999Z", "2021-01-11T09:47:58-0530", "x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		us, ok := parseTimestamp([]byte(s))
		if ok {
			back := time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05.999999Z07:00")
			if again, ok := parseTimestamp([]byte(back)); !ok || again != us {
				t.Fatalf("%q → %d → %q → %d, %v", s, us, back, again, ok)
			}
		}
		// The standard library is laxer (one-digit hours, say): compare on
		// strict RFC 3339 only.
		if std, err := time.Parse(time.RFC3339Nano, s); err == nil && strictRFC3339.MatchString(s) &&
			std.Year() >= 1 && std.Year() <= 9999 {
			if !ok || std.Truncate(time.Microsecond).UnixMicro() != us {
				t.Fatalf("%q: standard library reads %s, parser %d, %v", s, std.Format(time.RFC3339Nano), us, ok)
			}
		}
	})
}

var strictRFC3339 = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$`)
