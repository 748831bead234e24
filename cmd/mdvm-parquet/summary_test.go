package main

import (
	"strings"
	"testing"
	"time"

	"github.com/mdvm-parquet/mdvm-parquet/pipeline"
)

// TestPrintSummary checks the summary people read: every line adds up, and
// a failed run says what it did not publish.
func TestPrintSummary(t *testing.T) {
	base := pipeline.Summary{
		Dataset: "hardware_firmware", SnapshotTime: time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC),
		Output: "/lake", Files: 2, BytesIn: 1 << 20, BytesRaw: 4 << 20, Duration: 2, RecordsPerSec: 2,
	}
	cases := []struct {
		name string
		sum  func(s *pipeline.Summary)
		want string
	}{{
		name: "published",
		sum: func(s *pipeline.Summary) {
			s.Published, s.Records, s.Rows, s.Partitions, s.ParquetFiles, s.BytesOut = true, 4, 4, 2, 2, 1<<19
		},
		want: `hardware_firmware snapshot 2026-11-30T06:00:00Z of /lake: published
  files        2 read, 1.0 MiB stored, 4.0 MiB decompressed
  records      4 read = 4 rows written + 0 rejected
  output       2 partitions, 2 Parquet files, 0.5 MiB
  took         2.00s, 2 records/s, 2.1 MB/s
`,
	}, {
		name: "published with every anomaly",
		sum: func(s *pipeline.Summary) {
			s.Published, s.Records, s.Rows, s.Partitions, s.ParquetFiles, s.BytesOut = true, 4, 4, 2, 2, 1<<19
			s.RewrittenFiles, s.Unconverted, s.OverflowKeys = 1, 3, 7
			s.InvalidUTF8, s.Unflattenable, s.DuplicateKeys = 1, 2, 5
		},
		want: `hardware_firmware snapshot 2026-11-30T06:00:00Z of /lake: published
  files        2 read, 1.0 MiB stored, 4.0 MiB decompressed
  records      4 read = 4 rows written + 0 rejected
  output       2 partitions, 2 Parquet files, 0.5 MiB (1 rewritten to the snapshot's final schema)
  unconverted  3 typed values NULL, kept as received in extra_fields
  unflattened  7 values of keys past the 1024 flattened columns, kept only in additional_fields
  repaired     1 records with invalid UTF-8, 2 unflattenable documents, 5 duplicate keys
  took         2.00s, 2 records/s, 2.1 MB/s
`,
	}, {
		name: "failed over --max-rejected",
		sum: func(s *pipeline.Summary) {
			s.Records, s.Rejected, s.NotPublished, s.RejectsFile = 4, 2, 2, "/lake/_rejected/r.jsonl"
			s.Inputs = []pipeline.InputSummary{{Name: "a.json", Records: 4, Rejected: 1}}
		},
		want: `hardware_firmware snapshot 2026-11-30T06:00:00Z of /lake: NOT published
  files        2 given, 1.0 MiB read, 4.0 MiB decompressed
  records      4 read = 0 rows published + 2 rejected + 2 not published
  output       nothing published: the run failed
  rejects      /lake/_rejected/r.jsonl (the first 1 of the 2 rejected: the run stopped before the rest)
  took         2.00s, 2 records/s, 2.1 MB/s
`,
	}, {
		name: "failed before reading",
		want: `hardware_firmware snapshot 2026-11-30T06:00:00Z of /lake: NOT published
  files        2 given, 1.0 MiB read, 4.0 MiB decompressed
  records      0 read = 0 rows published + 0 rejected + 0 not published
  output       nothing published: the run failed
  took         2.00s, 2 records/s, 2.1 MB/s
`,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := base
			if c.sum != nil {
				c.sum(&s)
			}
			var b strings.Builder
			printSummary(&b, &s)
			if b.String() != c.want {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), c.want)
			}
		})
	}
}
