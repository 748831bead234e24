package sample

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// gzipLevel trades file size for generation speed; readers decompress
// either about as fast.
const gzipLevel = gzip.DefaultCompression

// flushAt is how much JSON text a file's writer gathers before compressing.
const flushAt = 256 << 10

// odataContext is the @odata.context of the via-files response.
const odataContext = "https://api.securitycenter.microsoft.com/api/$metadata#microsoft.windowsDefenderATP.api.ExportFilesResponse"

// Write generates the export cfg describes under dir, which is created if
// needed, and writes dir/export.json last. Files already in dir are left
// alone; each part file is written under a temporary name and renamed, so a
// reader never sees half a file. Up to cfg.Concurrency files are generated
// at once.
func Write(dir string, cfg Config) (Summary, error) {
	p, err := newPlan(cfg)
	if err != nil {
		return Summary{}, err
	}
	files := append([]File(nil), p.files...)

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, p.cfg.Concurrency)
	)
	for i := range files {
		wg.Add(1)
		sem <- struct{}{}
		go func(f *File) {
			defer func() { <-sem; wg.Done() }()
			if err := p.writePath(filepath.Join(dir, filepath.FromSlash(f.Path)), f); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}(&files[i])
	}
	wg.Wait()
	if len(errs) > 0 {
		return Summary{}, errors.Join(errs...)
	}

	s := Summary{GeneratedTime: p.cfg.GeneratedTime, Records: p.cfg.Records, Files: files}
	for _, f := range files {
		s.JSONBytes += f.JSONBytes
		s.GzipBytes += f.GzipBytes
	}
	s.ExportJSON = filepath.Join(dir, "export.json")
	if err := writeExportJSON(s.ExportJSON, p.cfg, files); err != nil {
		return Summary{}, err
	}
	return s, nil
}

// WriteFile writes the gzip bytes of f, one of the files Plan returned for
// the same cfg, to w, and returns f with its byte counts filled in. It lets
// a server hand out a file without storing it.
func WriteFile(w io.Writer, cfg Config, f File) (File, error) {
	p, err := newPlan(cfg)
	if err != nil {
		return f, err
	}
	if f.index < 0 || f.index >= len(p.files) || p.files[f.index].Path != f.Path {
		return f, fmt.Errorf("write sample file %s: not a file of this export", f.Path)
	}
	f = p.files[f.index]
	if err := p.writeFile(w, &f); err != nil {
		return f, fmt.Errorf("write sample file %s: %w", f.Path, err)
	}
	return f, nil
}

// Records calls fn with each record of the export, in file order, as one
// JSON object without a line ending. Record-level quirks are included;
// file-level ones (BOM, CRLF, blank lines, gzip members) are not. The slice
// is reused after fn returns. The first error fn returns stops the walk and
// is returned.
func Records(cfg Config, fn func(rec []byte) error) error {
	p, err := newPlan(cfg)
	if err != nil {
		return err
	}
	g := p.newGen()
	var buf []byte
	for i, f := range p.files {
		for j := f.first; j < f.first+f.Records; j++ {
			buf = g.record(buf[:0], j, p.fileGrp[i])
			if err := fn(buf); err != nil {
				return err
			}
		}
	}
	return nil
}

// writePath writes f to path through a temporary file.
func (p *plan) writePath(path string, f *File) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write sample file %s: %w", f.Path, err)
	}
	tmp := path + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("write sample file %s: %w", f.Path, err)
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	err = p.writeFile(bw, f)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write sample file %s: %w", f.Path, err)
	}
	return nil
}

// writeFile writes f gzip-compressed to dst and fills in its byte counts.
func (p *plan) writeFile(dst io.Writer, f *File) error {
	fq := fileQuirksOf(p.cfg.Quirks, f.index, len(p.files))
	cw := &countWriter{w: dst}
	zw, err := gzip.NewWriterLevel(cw, gzipLevel)
	if err != nil {
		return err
	}

	g := p.newGen()
	buf := make([]byte, 0, flushAt+64<<10)
	var jsonBytes int64
	flush := func() error {
		jsonBytes += int64(len(buf))
		_, err := zw.Write(buf)
		buf = buf[:0]
		return err
	}
	if fq.bom {
		buf = append(buf, 0xEF, 0xBB, 0xBF)
	}
	eol := "\n"
	if fq.crlf {
		eol = "\r\n"
	}

	member := 1
	for i := 0; i < f.Records; i++ {
		// A new gzip member starts at each member's share of the records.
		if member < fq.members && i == f.Records*member/fq.members {
			if err := flush(); err != nil {
				return err
			}
			if err := zw.Close(); err != nil {
				return err
			}
			zw.Reset(cw)
			member++
		}
		buf = g.record(buf, f.first+i, p.fileGrp[f.index])
		buf = append(buf, eol...)
		if len(buf) >= flushAt {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if fq.blankTail {
		buf = append(buf, eol+eol...)
	}
	if err := flush(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	f.JSONBytes, f.GzipBytes = jsonBytes, cw.n
	return nil
}

// gen turns record indexes into record text, keeping the current device.
type gen struct {
	p      *plan
	w      recordWriter
	dev    device
	state  deviceState
	cur    int // index of the device in dev, -1 for none
	curGrp int
}

func (p *plan) newGen() *gen {
	return &gen{p: p, state: p.prof.newState(), cur: -1, w: recordWriter{prof: p.prof}}
}

// record appends record j, which belongs to group gi (-1: draw it), to b.
func (g *gen) record(b []byte, j, gi int) []byte {
	p := g.p
	d, k := j/p.prof.perDevice, j%p.prof.perDevice
	if d != g.cur || gi != g.curGrp {
		grp := &p.groups[max(gi, 0)]
		if gi < 0 {
			grp = p.groupOf(d)
		}
		r := newRNG(p.cfg.Seed, streamDevice, uint64(d))
		g.dev.reset(&r, d, grp, p.cfg.GeneratedTime)
		g.dev.form = formID
		if grp.unassigned {
			g.dev.form = unassignedForm(d - p.firstDevice(gi))
		}
		g.state.reset(&r, &g.dev)
		g.cur, g.curGrp = d, gi
	}

	w := &g.w
	w.begin(b, recordQuirk(p.prof.quirks, p.cfg.Quirks, j), p.cfg.Casing)
	w.key("DeviceId")
	w.b = appendStringBytes(w.b, g.dev.id)
	w.group(g.dev.group, g.dev.form)
	if !p.prof.noDeviceName {
		w.str("DeviceName", g.dev.name)
	}
	g.state.record(w, &g.dev, k)
	return w.end()
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// exportResponse is the body of the via-files endpoint.
type exportResponse struct {
	Context       string   `json:"@odata.context"`
	ExportFiles   []string `json:"exportFiles"`
	GeneratedTime string   `json:"generatedTime"`
}

// ExportJSON returns the via-files response listing files: each path
// relative to the export root, or below cfg.BaseURL when that is set.
func ExportJSON(cfg Config, files []File) ([]byte, error) {
	cfg, _, err := cfg.normalize()
	if err != nil {
		return nil, fmt.Errorf("sample config: %w", err)
	}
	resp := exportResponse{
		Context:       odataContext,
		ExportFiles:   make([]string, 0, len(files)),
		GeneratedTime: cfg.GeneratedTime.Format("2006-01-02T15:04:05.999999999Z"),
	}
	for _, f := range files {
		u := f.Path
		if cfg.BaseURL != "" {
			u = cfg.BaseURL + "/" + f.Path
		}
		resp.ExportFiles = append(resp.ExportFiles, u)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(resp); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeExportJSON(path string, cfg Config, files []File) error {
	body, err := ExportJSON(cfg, files)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, body, 0o644); err != nil {
		return fmt.Errorf("write export response %s: %w", path, err)
	}
	return nil
}
