package main

import (
	"strings"
	"testing"
	"time"

	"github.com/mdvm-parquet/mdvm-parquet/pipeline"
)

// TestPrintSummary checks the summary people read: every line adds up, and
// a failed run says what it did not publish, and what it did when it failed
// part way through the event dates of a delta.
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
		name: "published delta, with the fraction of its snapshot time",
		sum: func(s *pipeline.Summary) {
			s.Dataset, s.SnapshotTime = "vulnerability_changes", s.SnapshotTime.Add(123456700)
			s.Published, s.Records, s.Rows, s.Partitions, s.ParquetFiles, s.BytesOut = true, 4, 4, 2, 2, 1<<19
			s.PublishedDates = []string{"2026-11-29", "2026-11-30"}
		},
		want: `vulnerability_changes snapshot 2026-11-30T06:00:00.1234567Z of /lake: published
  files        2 read, 1.0 MiB stored, 4.0 MiB decompressed
  records      4 read = 4 rows written + 0 rejected
  output       2 partitions, 2 Parquet files, 0.5 MiB
  dates        2026-11-29, 2026-11-30
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
			s.RejectsWritten = 1
			s.Inputs = []pipeline.InputSummary{{Name: "a.json", Records: 4, Rejected: 2}}
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
	}, {
		name: "failed publishing a snapshot's one date",
		sum: func(s *pipeline.Summary) {
			s.Records, s.NotPublished, s.UnpublishedDates = 4, 4, []string{"2026-11-30"}
		},
		want: `hardware_firmware snapshot 2026-11-30T06:00:00Z of /lake: NOT published
  files        2 given, 1.0 MiB read, 4.0 MiB decompressed
  records      4 read = 0 rows published + 0 rejected + 4 not published
  output       nothing published: the run failed
  took         2.00s, 2 records/s, 2.1 MB/s
`,
	}, {
		name: "failed at the last event date",
		sum: func(s *pipeline.Summary) {
			s.Dataset, s.Records, s.Rows, s.Rejected, s.NotPublished = "vulnerability_changes", 7, 3, 1, 3
			s.Partitions, s.ParquetFiles, s.BytesOut = 2, 2, 1<<19
			s.PublishedDates, s.UnpublishedDates = []string{"2026-11-28", "2026-11-29"}, []string{"2026-11-30"}
		},
		want: `vulnerability_changes snapshot 2026-11-30T06:00:00Z of /lake: PARTLY published
  files        2 given, 1.0 MiB read, 4.0 MiB decompressed
  records      7 read = 3 rows published + 1 rejected + 3 not published
  output       2 of 3 event dates published (2026-11-28, 2026-11-29): 2 partitions, 2 Parquet files, 0.5 MiB
  unpublished  2026-11-30: the run failed; a rerun of the same inputs publishes every date
  took         2.00s, 2 records/s, 2.1 MB/s
`,
	}, {
		name: "failed at the second of four event dates",
		sum: func(s *pipeline.Summary) {
			s.Dataset, s.Records, s.Rows, s.NotPublished = "vulnerability_changes", 9, 2, 7
			s.Partitions, s.ParquetFiles, s.RewrittenFiles, s.BytesOut = 1, 1, 1, 1<<18
			s.PublishedDates = []string{"2026-11-28"}
			s.UnpublishedDates = []string{"2026-11-29", "2026-11-30", "2026-12-01"}
		},
		want: `vulnerability_changes snapshot 2026-11-30T06:00:00Z of /lake: PARTLY published
  files        2 given, 1.0 MiB read, 4.0 MiB decompressed
  records      9 read = 2 rows published + 0 rejected + 7 not published
  output       1 of 4 event dates published (2026-11-28): 1 partitions, 1 Parquet files, 0.2 MiB (1 rewritten to the snapshot's final schema)
  unpublished  2026-11-29 and 2 later dates: the run failed; a rerun of the same inputs publishes every date
  took         2.00s, 2 records/s, 2.1 MB/s
`,
	}, {
		name: "failed at the second of three event dates",
		sum: func(s *pipeline.Summary) {
			s.Dataset, s.Records, s.Rows, s.NotPublished = "vulnerability_changes", 3, 1, 2
			s.Partitions, s.ParquetFiles, s.BytesOut = 1, 1, 1<<18
			s.PublishedDates, s.UnpublishedDates = []string{"2026-11-28"}, []string{"2026-11-29", "2026-11-30"}
		},
		want: `vulnerability_changes snapshot 2026-11-30T06:00:00Z of /lake: PARTLY published
  files        2 given, 1.0 MiB read, 4.0 MiB decompressed
  records      3 read = 1 rows published + 0 rejected + 2 not published
  output       1 of 3 event dates published (2026-11-28): 1 partitions, 1 Parquet files, 0.2 MiB
  unpublished  2026-11-29 and 1 later date: the run failed; a rerun of the same inputs publishes every date
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
