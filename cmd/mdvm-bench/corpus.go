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

// corpusConfig is the benchmark corpus: the worst case for a partitioning
// reader (groups interleaved in every file), without quirks.
func corpusConfig(records, files, groups int, seed int64) sample.Config {
	return sample.Config{
		Dataset: schema.HardwareFirmware, Records: records, Files: files, Groups: groups,
		Unassigned: true, Seed: seed, Layout: sample.Mixed,
	}
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
		Format: corpusFormat, Dir: filepath.Join(base, "export"), Records: s.Records, Files: len(s.Files),
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
