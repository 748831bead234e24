package azure_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mdvm-parquet/mdvm-parquet/sink"
	"github.com/mdvm-parquet/mdvm-parquet/sink/azure"
	"github.com/mdvm-parquet/mdvm-parquet/sink/azure/faulttest"
	"github.com/mdvm-parquet/mdvm-parquet/sink/azurite"
)

// proxied returns a bucket that reaches Azurite through a fault proxy,
// with short retry pauses and 1 MiB blocks.
func proxied(t *testing.T) (sink.Bucket, *faulttest.Proxy, *azurite.Server, string) {
	srv := azurite.Start(t)
	c := srv.NewContainer(t)
	proxy := faulttest.New(t, srv.Endpoint)
	b, err := azure.New(t.Context(), azure.Config{
		ConnectionString: srv.ConnectionString(),
		StorageEndpoint:  proxy.URL + "/" + azurite.AccountName,
		Container:        c,
		BlockSize:        1 << 20,
		RetryDelay:       5 * time.Millisecond,
		MaxRetryDelay:    50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b, proxy, srv, c
}

func randomBytes(n int) []byte {
	p := make([]byte, n)
	rand.NewChaCha8([32]byte{42}).Read(p)
	return p
}

// writeInChunks writes data to a new object in small writes.
func writeInChunks(t *testing.T, b sink.Bucket, name string, data []byte) error {
	w, err := b.Create(t.Context(), name)
	if err != nil {
		return err
	}
	for p := data; len(p) > 0; p = p[min(len(p), 10_000):] {
		if _, err := w.Write(p[:min(len(p), 10_000)]); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close()
}

// TestRetriesThroughFaults sends an object through bursts of 503
// ServerBusy, cut uploads, a failed commit and a download cut halfway: it
// must arrive, and read back, byte for byte.
func TestRetriesThroughFaults(t *testing.T) {
	b, proxy, srv, c := proxied(t)
	proxy.Inject(faulttest.Fault{Match: faulttest.PutBlock, Times: 3, Status: http.StatusServiceUnavailable, Code: "ServerBusy"})
	proxy.Inject(faulttest.Fault{Match: faulttest.PutBlock, Times: 2, CutRequestAfter: 200 << 10})
	proxy.Inject(faulttest.Fault{Match: faulttest.PutBlockList, Times: 1, Status: http.StatusInternalServerError, Code: "InternalError"})
	proxy.Inject(faulttest.Fault{Match: faulttest.GetBlob, Times: 1, CutResponseAfter: 1 << 20})
	proxy.Inject(faulttest.Fault{Match: faulttest.GetBlob, Times: 2, Status: http.StatusServiceUnavailable, Code: "ServerBusy"})

	data := randomBytes(5<<20 + 17)
	if err := writeInChunks(t, b, "dt=1/x.parquet", data); err != nil {
		t.Fatalf("write through faults: %v", err)
	}
	got, err := sink.Get(t.Context(), b, "dt=1/x.parquet")
	if err != nil {
		t.Fatalf("read through faults: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes that differ from the %d written", len(got), len(data))
	}
	if direct := srv.Download(t, c, "dt=1/x.parquet"); !bytes.Equal(direct, data) {
		t.Fatalf("stored %d bytes that differ from the %d written", len(direct), len(data))
	}
	if n := proxy.Pending(); n != 0 {
		t.Fatalf("%d faults were never served", n)
	}
	t.Logf("%d requests, %d faults injected", proxy.Seen(), proxy.Served())
}

// TestSmallObjectThroughFaults covers the single-request upload path.
func TestSmallObjectThroughFaults(t *testing.T) {
	b, proxy, _, _ := proxied(t)
	proxy.Inject(faulttest.Fault{Match: faulttest.PutBlob, Times: 2, Status: http.StatusServiceUnavailable, Code: "ServerBusy"})
	proxy.Inject(faulttest.Fault{Match: faulttest.PutBlob, Times: 1, CutRequestAfter: 1000})

	data := randomBytes(300_000)
	if err := writeInChunks(t, b, "manifest.json", data); err != nil {
		t.Fatalf("write through faults: %v", err)
	}
	got, err := sink.Get(t.Context(), b, "manifest.json")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back: %v (%d bytes, want %d)", err, len(got), len(data))
	}
	if n := proxy.Pending(); n != 0 {
		t.Fatalf("%d faults were never served", n)
	}
}

// TestCorruptBlockRefused changes a byte of a block on its way: storage
// must refuse it on its MD5, and no object may appear.
func TestCorruptBlockRefused(t *testing.T) {
	b, proxy, _, _ := proxied(t)
	proxy.Inject(faulttest.Fault{Match: faulttest.PutBlock, Times: 1, Corrupt: true})

	err := writeInChunks(t, b, "x.bin", randomBytes(3<<20))
	if err == nil {
		t.Fatal("write with a corrupted block: got nil, want an error")
	}
	t.Logf("error: %v", err)
	if _, err := b.Open(t.Context(), "x.bin"); !errors.Is(err, sink.ErrNotExist) {
		t.Fatalf("open after refused write: got %v, want ErrNotExist", err)
	}
}

// TestRetriesGiveUp checks that a fault that does not pass ends in an error
// naming the operation and the status, after the configured retries.
func TestRetriesGiveUp(t *testing.T) {
	b, proxy, _, _ := proxied(t)
	proxy.Inject(faulttest.Fault{Times: 100, Status: http.StatusServiceUnavailable, Code: "ServerBusy"})

	err := sink.Put(t.Context(), b, "x", []byte("x"))
	if err == nil || !strings.Contains(err.Error(), "503 ServerBusy") || !strings.Contains(err.Error(), "upload x") {
		t.Fatalf("put: got %v, want an upload error naming 503 ServerBusy", err)
	}
	if got := proxy.Served(); got != 7 {
		t.Fatalf("served %d faults, want 7 (one try and six retries)", got)
	}
}

// TestCancelDuringRetries checks that cancellation ends the retry pauses.
func TestCancelDuringRetries(t *testing.T) {
	srv := azurite.Start(t)
	proxy := faulttest.New(t, srv.Endpoint)
	proxy.Inject(faulttest.Fault{Times: 1000, Status: http.StatusServiceUnavailable, Code: "ServerBusy"})
	b, err := azure.New(t.Context(), azure.Config{
		ConnectionString: srv.ConnectionString(),
		StorageEndpoint:  proxy.URL + "/" + azurite.AccountName,
		Container:        srv.NewContainer(t),
		RetryDelay:       time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = b.Open(ctx, "x")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("open: got %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("open returned after %s, want soon after the deadline", d)
	}
}
