package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
)

// Side names.
const (
	sideOurs    = "ours"
	sideDuckDB  = "duckdb"
	sideAzurite = "ours-azurite" // ours writing to Azurite
)

// Side outcomes.
const (
	statusOK      = "ok"
	statusSkipped = "skipped"
	statusFailed  = "failed"
)

// runResult is one measured run of one side.
type runResult struct {
	WallS      float64 `json:"wall_s"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	Rows       int64   `json:"rows"` // rows counted in the output; -1 when not counted
}

// sideResult is one side over all its runs; the figures are medians.
type sideResult struct {
	Side        string      `json:"side"`
	Status      string      `json:"status"`
	Reason      string      `json:"reason,omitempty"`
	Runs        []runResult `json:"runs,omitempty"`
	WallS       float64     `json:"wall_s,omitempty"`
	RecordsPerS float64     `json:"records_per_s,omitempty"`
	MBPerS      float64     `json:"mb_per_s,omitempty"`
	PeakRSSMiB  float64     `json:"peak_rss_mib,omitempty"`
}

// report is the whole benchmark.
type report struct {
	Corpus  corpusInfo   `json:"corpus"`
	Threads int          `json:"threads"`
	Runs    int          `json:"runs"`
	Sides   []sideResult `json:"sides"`
	// Ratio is ours' throughput over DuckDB's, when both ran.
	Ratio float64 `json:"throughput_ratio_ours_to_duckdb,omitempty"`
	// AzuriteRatio is the wall time of ours writing to Azurite over that
	// of ours writing to local disk, when both ran.
	AzuriteRatio float64 `json:"wall_ratio_azurite_to_local,omitempty"`
	// AzuriteServerRSSMiB is the peak resident memory of the Azurite
	// server over all runs, apart from the convert process's.
	AzuriteServerRSSMiB float64 `json:"azurite_server_peak_rss_mib,omitempty"`
	// Hardware is the same benchmark on a hardware_firmware corpus of
	// about the same JSON size, with --compare-hardware.
	Hardware *report `json:"hardware,omitempty"`
	// PerByte compares each side's MB/s with its MB/s on Hardware, for
	// the sides that ran on both.
	PerByte []perByte `json:"per_json_byte_vs_hardware,omitempty"`
}

// perByte is one side's throughput per JSON byte on the benchmarked
// dataset against hardware_firmware.
type perByte struct {
	Side           string  `json:"side"`
	MBPerS         float64 `json:"mb_per_s"`
	HardwareMBPerS float64 `json:"hardware_mb_per_s"`
	// Slowdown is HardwareMBPerS over MBPerS: 1.2 means a JSON byte of
	// the dataset takes 1.2 times as long as one of hardware_firmware.
	Slowdown float64 `json:"slowdown"`
	// The peak resident memory of the side on each corpus.
	PeakRSSMiB         float64 `json:"peak_rss_mib"`
	HardwarePeakRSSMiB float64 `json:"hardware_peak_rss_mib"`
}

type corpusInfo struct {
	Dataset string  `json:"dataset"`
	Dir     string  `json:"dir"`
	Records int     `json:"records"`
	Files   int     `json:"files"`
	Groups  int     `json:"groups"`
	InputMB float64 `json:"input_mb"` // uncompressed JSON, 10^6 bytes
	GzipMB  float64 `json:"gzip_mb"`
}

// summarize fills in the medians of s from its runs.
func (s *sideResult) summarize(c corpusInfo) {
	if len(s.Runs) == 0 {
		return
	}
	walls := make([]float64, len(s.Runs))
	rss := make([]float64, len(s.Runs))
	for i, r := range s.Runs {
		walls[i], rss[i] = r.WallS, r.PeakRSSMiB
	}
	s.WallS, s.PeakRSSMiB = median(walls), median(rss)
	if s.WallS > 0 {
		s.RecordsPerS = float64(c.Records) / s.WallS
		s.MBPerS = c.InputMB / s.WallS
	}
}

// finish computes the medians and the throughput ratio.
func (r *report) finish() {
	by := map[string]*sideResult{}
	for i := range r.Sides {
		s := &r.Sides[i]
		s.summarize(r.Corpus)
		by[s.Side] = s
	}
	ours, duck, az := by[sideOurs], by[sideDuckDB], by[sideAzurite]
	if ours != nil && duck != nil && ours.Status == statusOK && duck.Status == statusOK && duck.RecordsPerS > 0 {
		r.Ratio = ours.RecordsPerS / duck.RecordsPerS
	}
	if ours != nil && az != nil && ours.Status == statusOK && az.Status == statusOK && ours.WallS > 0 {
		r.AzuriteRatio = az.WallS / ours.WallS
	}
}

// compare sets hw as r's hardware benchmark and compares the sides that
// ran on both.
func (r *report) compare(hw *report) {
	r.Hardware = hw
	for _, s := range r.Sides {
		for _, h := range hw.Sides {
			if s.Side != h.Side || s.Status != statusOK || h.Status != statusOK || s.MBPerS <= 0 {
				continue
			}
			r.PerByte = append(r.PerByte, perByte{
				Side: s.Side, MBPerS: s.MBPerS, HardwareMBPerS: h.MBPerS, Slowdown: h.MBPerS / s.MBPerS,
				PeakRSSMiB: s.PeakRSSMiB, HardwarePeakRSSMiB: h.PeakRSSMiB,
			})
		}
	}
}

// failed reports whether a side of r, or of its hardware benchmark, failed.
func (r *report) failed() bool {
	for _, s := range r.Sides {
		if s.Status == statusFailed {
			return true
		}
	}
	return r.Hardware != nil && r.Hardware.failed()
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func (r *report) writeTable(w io.Writer) error {
	if err := r.writeSides(w); err != nil {
		return err
	}
	if r.Hardware == nil {
		return nil
	}
	fmt.Fprintf(w, "\n")
	if err := r.Hardware.writeSides(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nper JSON byte, %s against %s (slowdown: hardware MB/s over %s MB/s):\n",
		r.Corpus.Dataset, r.Hardware.Corpus.Dataset, r.Corpus.Dataset)
	for _, p := range r.PerByte {
		fmt.Fprintf(w, "  %s: %.1f MB/s against %.1f MB/s, slowdown %.2fx; peak RSS %.0f MiB against %.0f MiB\n",
			p.Side, p.MBPerS, p.HardwareMBPerS, p.Slowdown, p.PeakRSSMiB, p.HardwarePeakRSSMiB)
	}
	if len(r.PerByte) == 0 {
		fmt.Fprintf(w, "  no side ran on both\n")
	}
	return nil
}

// writeSides writes the table of one corpus's sides.
func (r *report) writeSides(w io.Writer) error {
	c := r.Corpus
	fmt.Fprintf(w, "corpus: %s, %d records, %d files, %d groups + unassigned, %.1f MB JSON (%.1f MB gzip, %.0f bytes a record), %s\n",
		c.Dataset, c.Records, c.Files, c.Groups, c.InputMB, c.GzipMB, c.InputMB*1e6/float64(max(c.Records, 1)), c.Dir)
	what := "median of"
	if r.Runs == 1 {
		what = "one run of"
	}
	fmt.Fprintf(w, "%s %d, %d threads each\n\n", what, r.Runs, r.Threads)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "side\trecords\tinput MB\twall s\trecords/s\tJSON MB/s\tpeak RSS MiB\t")
	for _, s := range r.Sides {
		if s.Status != statusOK {
			fmt.Fprintf(tw, "%s\t%s\t\t\t\t\t\t\n", s.Side, s.Status)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.2f\t%.0f\t%.1f\t%.0f\t\n",
			s.Side, c.Records, c.InputMB, s.WallS, s.RecordsPerS, s.MBPerS, s.PeakRSSMiB)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range r.Sides {
		if s.Reason != "" {
			fmt.Fprintf(w, "\n%s %s: %s", s.Side, s.Status, s.Reason)
		}
	}
	if r.Ratio > 0 {
		fmt.Fprintf(w, "\nthroughput ours/duckdb: %.2fx\n", r.Ratio)
	}
	if r.AzuriteRatio > 0 {
		fmt.Fprintf(w, "\nwall time azurite/local disk: %.2fx\n", r.AzuriteRatio)
	}
	if r.AzuriteServerRSSMiB > 0 {
		fmt.Fprintf(w, "azurite server peak RSS: %.0f MiB (not counted in the sides)\n", r.AzuriteServerRSSMiB)
	}
	return nil
}
