package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/mdvm-parquet/mdvm-parquet/pipeline"
	"github.com/mdvm-parquet/mdvm-parquet/pipeline/internal/faultproxy"
	"github.com/mdvm-parquet/mdvm-parquet/sink/azurite"
)

// exportBlob is the path of part n of a test export, below its container.
func exportBlob(group, n int) string {
	return fmt.Sprintf("2024-01-02/0600/FirmwareHardwareExport/json/OrgId=o/_RbacGroupId=%d/part-%05d-x.c000.json.gz", group, n)
}

// blobData is n bytes that differ at every offset a resume could get wrong.
func blobData(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// export is a container of uploaded blobs with their SAS links.
type blobExport struct {
	srv       *azurite.Server
	container string
	names     []string // blob names, below the container
	data      map[string][]byte
}

func newBlobExport(t *testing.T, sizes ...int) *blobExport {
	t.Helper()
	e := &blobExport{srv: azurite.Start(t), data: map[string][]byte{}}
	e.container = e.srv.NewContainer(t)
	for i, n := range sizes {
		name := exportBlob(i%2, i)
		e.data[name] = blobData(n, uint64(i+1))
		e.srv.Upload(t, e.container, name, e.data[name])
		e.names = append(e.names, name)
	}
	return e
}

// links returns a SAS link per blob valid for ttl (negative: expired),
// rewritten through p when p is not nil.
func (e *blobExport) links(t *testing.T, ttl time.Duration, p *faultproxy.Proxy) []string {
	var out []string
	for _, name := range e.names {
		l := e.srv.SASURL(t, e.container, name, ttl)
		if p != nil {
			l = p.Rewrite(l)
		}
		out = append(out, l)
	}
	return out
}

// proxy starts a fault proxy in front of the export's Azurite.
func (e *blobExport) proxy(t *testing.T) *faultproxy.Proxy {
	return faultproxy.Start(t, e.srv.Endpoint)
}

// fastDownloads keeps retry tests quick and quiet.
func fastDownloads(log *slog.Logger) pipeline.DownloadOptions {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return pipeline.DownloadOptions{
		AllowHTTP:     true,
		RetryDelay:    time.Millisecond,
		MaxRetryDelay: 5 * time.Millisecond,
		PendingDelay:  time.Millisecond,
		Logger:        log,
	}
}

func readBlob(ctx context.Context, in pipeline.Input) ([]byte, error) {
	rc, err := in.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// blobInputFor returns the input whose name ends with the blob name.
func blobInputFor(t *testing.T, inputs []pipeline.Input, name string) pipeline.Input {
	t.Helper()
	for _, in := range inputs {
		if strings.HasSuffix(in.Name, "/"+name) {
			return in
		}
	}
	t.Fatalf("no input for %s", name)
	return pipeline.Input{}
}

// checkAll reads every input and compares it with what was uploaded.
func (e *blobExport) checkAll(t *testing.T, inputs []pipeline.Input) {
	t.Helper()
	for _, name := range e.names {
		got, err := readBlob(context.Background(), blobInputFor(t, inputs, name))
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		if !bytes.Equal(got, e.data[name]) {
			t.Fatalf("read %s: %d bytes differ from the %d uploaded", name, len(got), len(e.data[name]))
		}
	}
}

func TestBlobInputsNames(t *testing.T) {
	links := []string{
		"https://acct.blob.core.windows.net/c/2024-01-02/0600/X/json/OrgId=o/_RbacGroupId=9/part-00001.json.gz?sv=1&sig=SECRET",
		"https://acct.blob.core.windows.net/c/2024-01-02/0600/X/json/OrgId=o/part-00000.json.gz?sv=1&sig=SECRET",
	}
	inputs, err := pipeline.BlobInputs(links, pipeline.DownloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ name, group string }{
		{"c/2024-01-02/0600/X/json/OrgId=o/_RbacGroupId=9/part-00001.json.gz", "9"},
		{"c/2024-01-02/0600/X/json/OrgId=o/part-00000.json.gz", ""},
	}
	for i, w := range want {
		if inputs[i].Name != w.name || inputs[i].GroupHint != w.group || inputs[i].Size != -1 {
			t.Errorf("input %d = %q group %q size %d; want %q group %q size -1",
				i, inputs[i].Name, inputs[i].GroupHint, inputs[i].Size, w.name, w.group)
		}
	}

	bad := []string{
		"http://acct.blob.core.windows.net/c/b.json.gz?sig=SECRET",
		"https://acct.blob.core.windows.net/?sig=SECRET",
		"not a url at all ?sig=SECRET",
		links[0],
		links[0],
	}
	_, err = pipeline.BlobInputs(bad, pipeline.DownloadOptions{})
	if err == nil {
		t.Fatal("bad links accepted")
	}
	for _, want := range []string{"scheme \"http\"", "not a blob url", "given twice"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error holds the signature: %s", err)
	}
	if _, err := pipeline.BlobInputs(bad[:1], pipeline.DownloadOptions{AllowHTTP: true}); err != nil {
		t.Errorf("AllowHTTP refused http: %v", err)
	}
}

func TestBlobDownload(t *testing.T) {
	e := newBlobExport(t, 300_000, 1, 70_000)
	inputs, err := pipeline.BlobInputs(e.links(t, time.Hour, nil), fastDownloads(nil))
	if err != nil {
		t.Fatal(err)
	}
	e.checkAll(t, inputs)
	if in := blobInputFor(t, inputs, e.names[2]); !strings.HasPrefix(in.Name, "devstoreaccount1/"+e.container+"/") {
		t.Errorf("name %q: want the link's path without its leading slash", in.Name)
	}
}

func TestBlobDownloadResumesCutBody(t *testing.T) {
	e := newBlobExport(t, 1_000_000)
	p := e.proxy(t)
	p.Add(faultproxy.Rule{Match: e.names[0], Times: 3, Fault: faultproxy.Cut(150_000)})
	inputs, _ := pipeline.BlobInputs(e.links(t, time.Hour, p), fastDownloads(nil))
	e.checkAll(t, inputs)

	var ranges []string
	for _, r := range p.Log() {
		ranges = append(ranges, r.Range)
	}
	want := []string{"", "bytes=150000-", "bytes=300000-", "bytes=450000-"}
	if fmt.Sprint(ranges) != fmt.Sprint(want) {
		t.Errorf("requests asked for %q, want %q", ranges, want)
	}
}

// TestBlobDownloadRidesOutTransientFaults: three empty answers of a blob
// still being copied, or three 503s, are retried and the blob read whole.
func TestBlobDownloadRidesOutTransientFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault faultproxy.Fault
	}{
		{"empty body while copy pending", faultproxy.EmptyBody()},
		{"503 burst", faultproxy.Busy()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newBlobExport(t, 50_000)
			p := e.proxy(t)
			p.Add(faultproxy.Rule{Match: e.names[0], Times: 3, Fault: tt.fault})
			inputs, _ := pipeline.BlobInputs(e.links(t, time.Hour, p), fastDownloads(nil))
			e.checkAll(t, inputs)
			if n := p.Count(e.names[0]); n != 4 {
				t.Errorf("%d requests, want 4 (three faults, then the blob)", n)
			}
		})
	}
}

func TestBlobDownloadEmptyBodyGivesUp(t *testing.T) {
	e := newBlobExport(t, 50_000)
	p := e.proxy(t)
	p.Add(faultproxy.Rule{Match: e.names[0], Fault: faultproxy.EmptyBody()})
	opts := fastDownloads(nil)
	opts.PendingRetries = 2
	inputs, _ := pipeline.BlobInputs(e.links(t, time.Hour, p), opts)
	_, err := readBlob(context.Background(), inputs[0])
	if !errors.Is(err, pipeline.ErrBlobPending) {
		t.Fatalf("err = %v, want ErrBlobPending", err)
	}
	if !strings.Contains(err.Error(), "pending") {
		t.Errorf("error does not give the copy status: %v", err)
	}
}

func TestBlobDownloadExpiredWithoutRefresher(t *testing.T) {
	e := newBlobExport(t, 1000)
	inputs, _ := pipeline.BlobInputs(e.links(t, -time.Hour, nil), fastDownloads(nil))
	_, err := readBlob(context.Background(), inputs[0])
	if !errors.Is(err, pipeline.ErrLinkExpired) {
		t.Fatalf("err = %v, want ErrLinkExpired", err)
	}
	if strings.Contains(err.Error(), "sig=") || strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one redacted line: %q", err)
	}
}

// TestBlobDownloadRefreshesExpiredLinks reads one blob whose link is valid,
// then two whose links have expired, at once: one export call refreshes
// both, and the blob already read is not fetched again.
func TestBlobDownloadRefreshesExpiredLinks(t *testing.T) {
	e := newBlobExport(t, 20_000, 30_000, 40_000)
	p := e.proxy(t)
	valid, expired := e.links(t, time.Hour, p), e.links(t, -time.Hour, p)
	links := []string{valid[0], expired[1], expired[2]}

	var calls atomic.Int32
	opts := fastDownloads(nil)
	opts.Refresher = func(ctx context.Context) (map[string]string, error) {
		calls.Add(1)
		time.Sleep(50 * time.Millisecond) // let the other expired blob queue up
		return pipeline.BlobLinks(e.links(t, time.Hour, p))
	}
	inputs, _ := pipeline.BlobInputs(links, opts)

	got, err := readBlob(context.Background(), blobInputFor(t, inputs, e.names[0]))
	if err != nil || !bytes.Equal(got, e.data[e.names[0]]) {
		t.Fatalf("read %s: %v", e.names[0], err)
	}
	var wg sync.WaitGroup
	for _, name := range e.names[1:] {
		wg.Go(func() {
			got, err := readBlob(context.Background(), blobInputFor(t, inputs, name))
			if err != nil || !bytes.Equal(got, e.data[name]) {
				t.Errorf("read %s: %v", name, err)
			}
		})
	}
	wg.Wait()

	if n := calls.Load(); n != 1 {
		t.Errorf("refresher called %d times, want 1", n)
	}
	if n := p.Count(e.names[0]); n != 1 {
		t.Errorf("finished blob fetched %d times, want 1", n)
	}
	for _, name := range e.names[1:] {
		if n := p.Count(name); n != 2 {
			t.Errorf("%s fetched %d times, want 2 (expired, then fresh)", name, n)
		}
	}
}

// TestBlobDownloadLinkExpiresMidBody cuts a download, has the resumed
// request find the link expired, and checks the download resumes at the
// right byte with the fresh link.
func TestBlobDownloadLinkExpiresMidBody(t *testing.T) {
	e := newBlobExport(t, 500_000)
	p := e.proxy(t)
	p.Add(faultproxy.Rule{Match: e.names[0], Times: 1, Fault: faultproxy.Cut(123_457)})
	p.Add(faultproxy.Rule{Match: e.names[0], Times: 1, Fault: faultproxy.AuthFailed()})

	fresh := e.links(t, 2*time.Hour, p)
	opts := fastDownloads(nil)
	opts.Refresher = func(context.Context) (map[string]string, error) { return pipeline.BlobLinks(fresh) }
	inputs, _ := pipeline.BlobInputs(e.links(t, time.Hour, p), opts)
	e.checkAll(t, inputs)

	log := p.Log()
	if len(log) != 3 || log[1].Fault != "403 AuthenticationFailed" || log[2].Range != "bytes=123457-" {
		t.Errorf("requests: %+v\nwant whole, 403 at 123457, then resume at 123457", log)
	}
}

func TestBlobDownloadSnapshotChanged(t *testing.T) {
	e := newBlobExport(t, 1000, 1000)
	opts := fastDownloads(nil)
	opts.Refresher = func(context.Context) (map[string]string, error) {
		return pipeline.BlobLinks(e.links(t, time.Hour, nil)[:1])
	}
	inputs, _ := pipeline.BlobInputs(e.links(t, -time.Hour, nil), opts)
	if _, err := readBlob(context.Background(), blobInputFor(t, inputs, e.names[0])); err != nil {
		t.Fatalf("blob still listed: %v", err)
	}
	_, err := readBlob(context.Background(), blobInputFor(t, inputs, e.names[1]))
	if !errors.Is(err, pipeline.ErrSnapshotChanged) {
		t.Errorf("err = %v, want ErrSnapshotChanged", err)
	}
}

func TestBlobDownloadRefreshBudget(t *testing.T) {
	e := newBlobExport(t, 1000)
	opts := fastDownloads(nil)
	var calls atomic.Int32
	opts.Refresher = func(context.Context) (map[string]string, error) {
		calls.Add(1)
		return pipeline.BlobLinks(e.links(t, -time.Minute, nil)) // expired again
	}
	inputs, _ := pipeline.BlobInputs(e.links(t, -time.Hour, nil), opts)
	_, err := readBlob(context.Background(), inputs[0])
	if !errors.Is(err, pipeline.ErrLinkExpired) || calls.Load() != 1 {
		t.Errorf("err = %v after %d refreshes; want ErrLinkExpired after 1", err, calls.Load())
	}
}

// TestBlobDownloadKeepsVersion changes the blob between a cut and the
// resume: the resume must fail rather than splice two versions.
func TestBlobDownloadKeepsVersion(t *testing.T) {
	e := newBlobExport(t, 400_000)
	p := e.proxy(t)
	p.Add(faultproxy.Rule{Match: e.names[0], Times: 1, Fault: faultproxy.Cut(200_000)})
	inputs, _ := pipeline.BlobInputs(e.links(t, time.Hour, p), fastDownloads(nil))

	rc, err := inputs[0].Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadFull(rc, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	e.srv.Upload(t, e.container, e.names[0], blobData(400_000, 99))
	_, err = io.ReadAll(rc)
	if err == nil || !strings.Contains(err.Error(), "412") {
		t.Errorf("err = %v, want a 412 from the changed blob", err)
	}
}

// TestBlobDownloadStoredBytes reads a blob stored with Content-Encoding:
// gzip, whole and then resumed: both must give the bytes as stored.
func TestBlobDownloadStoredBytes(t *testing.T) {
	e := newBlobExport(t)
	name := exportBlob(0, 0)
	data := blobData(200_000, 7)
	enc := "gzip"
	_, err := e.srv.Client().UploadBuffer(context.Background(), e.container, name, data,
		&azblob.UploadBufferOptions{HTTPHeaders: &blob.HTTPHeaders{BlobContentEncoding: &enc}})
	if err != nil {
		t.Fatal(err)
	}
	e.names, e.data[name] = []string{name}, data

	p := e.proxy(t)
	p.Add(faultproxy.Rule{Match: name, Times: 1, Fault: faultproxy.Cut(50_000)})
	inputs, _ := pipeline.BlobInputs(e.links(t, time.Hour, p), fastDownloads(nil))
	e.checkAll(t, inputs)
}

// TestDownloadLogsHoldNoSecret fails downloads every way they report, with
// debug logs on, and checks no SAS signature reaches a log line or an error.
func TestDownloadLogsHoldNoSecret(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newBlobExport(t, 300_000, 1000, 1000)
	p := e.proxy(t)
	p.Add(faultproxy.Rule{Match: e.names[0], Times: 1, Fault: faultproxy.Cut(1000)})
	p.Add(faultproxy.Rule{Match: e.names[0], Times: 1, Fault: faultproxy.Busy()})
	p.Add(faultproxy.Rule{Match: e.names[1], Fault: faultproxy.EmptyBody()})

	links := e.links(t, time.Hour, p)
	links[2] = e.srv.SASURL(t, e.container, e.names[2], -time.Hour)
	dead, _ := url.Parse(links[0])
	dead.Host = "127.0.0.1:1" // nothing listens there
	dead.Path = "/devstoreaccount1/gone/part-0.json.gz"
	links = append(links, dead.String())

	opts := fastDownloads(log)
	opts.PendingRetries = 1
	opts.Retries = 1
	inputs, err := pipeline.BlobInputs(links, opts)
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	failures := 0
	for _, in := range inputs {
		if _, err := readBlob(context.Background(), in); err != nil {
			failures++
			fmt.Fprintln(&all, err)
		}
	}
	all.WriteString(logs.String())
	if failures != 3 {
		t.Errorf("%d downloads failed, want 3 (empty, expired, refused):\n%s", failures, all.String())
	}
	for _, l := range links {
		u, _ := url.Parse(l)
		sig := u.Query().Get("sig")
		if sig == "" || strings.Contains(all.String(), sig) || strings.Contains(all.String(), url.QueryEscape(sig)) {
			t.Errorf("signature found in logs or errors:\n%s", all.String())
		}
	}
}
