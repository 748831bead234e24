package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
	"github.com/mdvm-parquet/mdvm-parquet/schema/sample"
)

// corpusFormat changes whenever the generator's output does, so that a
// cached corpus of an older generator is made anew.
const corpusFormat = 1

// corpus is a generated export on disk, described by the manifest written
// beside it once it is complete.
type corpus struct {
	Format        int       `json:"format"`
	Dataset       string    `json:"dataset"`
	Dir           string    `json:"-"`          // the export: part files and export.json
	Records       int       `json:"records"`    // records in the export
	Files         int       `json:"files"`      // part files
	Groups        int       `json:"groups"`     // named groups, plus unassigned
	Seed          int64     `json:"seed"`       // generator seed
	JSONBytes     int64     `json:"json_bytes"` // uncompressed
	GzipBytes     int64     `json:"gzip_bytes"` // as stored
	GeneratedTime time.Time `json:"generated_time"`
	Paths         []string  `json:"-"` // the part files, absolute
}

// corpusConfig is the benchmark corpus of dataset d: the worst case for a
// partitioning reader (groups interleaved in every file, as older exports
// have them), without quirks. Every snapshot dataset takes the same shape,
// so that their throughputs per JSON byte compare.
func corpusConfig(d *schema.Dataset, records, files, groups int, seed int64) sample.Config {
	return sample.Config{
		Dataset: d, Records: records, Files: files, Groups: groups,
		Unassigned: true, Seed: seed, Layout: sample.Mixed,
	}
}

// Records generated to learn the corpus's key spellings and record size.
const (
	keyProbeRecords  = 200
	sizeProbeRecords = 20000
)

// fileKeys returns the key each documented field of d has in the corpus's
// files ("OSPlatform" for osPlatform): DuckDB's read_json matches keys
// exactly, where ours ignores their case. A field no record carries gets
// its key in PascalCase.
func fileKeys(d *schema.Dataset) (map[string]string, error) {
	keys := map[string]string{}
	err := sample.Records(corpusConfig(d, keyProbeRecords, 1, 2, 1), func(rec []byte) error {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(rec, &m); err != nil {
			return fmt.Errorf("read generated %s record: %w", d.Name, err)
		}
		for k := range m {
			if f := d.Field(k); f != nil {
				keys[f.Key] = k
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, f := range d.Fields {
		if _, ok := keys[f.Key]; !ok {
			keys[f.Key] = pascal(f.Key)
		}
	}
	return keys, nil
}

// jsonBytesPerRecord is the mean size of a record of d's corpus, its line
// end included.
func jsonBytesPerRecord(d *schema.Dataset, groups int, seed int64) (float64, error) {
	var n int64
	err := sample.Records(corpusConfig(d, sizeProbeRecords, 1, groups, seed), func(rec []byte) error {
		n += int64(len(rec)) + 1
		return nil
	})
	return float64(n) / sizeProbeRecords, err
}

// ensureCorpus returns the corpus cached under root, generating it first
// when it is missing, incomplete or from another generator.
func ensureCorpus(root string, cfg sample.Config, log io.Writer) (*corpus, error) {
	name := fmt.Sprintf("corpus-%s-r%d-f%d-g%d-s%d", cfg.Dataset.Name, cfg.Records, cfg.Files, cfg.Groups, cfg.Seed)
	base, err := filepath.Abs(filepath.Join(root, name))
	if err != nil {
		return nil, err
	}
	manifest := filepath.Join(base, "corpus.json")
	if c, err := readCorpus(manifest); err == nil && c.Format == corpusFormat {
		c.Dataset = cfg.Dataset.Name
		c.Dir = filepath.Join(base, "export")
		return c, c.findPaths()
	}

	fmt.Fprintf(log, "generating corpus %s: %d records in %d files ...\n", name, cfg.Records, cfg.Files)
	if err := os.RemoveAll(base); err != nil {
		return nil, fmt.Errorf("clear corpus %s: %w", base, err)
	}
	start := time.Now()
	s, err := sample.Write(filepath.Join(base, "export"), cfg)
	if err != nil {
		return nil, fmt.Errorf("generate corpus: %w", err)
	}
	c := &corpus{
		Format: corpusFormat, Dataset: cfg.Dataset.Name, Dir: filepath.Join(base, "export"), Records: s.Records, Files: len(s.Files),
		Groups: cfg.Groups, Seed: cfg.Seed, JSONBytes: s.JSONBytes, GzipBytes: s.GzipBytes,
		GeneratedTime: s.GeneratedTime,
	}
	fmt.Fprintf(log, "generated in %.1fs: %.0f MB JSON, %.0f MB gzip\n",
		time.Since(start).Seconds(), float64(s.JSONBytes)/1e6, float64(s.GzipBytes)/1e6)
	if err := writeCorpus(manifest, c); err != nil {
		return nil, err
	}
	return c, c.findPaths()
}

func readCorpus(path string) (*corpus, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c corpus
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &c, nil
}

// writeCorpus writes the manifest last, under a temporary name, so that an
// interrupted generation is never taken for a complete corpus.
func writeCorpus(path string, c *corpus) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// findPaths lists the corpus's part files and checks there are as many as
// the manifest says.
func (c *corpus) findPaths() error {
	c.Paths = c.Paths[:0]
	err := filepath.WalkDir(c.Dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json.gz") {
			c.Paths = append(c.Paths, path)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("list corpus %s: %w", c.Dir, err)
	}
	if len(c.Paths) != c.Files {
		return fmt.Errorf("corpus %s: %d part files, manifest says %d; delete it to generate it anew", c.Dir, len(c.Paths), c.Files)
	}
	sort.Strings(c.Paths)
	return nil
}

// warm reads every part file once, so that the first side measured does not
// pay for the disk and the second only for the page cache.
func (c *corpus) warm() error {
	for _, p := range c.Paths {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
	}
	return nil
}

var errNoBinary = errors.New("binary not found")
