package pipeline_test

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mdvm-parquet/mdvm-parquet/pipeline"
	"github.com/mdvm-parquet/mdvm-parquet/pipeline/defender"
	"github.com/mdvm-parquet/mdvm-parquet/pipeline/defender/defendertest"
	"github.com/mdvm-parquet/mdvm-parquet/schema"
	"github.com/mdvm-parquet/mdvm-parquet/schema/sample"
	"github.com/mdvm-parquet/mdvm-parquet/sink/azurite"
)

var (
	benchRecords = flag.Int("export.records", 50_000, "records of the corpus BenchmarkExport pulls")
	benchRounds  = flag.Int("export.rounds", 1, "rounds of BenchmarkExport, each a convert then an export")
)

// BenchmarkExport compares, on one generated corpus, an export from the
// fake API with its files in Azurite against convert of the same files
// from disk. Both report records/s and the peak heap in use. Rounds
// alternate the two, so that a busy machine slows both alike.
//
//	go test -run '^$' -bench Export -benchtime 1x ./pipeline -export.records 1000000 -export.rounds 3
func BenchmarkExport(b *testing.B) {
	dir := b.TempDir()
	cfg := sample.Config{Dataset: schema.HardwareFirmware, Records: *benchRecords,
		Files: max(*benchRecords/25_000, 4), Groups: 40, Unassigned: true, Seed: 1}
	sum, err := sample.Write(dir, cfg)
	if err != nil {
		b.Fatal(err)
	}
	az := azurite.Start(b)
	container := az.NewContainer(b)
	for _, f := range sum.Files {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			b.Fatal(err)
		}
		az.Upload(b, container, f.Path, data)
	}
	api := defendertest.New(b, defendertest.Options{Unlimited: true})
	api.SetExportFunc(schema.HardwareFirmware.Name, func(int) ([]string, time.Time) {
		var links []string
		for _, f := range sum.Files {
			links = append(links, az.SASURL(b, container, f.Path, time.Hour))
		}
		return links, sum.GeneratedTime
	})

	for range *benchRounds {
		benchConvert(b, dir, cfg.Records, sum.GeneratedTime)
		benchExport(b, api, cfg.Records)
	}
}

func benchConvert(b *testing.B, dir string, records int, snapshot time.Time) {
	log := slog.New(slog.DiscardHandler)
	b.Run("convert", func(b *testing.B) {
		inputs, err := pipeline.Inputs([]string{dir}, nil)
		if err != nil {
			b.Fatal(err)
		}
		measure(b, records, func() error {
			opt := lakeOptions(b, b.TempDir(), log)
			opt.Inputs, opt.SnapshotTime = inputs, snapshot
			_, err := pipeline.Convert(context.Background(), opt)
			return err
		})
	})
}

func benchExport(b *testing.B, api *defendertest.Server, records int) {
	log := slog.New(slog.DiscardHandler)
	b.Run("export", func(b *testing.B) {
		client, err := defender.New(defender.Config{APIURL: api.URL, Credential: api.Credential(),
			HTTPClient: api.HTTPClient(), AllowHTTP: true, Logger: log,
			ExportBudget: []defender.Window{{Calls: 1000, Per: time.Minute}}})
		if err != nil {
			b.Fatal(err)
		}
		measure(b, records, func() error {
			_, err := pipeline.Export(context.Background(), pipeline.ExportOptions{
				Client: client, Download: pipeline.DownloadOptions{AllowHTTP: true, Logger: log},
				Convert: lakeOptions(b, b.TempDir(), log),
			})
			return err
		})
	})
}

// measure runs fn b.N times and reports records/s and the peak heap in
// use, sampled every 20ms.
func measure(b *testing.B, records int, fn func() error) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	b.ResetTimer()
	for range b.N {
		if err := fn(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	close(done)
	wg.Wait()
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
}
