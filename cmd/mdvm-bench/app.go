package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
	"github.com/mdvm-parquet/mdvm-parquet/schema/sample"
)

// Exit codes, the only place they are decided.
const (
	exitOK     = 0 // every side asked for ran (a missing binary is reported, not failed)
	exitFailed = 1 // a side failed or wrote the wrong number of rows
	exitUsage  = 2 // a wrong flag, or --only ours without the binary
)

// usageError marks errors that exit with exitUsage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// errSideFailed is returned when a side failed; the report says why.
var errSideFailed = errors.New("a benchmarked side failed")

// run is main without os.Exit, for tests.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := newApp(stdout, stderr).RunContext(ctx, args)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "mdvm-bench: %v\n", err)
	var u usageError
	switch {
	case errors.Is(err, errSideFailed):
		return exitFailed
	case errors.As(err, &u), strings.HasPrefix(err.Error(), "flag provided but not defined"),
		strings.HasPrefix(err.Error(), "invalid value"):
		return exitUsage
	}
	return exitFailed
}

func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:  "mdvm-bench",
		Usage: "measure mdvm-parquet convert against DuckDB on a generated export",
		Description: "Generates (once, cached under --dir) a corpus of --dataset with every file holding many\n" +
			"groups, then runs `mdvm-parquet convert` and DuckDB (read_json, json_transform of the flattened\n" +
			"field when the dataset has one, COPY ... PARTITION_BY) on it, each as a child process, and prints\n" +
			"records/s, MB/s of uncompressed JSON and peak RSS of each.\n" +
			"Only snapshot datasets are measured; vulnerability_changes, partitioned by event date, is not.\n" +
			"With --compare-hardware it then does the same on a hardware_firmware corpus of about the same\n" +
			"JSON size, and prints the ratio of their MB/s, side by side.\n" +
			"With --azurite it runs convert twice instead: to local disk and to an Azurite server it starts\n" +
			"(from .tools, as .ci/run installs it), and prints the ratio of their wall times.",
		HideVersion: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dataset", Value: schema.HardwareFirmware.Name, EnvVars: []string{"MDVM_BENCH_DATASET"}, Usage: "dataset of the corpus, a snapshot dataset; mdvm-parquet datasets lists them"},
			&cli.BoolFlag{Name: "compare-hardware", EnvVars: []string{"MDVM_BENCH_COMPARE_HARDWARE"}, Usage: "also bench a hardware_firmware corpus of about the same JSON size, and compare MB/s"},
			&cli.IntFlag{Name: "records", Value: 1_000_000, EnvVars: []string{"MDVM_BENCH_RECORDS"}, Usage: "records in the corpus"},
			&cli.IntFlag{Name: "files", Value: 20, EnvVars: []string{"MDVM_BENCH_FILES"}, Usage: "gzip part files in the corpus"},
			&cli.IntFlag{Name: "groups", Value: 50, EnvVars: []string{"MDVM_BENCH_GROUPS"}, Usage: "named RBAC groups in the corpus, besides the unassigned devices"},
			&cli.Int64Flag{Name: "seed", Value: 1, EnvVars: []string{"MDVM_BENCH_SEED"}, Usage: "seed of the corpus"},
			&cli.StringFlag{Name: "dir", Value: ".bench", EnvVars: []string{"MDVM_BENCH_DIR"}, Usage: "folder caching corpora and holding outputs while they are measured"},
			&cli.IntFlag{Name: "runs", Value: 1, EnvVars: []string{"MDVM_BENCH_RUNS"}, Usage: "runs of each side; medians are reported"},
			&cli.StringFlag{Name: "only", EnvVars: []string{"MDVM_BENCH_ONLY"}, Usage: "bench one side only: ours or duckdb"},
			&cli.BoolFlag{Name: "azurite", EnvVars: []string{"MDVM_BENCH_AZURITE"}, Usage: "measure convert to Azurite against convert to local disk, instead of against DuckDB"},
			&cli.StringFlag{Name: "bin", Value: "./bin/mdvm-parquet", EnvVars: []string{"MDVM_BENCH_BIN"}, Usage: "mdvm-parquet binary to measure"},
			&cli.IntFlag{Name: "threads", Value: 2, EnvVars: []string{"MDVM_BENCH_THREADS"}, Usage: "threads of each side: DuckDB's threads setting, GOMAXPROCS for ours"},
			&cli.StringFlag{Name: "duckdb-memory-limit", EnvVars: []string{"MDVM_BENCH_DUCKDB_MEMORY_LIMIT"}, Usage: "DuckDB memory_limit, e.g. 2GB (default: DuckDB's own)"},
			&cli.BoolFlag{Name: "json", EnvVars: []string{"MDVM_BENCH_JSON"}, Usage: "print the report as JSON"},
			&cli.BoolFlag{Name: "keep", EnvVars: []string{"MDVM_BENCH_KEEP"}, Usage: "keep each side's last output under --dir/out"},
			&cli.BoolFlag{Name: "no-verify", EnvVars: []string{"MDVM_BENCH_NO_VERIFY"}, Usage: "do not count the rows each side wrote"},
		},
		Action: func(c *cli.Context) error {
			opts, err := optionsFrom(c)
			if err != nil {
				return err
			}
			return bench(c.Context, opts, stdout, stderr)
		},
		Commands:       []*cli.Command{duckdbCommand(stdout)},
		Writer:         stdout,
		ErrWriter:      stderr,
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError{err}
		},
	}
}

// duckdbCommand is the DuckDB side, run by the benchmark as its own child
// process so that its memory is measured apart.
func duckdbCommand(stdout io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "duckdb-convert",
		Hidden:    true,
		ArgsUsage: "FILE...",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Required: true, Usage: "folder DuckDB writes the partitions to"},
			&cli.StringFlag{Name: "snapshot-time", Required: true, Usage: "the export's generatedTime, RFC 3339"},
			&cli.StringFlag{Name: "dataset", Value: schema.HardwareFirmware.Name, Usage: "dataset of the files"},
			&cli.IntFlag{Name: "threads", Value: 2, Usage: "DuckDB threads"},
			&cli.StringFlag{Name: "memory-limit", Usage: "DuckDB memory_limit"},
		},
		Action: func(c *cli.Context) error {
			t, err := time.Parse(time.RFC3339, c.String("snapshot-time"))
			if err != nil {
				return usageError{fmt.Errorf("--snapshot-time: %w", err)}
			}
			d, err := schema.Lookup(c.String("dataset"))
			if err != nil {
				return usageError{err}
			}
			return runDuckDB(c.Context, duckdbJob{
				Dataset: d, Paths: c.Args().Slice(), Output: c.String("output"), Snapshot: t,
				Threads: c.Int("threads"), MemoryLimit: c.String("memory-limit"),
			}, stdout)
		},
	}
}

// options are the benchmark's flags, checked.
type options struct {
	dataset                *schema.Dataset
	compareHardware        bool
	records, files, groups int
	seed                   int64
	dir                    string
	runs                   int
	ours, duckdb, azurite  bool
	bin                    string
	threads                int
	memoryLimit            string
	json, keep, verify     bool
}

func optionsFrom(c *cli.Context) (options, error) {
	o := options{
		records: c.Int("records"), files: c.Int("files"), groups: c.Int("groups"), seed: c.Int64("seed"),
		dir: c.String("dir"), runs: c.Int("runs"), bin: c.String("bin"), threads: c.Int("threads"),
		memoryLimit: c.String("duckdb-memory-limit"), json: c.Bool("json"), keep: c.Bool("keep"),
		verify: !c.Bool("no-verify"), ours: true, duckdb: !c.Bool("azurite"), azurite: c.Bool("azurite"),
	}
	o.compareHardware = c.Bool("compare-hardware")
	var errs []error
	d, err := benchDataset(c.String("dataset"))
	if err != nil {
		errs = append(errs, err)
	}
	o.dataset = d
	if o.compareHardware && d == schema.HardwareFirmware {
		errs = append(errs, errors.New("--compare-hardware: the dataset is hardware_firmware already"))
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"records", o.records}, {"files", o.files}, {"runs", o.runs}, {"threads", o.threads}} {
		if f.v <= 0 {
			errs = append(errs, fmt.Errorf("--%s %d: want a positive number", f.name, f.v))
		}
	}
	if o.groups < 0 {
		errs = append(errs, fmt.Errorf("--groups %d: want zero or more", o.groups))
	}
	switch c.String("only") {
	case "":
	case sideOurs, sideDuckDB:
		if o.azurite {
			errs = append(errs, fmt.Errorf("--only %q: not with --azurite, which runs ours twice", c.String("only")))
		}
		o.ours, o.duckdb = c.String("only") == sideOurs, c.String("only") == sideDuckDB
	default:
		errs = append(errs, fmt.Errorf("--only %q: want ours or duckdb", c.String("only")))
	}
	if len(errs) > 0 {
		return o, usageError{errors.Join(errs...)}
	}
	return o, nil
}

// benchDataset returns the dataset called name, when the benchmark can
// measure it: a snapshot dataset the generator knows.
func benchDataset(name string) (*schema.Dataset, error) {
	d, err := schema.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("--dataset: %w", err)
	}
	if _, err := sample.FlattenKeys(d); err != nil {
		return nil, fmt.Errorf("--dataset: %w", err)
	}
	if d.Partitioning != schema.BySnapshot {
		var snaps []string
		for _, s := range schema.Datasets() {
			if s.Partitioning == schema.BySnapshot {
				snaps = append(snaps, s.Name)
			}
		}
		return nil, fmt.Errorf("--dataset %s: %w; measure one of %s", name, errNotSnapshot, strings.Join(snaps, ", "))
	}
	return d, nil
}

// bench measures o.dataset's corpus, and then hardware_firmware's of about
// the same JSON size when asked, and prints the report.
func bench(ctx context.Context, o options, stdout, stderr io.Writer) error {
	rep, err := benchCorpus(ctx, o, o.dataset, o.records, stderr)
	if err != nil {
		return err
	}
	if o.compareHardware {
		n, err := sameSizeRecords(schema.HardwareFirmware, rep.Corpus, o)
		if err != nil {
			return err
		}
		hw, err := benchCorpus(ctx, o, schema.HardwareFirmware, n, stderr)
		if err != nil {
			return err
		}
		rep.compare(hw)
	}

	if o.json {
		err = rep.writeJSON(stdout)
	} else {
		err = rep.writeTable(stdout)
	}
	if err != nil {
		return err
	}
	if rep.failed() {
		return errSideFailed
	}
	return nil
}

// sameSizeRecords is how many records of d make about as many JSON bytes
// as the corpus c.
func sameSizeRecords(d *schema.Dataset, c corpusInfo, o options) (int, error) {
	per, err := jsonBytesPerRecord(d, o.groups, o.seed)
	if err != nil {
		return 0, fmt.Errorf("size a record of %s: %w", d.Name, err)
	}
	return max(1, int(math.Round(c.InputMB*1e6/per))), nil
}

// benchCorpus generates or finds the corpus of records of d and measures
// each side o.runs times on it.
func benchCorpus(ctx context.Context, o options, d *schema.Dataset, records int, stderr io.Writer) (*report, error) {
	cfg := corpusConfig(d, records, o.files, o.groups, o.seed)
	corp, err := ensureCorpus(o.dir, cfg, stderr)
	if err != nil {
		return nil, err
	}
	if err := corp.warm(); err != nil {
		return nil, err
	}

	rep := &report{
		Corpus: corpusInfo{
			Dataset: corp.Dataset, Dir: corp.Dir, Records: corp.Records, Files: corp.Files, Groups: corp.Groups,
			InputMB: float64(corp.JSONBytes) / 1e6, GzipMB: float64(corp.GzipBytes) / 1e6,
		},
		Threads: o.threads, Runs: o.runs,
	}
	sides, err := o.sides()
	if err != nil {
		return nil, err
	}
	var az *azuriteServer
	if o.azurite {
		if az, err = startAzurite(ctx, o.dir, stderr); err != nil {
			return nil, err
		}
		sides = append(sides, o.azuriteSide(az))
	}
	err = measureSides(ctx, o, corp, sides, stderr)
	if az != nil {
		rep.AzuriteServerRSSMiB = float64(az.stop()) / (1 << 20)
	}
	if err != nil {
		return nil, err
	}

	for _, s := range sides {
		rep.Sides = append(rep.Sides, *s.result)
	}
	rep.finish()
	return rep, nil
}

// measureSides measures each side o.runs times. A side that fails is
// marked failed and not run again; only cancellation stops them all.
func measureSides(ctx context.Context, o options, corp *corpus, sides []*side, stderr io.Writer) error {
	for i := 0; i < o.runs; i++ {
		// Alternate the order, so neither side always runs first.
		for k := range sides {
			s := sides[(k+i)%len(sides)]
			if s.result.Status != statusOK {
				continue
			}
			fmt.Fprintf(stderr, "run %d/%d: %s ...\n", i+1, o.runs, s.result.Side)
			if err := s.measureOnce(ctx, o, corp); err != nil {
				s.result.Status, s.result.Reason, s.result.Runs = statusFailed, err.Error(), nil
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
		}
	}
	return nil
}

// side is one contender: how to start it, and what it did.
type side struct {
	result *sideResult
	out    string // its output folder; for Azurite, where the lake is downloaded to
	name   string // its executable

	azure     *azuriteServer // the server the Azurite side writes to
	container string         // the Azurite side's container of the current run
	n         int            // runs started
}

// sides returns the contenders asked for. A missing mdvm-parquet binary
// skips our side, unless it is the only one asked for.
func (o options) sides() ([]*side, error) {
	var sides []*side
	if o.ours {
		s, err := o.oursSide()
		if err != nil {
			return nil, err
		}
		sides = append(sides, s)
	}
	if o.duckdb {
		s, err := o.duckdbSide()
		if err != nil {
			return nil, err
		}
		sides = append(sides, s)
	}
	return sides, nil
}

func (o options) oursSide() (*side, error) {
	s := &side{result: &sideResult{Side: sideOurs, Status: statusOK}, out: filepath.Join(o.dir, "out", sideOurs), name: o.bin}
	if st, err := os.Stat(o.bin); err != nil || st.IsDir() {
		reason := fmt.Sprintf("%s: %v (build it: go build -o bin/mdvm-parquet ./cmd/mdvm-parquet)", o.bin, errNoBinary)
		if !o.duckdb {
			return nil, usageError{errors.New(reason)}
		}
		s.result.Status, s.result.Reason = statusSkipped, reason
	}
	return s, nil
}

func (o options) duckdbSide() (*side, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable for the duckdb side: %w", err)
	}
	return &side{result: &sideResult{Side: sideDuckDB, Status: statusOK}, out: filepath.Join(o.dir, "out", sideDuckDB), name: self}, nil
}

// azuriteSide is our convert writing to az.
func (o options) azuriteSide(az *azuriteServer) *side {
	return &side{result: &sideResult{Side: sideAzurite, Status: statusOK}, out: filepath.Join(o.dir, "out", sideAzurite), name: o.bin, azure: az}
}

// command returns the child process of s writing to out.
func (s *side) command(o options, c *corpus) (env, args []string) {
	snap := c.GeneratedTime.UTC().Format(time.RFC3339)
	if s.result.Side == sideOurs {
		env = []string{"GOMAXPROCS=" + strconv.Itoa(o.threads)}
		return env, []string{"convert", "--dataset", c.Dataset, "--output", s.out, "--snapshot-time", snap, c.Dir}
	}
	if s.result.Side == sideAzurite {
		env = []string{"GOMAXPROCS=" + strconv.Itoa(o.threads), "AZURE_STORAGE_CONNECTION_STRING=" + s.azure.connectionString()}
		return env, []string{"convert", "--dataset", c.Dataset, "--output", "az://" + s.container + "/" + azuriteLake,
			"--storage-endpoint", s.azure.endpoint, "--snapshot-time", snap, c.Dir}
	}
	args = []string{"duckdb-convert", "--dataset", c.Dataset, "--output", s.out, "--snapshot-time", snap,
		"--threads", strconv.Itoa(o.threads)}
	if o.memoryLimit != "" {
		args = append(args, "--memory-limit", o.memoryLimit)
	}
	return nil, append(append(args, "--"), c.Paths...)
}

// measureOnce runs s once on a clean output folder and checks the rows it
// wrote.
func (s *side) measureOnce(ctx context.Context, o options, c *corpus) error {
	if err := os.RemoveAll(s.out); err != nil {
		return fmt.Errorf("clear %s: %w", s.out, err)
	}
	if err := os.MkdirAll(filepath.Dir(s.out), 0o755); err != nil {
		return fmt.Errorf("make %s: %w", filepath.Dir(s.out), err)
	}
	if !o.keep {
		defer os.RemoveAll(s.out)
	}
	if s.azure != nil {
		// A fresh container a run, deleted after it so Azurite's disk
		// holds one lake at most.
		s.n++
		s.container = fmt.Sprintf("bench-%d", s.n)
		if err := s.azure.newContainer(ctx, s.container); err != nil {
			return err
		}
		defer s.azure.deleteContainer(context.WithoutCancel(ctx), s.container)
	}
	env, args := s.command(o, c)
	m, err := measure(ctx, env, s.name, args...)
	if err != nil {
		return err
	}
	r := runResult{WallS: m.Wall.Seconds(), PeakRSSMiB: float64(m.PeakRSS) / (1 << 20), Rows: -1}
	if s.result.Side == sideDuckDB {
		var res duckdbResult
		if err := json.Unmarshal(m.Stdout, &res); err != nil {
			return fmt.Errorf("duckdb side printed %q: %w", m.Stdout, err)
		}
		if res.Rows != int64(c.Records) {
			return fmt.Errorf("duckdb wrote %d rows, the corpus has %d records", res.Rows, c.Records)
		}
	}
	if o.verify {
		if s.azure != nil {
			if err := s.azure.download(ctx, s.container, azuriteLake+"/", s.out); err != nil {
				return err
			}
		}
		n, err := countParquetRows(ctx, s.out)
		if err != nil {
			return err
		}
		if n != int64(c.Records) {
			return fmt.Errorf("%s wrote %d rows, the corpus has %d records", s.result.Side, n, c.Records)
		}
		r.Rows = n
	}
	s.result.Runs = append(s.result.Runs, r)
	return nil
}
