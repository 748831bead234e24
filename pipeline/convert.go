package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
	"github.com/mdvm-parquet/mdvm-parquet/sink"
)

// ErrTooManyRejected is returned by Convert when more records were set aside
// than Options.MaxRejected allows. Nothing is published; the rejects file is
// kept for inspection.
var ErrTooManyRejected = errors.New("too many rejected records")

// ErrNoRecords is returned by Convert when the inputs of a snapshot hold no
// record: publishing would replace the date's rows with none. Nothing is
// published.
var ErrNoRecords = errors.New("the inputs hold no records: nothing published")

// Options configure a conversion. Zero values take the stated defaults.
type Options struct {
	Dataset      *schema.Dataset // required
	Inputs       []Input         // required; see Inputs
	Bucket       sink.Bucket     // the lake's root; required
	SnapshotTime time.Time       // the export's generatedTime; required
	MaxRejected  int64           // records that may be set aside; defaults to 0
	Compression  string          // snappy, zstd, gzip or none; defaults to snappy
	Version      string          // tool version, for files and manifest
	Logger       *slog.Logger    // defaults to slog.Default()
	Progress     *Progress       // counters for a progress display; may be nil

	Readers       int    // inputs read at once; defaults to 2
	Decoders      int    // decode goroutines; defaults to GOMAXPROCS
	MemoryBudget  int64  // bytes of buffered rows, all partitions; defaults to 48 MiB
	RowGroupBytes int64  // buffered bytes that make a row group; defaults to 24 MiB
	MaxFileBytes  int64  // bytes after which a partition starts a new file; defaults to 1 GiB
	SpillDir      string // where rows wait for a row group to fill; defaults to the system's temporary folder
}

func (o *Options) defaults() {
	if o.Compression == "" {
		o.Compression = "snappy"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Progress == nil {
		o.Progress = &Progress{}
	}
	if o.Readers <= 0 {
		o.Readers = 2
	}
	if o.Decoders <= 0 {
		o.Decoders = runtime.GOMAXPROCS(0)
	}
	if o.MemoryBudget <= 0 {
		o.MemoryBudget = 48 << 20
	}
	if o.RowGroupBytes <= 0 {
		o.RowGroupBytes = 24 << 20
	}
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = 1 << 30
	}
}

// Progress holds counters a display may read while a run goes on.
type Progress struct {
	FilesTotal atomic.Int64
	FilesDone  atomic.Int64
	BytesTotal atomic.Int64 // stored bytes of the inputs of known size
	BytesRead  atomic.Int64 // stored bytes read so far
	RawBytes   atomic.Int64 // decompressed bytes read so far
	Records    atomic.Int64
}

// InputSummary counts one input's records.
type InputSummary struct {
	Name     string `json:"name"`
	Bytes    int64  `json:"bytes"`
	Records  int64  `json:"records"`
	Rejected int64  `json:"rejected"`
}

// Summary reconciles a run: every record read is a row published, a reject
// or, when the run failed, not published: Records = Rows + Rejected +
// NotPublished. Rows, Partitions, ParquetFiles, RewrittenFiles and BytesOut
// count what was published. Inputs count the records read of each input and
// its lines in the rejects file, which holds fewer than Rejected when the
// run stopped before writing them all.
//
// Published says whether the run published all it had to. PublishedDates
// names the dates it did publish, in order: a snapshot's one date, or each
// event date of a dataset partitioned by event (see Convert). A run that
// failed before publishing published nothing: its output counts are zero.
// One that failed part way through publishing the event dates of a delta
// counts the output of PublishedDates; UnpublishedDates holds the date it
// failed on and those after it, whose valid records are NotPublished.
type Summary struct {
	RunID            string         `json:"run_id"`
	Dataset          string         `json:"dataset"`
	SnapshotTime     time.Time      `json:"snapshot_time"`
	Output           string         `json:"output"`
	Files            int            `json:"files"`
	Records          int64          `json:"records"`
	Rows             int64          `json:"rows"`
	Rejected         int64          `json:"rejected"`
	NotPublished     int64          `json:"not_published"` // valid records of a failed run
	RejectsFile      string         `json:"rejects_file,omitempty"`
	RejectsWritten   int64          `json:"rejects_written"` // in RejectsFile: all Rejected, unless the run stopped first
	InvalidUTF8      int64          `json:"invalid_utf8_records"`
	Unflattenable    int64          `json:"unflattenable_documents"`
	DuplicateKeys    int64          `json:"duplicate_flattened_keys"`
	OverflowKeys     int64          `json:"values_past_column_limit"` // kept in the raw text only
	Unconverted      int64          `json:"unconverted_values"`       // typed values kept in extra_fields instead
	Partitions       int            `json:"partitions"`
	ParquetFiles     int            `json:"parquet_files"`
	RewrittenFiles   int            `json:"rewritten_files"`
	BytesIn          int64          `json:"bytes_in"`
	BytesRaw         int64          `json:"bytes_decompressed"`
	BytesOut         int64          `json:"bytes_out"`
	Duration         float64        `json:"duration_seconds"`
	RecordsPerSec    float64        `json:"records_per_second"`
	Inputs           []InputSummary `json:"inputs"`
	Published        bool           `json:"published"`
	PublishedDates   []string       `json:"published_dates"`   // YYYY-MM-DD, in order
	UnpublishedDates []string       `json:"unpublished_dates"` // left when publishing failed
}

// Convert reads the inputs and publishes them as one snapshot of the dataset.
//
// Each date is published atomically for readers that honour _SUCCESS (see
// publish), once every file of the run is written; a publish cut short by
// an error is finished or undone by the next run. A snapshot has one date:
// on error nothing is published and the lake is as it was. A dataset
// partitioned by event publishes its event dates one after another: an
// error while publishing one leaves the dates before it published and those
// after it as they were, and the Summary says which are which. A rerun of
// the same inputs publishes every date again.
func Convert(ctx context.Context, opt Options) (*Summary, error) {
	opt.defaults()
	start := time.Now()
	codec, err := schema.Codec(opt.Compression)
	if err != nil {
		return nil, err
	}
	runID := newRunID(start)
	sum := &Summary{RunID: runID, Dataset: opt.Dataset.Name, SnapshotTime: opt.SnapshotTime.UTC(),
		Output: opt.Bucket.Location(""), Files: len(opt.Inputs), PublishedDates: []string{}, UnpublishedDates: []string{}}
	log := opt.Logger.With("run", runID, "dataset", opt.Dataset.Name)

	if err := recoverLake(ctx, opt.Bucket, opt.Dataset, runID, log); err != nil {
		return sum, err
	}
	own := thisOwner(runID, start)
	if err := claim(ctx, opt.Bucket, opt.Dataset, own); err != nil {
		return sum, err
	}
	date := opt.SnapshotTime.UTC().Truncate(24 * time.Hour)
	spec := &fileSpec{
		ds: opt.Dataset, bucket: opt.Bucket, reg: newKeyRegistry(), inputs: opt.Inputs,
		snapshot: opt.SnapshotTime.UTC(), runID: runID, version: opt.Version, maxFile: opt.MaxFileBytes,
		owner: own, codec: codec, inputNames: inputNames(opt.Inputs),
	}
	rej := newRejectWriter(opt.Bucket, RejectedDir+"/"+datePath(opt.Dataset, date)+"/"+runID+".jsonl", opt.Inputs, opt.MaxRejected)
	log.Info("converting", "inputs", len(opt.Inputs), "snapshot_time", sum.SnapshotTime.Format(time.RFC3339), "output", sum.Output)

	parts, stats, err := runStages(ctx, opt, spec, date, rej)
	sum.Inputs, sum.BytesIn, sum.BytesRaw = stats.inputs, opt.Progress.BytesRead.Load(), opt.Progress.RawBytes.Load()
	sum.Records, sum.Rejected, sum.RejectsWritten = stats.records, stats.rejected, stats.rejectsWritten
	sum.InvalidUTF8, sum.Unflattenable, sum.DuplicateKeys = stats.invalidUTF8, stats.unflattenable, stats.duplicateKeys
	sum.Unconverted = stats.unconverted
	sum.OverflowKeys = stats.overflowKeys
	if sum.OverflowKeys > 0 {
		log.Warn("more flattened keys than columns allowed; the rest stay in the raw text only",
			"limit", MaxFlattenedColumns, "values", sum.OverflowKeys)
	}
	if rerr := rej.close(ctx); rerr != nil && err == nil {
		err = rerr
	}
	sum.RejectsFile = rej.location()
	log.Debug("stages done", "records", sum.Records, "seconds", time.Since(start).Seconds())
	if err == nil && sum.Records == 0 && opt.Dataset.Partitioning == schema.BySnapshot {
		// An empty snapshot would replace the date's rows with none.
		err = ErrNoRecords
	}
	var output map[string]outputCounts
	if err == nil {
		output, err = finishFiles(ctx, spec, parts, sum)
		log.Debug("files finished", "files", sum.ParquetFiles, "seconds", time.Since(start).Seconds())
	}
	if err == nil {
		err = publishRun(ctx, opt, spec, parts, date, sum, start, log)
		log.Debug("published", "seconds", time.Since(start).Seconds())
	}
	if err != nil {
		for _, p := range parts {
			p.writer.abort()
		}
		if cerr := removePrefix(context.WithoutCancel(ctx), opt.Bucket, stagingPrefix(opt.Dataset, runID)); cerr != nil {
			log.Warn("could not remove staged files; the next run will", "err", cerr)
		}
		sum.unpublished(output)
		if len(sum.PublishedDates) > 0 {
			log.Warn("the run failed part way: some event dates are published, the rest are not",
				"published_dates", sum.PublishedDates, "unpublished_dates", sum.UnpublishedDates)
		}
	}
	sum.Duration = time.Since(start).Seconds()
	if sum.Duration > 0 {
		sum.RecordsPerSec = float64(sum.Records) / sum.Duration
	}
	return sum, err
}

// unpublished makes the summary of a failed run reconcile with what it
// published: the output of the dates in PublishedDates, by date in output,
// or nothing when it failed before publishing. The valid records of the
// other dates count as not published; their staged files, since removed,
// are not counted.
func (s *Summary) unpublished(output map[string]outputCounts) {
	s.Published = false
	s.setOutput(output, s.PublishedDates)
	s.NotPublished = s.Records - s.Rejected - s.Rows
}

// outputCounts are what a run wrote for one date.
type outputCounts struct {
	partitions, files, rewritten int
	rows, bytes                  int64
}

// setOutput sets the summary's output counts to the sum of those of dates.
func (s *Summary) setOutput(output map[string]outputCounts, dates []string) {
	s.Rows, s.Partitions, s.ParquetFiles, s.RewrittenFiles, s.BytesOut = 0, 0, 0, 0, 0
	for _, d := range dates {
		c := output[d]
		s.Rows += c.rows
		s.Partitions += c.partitions
		s.ParquetFiles += c.files
		s.RewrittenFiles += c.rewritten
		s.BytesOut += c.bytes
	}
}

// dateText is how a partition date is named in the lake and the summary.
func dateText(d time.Time) string { return d.UTC().Format(time.DateOnly) }

// runStages wires read, decode and build together and runs them to the end.
func runStages(ctx context.Context, opt Options, spec *fileSpec, date time.Time, rej *rejectWriter) ([]*partState, runStats, error) {
	parent := ctx
	g, ctx := errgroup.WithContext(ctx)
	hints := make([]string, len(opt.Inputs))
	for i, in := range opt.Inputs {
		hints[i] = in.GroupHint
		if in.Size > 0 {
			opt.Progress.BytesTotal.Add(in.Size)
		}
	}
	opt.Progress.FilesTotal.Store(int64(len(opt.Inputs)))

	// read: at most opt.Readers inputs open at once.
	chunks := make(chan chunk, opt.Decoders*2)
	stored := make([]atomic.Int64, len(opt.Inputs))
	var readers sync.WaitGroup
	next := atomic.Int64{}
	for range opt.Readers {
		readers.Add(1)
		g.Go(func() error {
			defer readers.Done()
			for i := int(next.Add(1) - 1); i < len(opt.Inputs); i = int(next.Add(1) - 1) {
				if err := readInput(ctx, i, opt.Inputs[i], chunks, &stored[i], opt.Progress); err != nil {
					return err
				}
				opt.Progress.FilesDone.Add(1)
			}
			return nil
		})
	}
	go func() { readers.Wait(); close(chunks) }()

	// decode
	batches := make(chan batch, opt.Decoders*2)
	decoders := make([]*decoder, opt.Decoders)
	var decoding sync.WaitGroup
	for i := range decoders {
		d := newDecoder(spec.ds, spec.reg, hints)
		decoders[i] = d
		decoding.Add(1)
		g.Go(func() error {
			defer decoding.Done()
			for c := range chunks {
				b := batch{rows: getBatchRows(len(spec.ds.Fields))}
				before, rejectedBefore := d.stats.records, d.stats.rejected
				b.rejects = d.decodeChunk(c, b.rows, nil)
				putChunkBuf(c.data)
				d.perInput(c.input, d.stats.records-before, d.stats.rejected-rejectedBefore)
				opt.Progress.Records.Add(d.stats.records - before)
				select {
				case batches <- b:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
	}
	go func() { decoding.Wait(); close(batches) }()

	// build
	spillDir, err := newSpillDir(opt.SpillDir, opt.Logger)
	if err != nil {
		return nil, runStats{}, err
	}
	defer os.RemoveAll(spillDir)
	var parts []*partState
	g.Go(func() error {
		var err error
		parts, err = build(ctx, parent, spec, buildOptions{
			budget: opt.MemoryBudget, rowGroupBytes: opt.RowGroupBytes, workers: 2, spillDir: spillDir,
		}, date, batches, func(r []reject) error { return rej.add(parent, r) })
		return err
	})
	err = g.Wait()
	return parts, collectStats(opt.Inputs, stored, decoders, rej), err
}

// runStats are the decode counts of a run.
type runStats struct {
	decodeStats
	overflowKeys   int64
	rejectsWritten int64
	inputs         []InputSummary
}

func collectStats(inputs []Input, stored []atomic.Int64, decoders []*decoder, rej *rejectWriter) runStats {
	s := runStats{inputs: make([]InputSummary, len(inputs)), rejectsWritten: rej.count}
	for i, in := range inputs {
		s.inputs[i] = InputSummary{Name: in.Name, Bytes: stored[i].Load()}
	}
	for _, d := range decoders {
		s.records += d.stats.records
		s.rejected += d.stats.rejected
		s.invalidUTF8 += d.stats.invalidUTF8
		s.unflattenable += d.stats.unflattenable
		s.duplicateKeys += d.stats.duplicateKeys
		s.overflowKeys += d.fl.overflow
		s.unconverted += d.stats.unconverted
		for i, n := range d.inputRecords {
			s.inputs[i].Records += n
			s.inputs[i].Rejected += d.inputRejected[i]
		}
	}
	return s
}

// finishFiles closes every partition's open file, rewrites the files written
// before the schema reached its final shape, and reconciles the counts. It
// returns what was written for each date, so that a run that publishes only
// some of its dates can count theirs.
func finishFiles(ctx context.Context, spec *fileSpec, parts []*partState, sum *Summary) (map[string]outputCounts, error) {
	for _, p := range parts {
		if err := p.writer.finish(); err != nil {
			return nil, err
		}
	}
	output := map[string]outputCounts{}
	for _, p := range parts {
		n, err := rewriteStale(ctx, spec, []*partState{p})
		if err != nil {
			return nil, err
		}
		c := output[dateText(p.key.date)]
		c.partitions++
		c.rewritten += n
		for _, f := range p.writer.files {
			c.rows += f.Rows
			c.bytes += f.Bytes
			c.files++
		}
		output[dateText(p.key.date)] = c
	}
	sum.setOutput(output, slices.Collect(maps.Keys(output)))
	if sum.Rows+sum.Rejected != sum.Records {
		return nil, fmt.Errorf("BUG: counts do not reconcile: %d records read, %d rows written, %d rejected", sum.Records, sum.Rows, sum.Rejected)
	}
	return output, nil
}

// publishRun writes the manifests and publishes the run's dates: the
// snapshot's, or for a dataset partitioned by event each date its rows fall
// on, one after another (see publishDates). Each date moves from the
// summary's UnpublishedDates to its PublishedDates once published.
func publishRun(ctx context.Context, opt Options, spec *fileSpec, parts []*partState, date time.Time, sum *Summary, start time.Time, log *slog.Logger) error {
	layout := schema.NewLayout(spec.ds, spec.reg.snapshot().kinds)
	dates := publishDates(spec.ds, parts, date)
	for _, d := range dates {
		sum.UnpublishedDates = append(sum.UnpublishedDates, dateText(d))
	}
	for _, d := range dates {
		var staged []string
		var files []writtenFile
		for _, p := range parts {
			if !p.key.date.Equal(d) {
				continue
			}
			for _, f := range p.writer.files {
				staged = append(staged, stagingPrefix(spec.ds, spec.runID)+f.Name)
				files = append(files, f)
			}
		}
		sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
		m := newManifest(spec, layout, sum, files, start)
		data, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return err
		}
		if err := publish(ctx, opt.Bucket, spec.ds, spec.owner, datePath(spec.ds, d), staged, data, log); err != nil {
			return err
		}
		sum.PublishedDates = append(sum.PublishedDates, dateText(d))
		sum.UnpublishedDates = sum.UnpublishedDates[1:]
	}
	sum.Published = true
	if err := opt.Bucket.Delete(ctx, ownerName(spec.ds, spec.runID)); err != nil {
		log.Warn("could not remove the run's staging marker; the next run will", "err", err)
	}
	dir := RejectedDir + "/" + datePath(spec.ds, date) + "/"
	removeOldRejects(ctx, opt.Bucket, dir, dir+spec.runID+".jsonl", log)
	return nil
}

func newRunID(t time.Time) string {
	var b [3]byte
	rand.Read(b[:])
	return t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// inputNames returns the names of inputs as the lineage column holds them.
func inputNames(inputs []Input) [][]byte {
	names := make([][]byte, len(inputs))
	for i, in := range inputs {
		names[i] = []byte(in.Name)
	}
	return names
}
