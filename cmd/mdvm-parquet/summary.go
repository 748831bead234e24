package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/mdvm-parquet/mdvm-parquet/pipeline"
)

// printSummary prints the run's one summary for people.
func printSummary(w io.Writer, s *pipeline.Summary) {
	partly := !s.Published && len(s.PublishedDates) > 0
	state := "published"
	switch {
	case partly:
		state = "PARTLY published"
	case !s.Published:
		state = "NOT published"
	}
	fmt.Fprintf(w, "%s snapshot %s of %s: %s\n", s.Dataset, s.SnapshotTime.Format(time.RFC3339Nano), s.Output, state)
	if s.Published {
		fmt.Fprintf(w, "  files        %d read, %s stored, %s decompressed\n", s.Files, mib(s.BytesIn), mib(s.BytesRaw))
		fmt.Fprintf(w, "  records      %d read = %d rows written + %d rejected\n", s.Records, s.Rows, s.Rejected)
		fmt.Fprintf(w, "  output       %d partitions, %d Parquet files, %s%s\n", s.Partitions, s.ParquetFiles, mib(s.BytesOut), rewritten(s))
		if len(s.PublishedDates) > 1 { // the event dates of a delta
			fmt.Fprintf(w, "  dates        %s\n", strings.Join(s.PublishedDates, ", "))
		}
	} else {
		// The run may have stopped before reading every file.
		fmt.Fprintf(w, "  files        %d given, %s read, %s decompressed\n", s.Files, mib(s.BytesIn), mib(s.BytesRaw))
		fmt.Fprintf(w, "  records      %d read = %d rows published + %d rejected + %d not published\n",
			s.Records, s.Rows, s.Rejected, s.NotPublished)
		if partly {
			printPartly(w, s)
		} else {
			fmt.Fprintf(w, "  output       nothing published: the run failed\n")
		}
	}
	if s.RejectsFile != "" {
		fmt.Fprintf(w, "  rejects      %s%s\n", s.RejectsFile, rejectsKept(s))
	}
	printAnomalies(w, s)
	fmt.Fprintf(w, "  took         %.2fs, %.0f records/s, %.1f MB/s\n", s.Duration, s.RecordsPerSec,
		float64(s.BytesRaw)/1e6/max(s.Duration, 1e-9))
}

// printPartly prints what a run that failed part way through publishing
// the event dates of a delta published, and what it did not.
func printPartly(w io.Writer, s *pipeline.Summary) {
	pub, unpub := s.PublishedDates, s.UnpublishedDates
	fmt.Fprintf(w, "  output       %d of %d event dates published (%s): %d partitions, %d Parquet files, %s%s\n",
		len(pub), len(pub)+len(unpub), strings.Join(pub, ", "), s.Partitions, s.ParquetFiles, mib(s.BytesOut), rewritten(s))
	if len(unpub) == 0 {
		return
	}
	dates := unpub[0]
	switch n := len(unpub) - 1; n {
	case 0:
	case 1:
		dates += " and 1 later date"
	default:
		dates += fmt.Sprintf(" and %d later dates", n)
	}
	fmt.Fprintf(w, "  unpublished  %s: the run failed; a rerun of the same inputs publishes every date\n", dates)
}

// rewritten says how many of the files published were rewritten, when any
// were.
func rewritten(s *pipeline.Summary) string {
	if s.RewrittenFiles == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d rewritten to the snapshot's final schema)", s.RewrittenFiles)
}

// printAnomalies prints a line for each kind of value that was repaired or
// kept elsewhere than its column, when there were any.
func printAnomalies(w io.Writer, s *pipeline.Summary) {
	if s.Unconverted > 0 {
		fmt.Fprintf(w, "  unconverted  %d typed values NULL, kept as received in extra_fields\n", s.Unconverted)
	}
	if s.OverflowKeys > 0 {
		fmt.Fprintf(w, "  unflattened  %d values of keys past the %d flattened columns, kept only in additional_fields\n",
			s.OverflowKeys, pipeline.MaxFlattenedColumns)
	}
	if s.InvalidUTF8+s.Unflattenable+s.DuplicateKeys > 0 {
		fmt.Fprintf(w, "  repaired     %d records with invalid UTF-8, %d unflattenable documents, %d duplicate keys\n",
			s.InvalidUTF8, s.Unflattenable, s.DuplicateKeys)
	}
}

// rejectsKept says how many of the rejects the file holds, when a run
// stopped before writing them all.
func rejectsKept(s *pipeline.Summary) string {
	if s.RejectsWritten >= s.Rejected {
		return ""
	}
	return fmt.Sprintf(" (the first %d of the %d rejected: the run stopped before the rest)", s.RejectsWritten, s.Rejected)
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// progress draws a progress line on stderr while a run goes on, when stderr
// is a terminal and the run is not quiet. It returns a function that stops it.
func (env *environment) progress(p *pipeline.Progress) func() {
	f, ok := env.stderr.(interface{ Fd() uintptr })
	if env.quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(env.stderr, "\r\033[K")
				return
			case <-t.C:
				pct := ""
				if total := p.BytesTotal.Load(); total > 0 {
					pct = fmt.Sprintf(" %3.0f%%", 100*float64(p.BytesRead.Load())/float64(total))
				}
				fmt.Fprintf(env.stderr, "\r\033[K%s files %d/%d, %s read, %d records",
					pct, p.FilesDone.Load(), p.FilesTotal.Load(), mib(p.BytesRead.Load()), p.Records.Load())
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
