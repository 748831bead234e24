package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/mdvm-parquet/mdvm-parquet/sink/azurite"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

// azuriteVersion is the Azurite release the bench runs, the tests' own; it
// must match .ci/run.
const azuriteVersion = azurite.Version

// azuriteLake is the folder of the Azurite side's container that convert
// writes the lake to.
const azuriteLake = "lake"

// The well-known development account that every Azurite serves.
const (
	azuriteAccount = "devstoreaccount1"
	azuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// azuriteServer is an azurite-blob child process on the loopback interface,
// keeping its blobs on disk under the benchmark's folder.
type azuriteServer struct {
	endpoint string // "http://127.0.0.1:PORT/devstoreaccount1"
	client   *azblob.Client
	cmd      *exec.Cmd
	dir      string
	exited   chan struct{}
	out      *tailBuffer
}

// startAzurite runs azurite-blob from AZURITE_BIN or the repository's
// .tools folder, installing the pinned version there with npm when it is
// missing, and waits until it answers.
func startAzurite(ctx context.Context, dir string, log io.Writer) (*azuriteServer, error) {
	fmt.Fprintf(log, "finding azurite@%s (installed into .tools if missing) ...\n", azuriteVersion)
	bin, err := azurite.Binary()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "azurite")
	if err := os.RemoveAll(data); err != nil {
		return nil, fmt.Errorf("clear %s: %w", data, err)
	}
	s := &azuriteServer{
		endpoint: fmt.Sprintf("http://127.0.0.1:%d/%s", port, azuriteAccount),
		dir:      data,
		exited:   make(chan struct{}),
		out:      &tailBuffer{max: 4 << 10},
	}
	s.cmd = exec.CommandContext(ctx, bin, "--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port),
		"--location", data, "--disableTelemetry", "--skipApiVersionCheck", "--loose")
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	if err := s.waitReady(60 * time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("start %s: %w: %s", bin, err, s.out.buf)
	}

	cred, err := azblob.NewSharedKeyCredential(azuriteAccount, azuriteKey)
	if err != nil {
		s.stop()
		return nil, err
	}
	if s.client, err = azblob.NewClientWithSharedKeyCredential(s.endpoint+"/", cred, nil); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// connectionString is the credential the convert child is given.
func (s *azuriteServer) connectionString() string {
	return fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s/;",
		azuriteAccount, azuriteKey, s.endpoint)
}

// waitReady polls the endpoint until it answers HTTP, whatever the status.
func (s *azuriteServer) waitReady(within time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(within)
	for {
		select {
		case <-s.exited:
			return errors.New("azurite-blob exited before it answered")
		default:
		}
		resp, err := client.Get(s.endpoint + "?comp=list")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer from %s within %s: %w", s.endpoint, within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop ends the server, gently then surely, removes its blobs and returns
// its peak resident set size in bytes (0 where the system does not tell).
func (s *azuriteServer) stop() int64 {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	os.RemoveAll(s.dir)
	if s.cmd.ProcessState == nil {
		return 0
	}
	return peakRSS(s.cmd.ProcessState)
}

// newContainer creates a container for one run.
func (s *azuriteServer) newContainer(ctx context.Context, name string) error {
	if _, err := s.client.CreateContainer(ctx, name, nil); err != nil {
		return fmt.Errorf("azurite: create container %s: %w", name, err)
	}
	return nil
}

// deleteContainer deletes a container with all it holds.
func (s *azuriteServer) deleteContainer(ctx context.Context, name string) error {
	if _, err := s.client.DeleteContainer(ctx, name, nil); err != nil {
		return fmt.Errorf("azurite: delete container %s: %w", name, err)
	}
	return nil
}

// download copies the blobs of container below prefix into dir.
func (s *azuriteServer) download(ctx context.Context, container, prefix, dir string) error {
	pager := s.client.NewListBlobsFlatPager(container, &azblob.ListBlobsFlatOptions{Prefix: to.Ptr(prefix)})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("azurite: list %s/%s: %w", container, prefix, err)
		}
		for _, b := range page.Segment.BlobItems {
			if err := s.downloadBlob(ctx, container, *b.Name, filepath.Join(dir, filepath.FromSlash(*b.Name))); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *azuriteServer) downloadBlob(ctx context.Context, container, name, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := s.client.DownloadFile(ctx, container, name, f, nil); err != nil {
		return fmt.Errorf("azurite: download %s/%s: %w", container, name, err)
	}
	return f.Close()
}

// freePort asks the kernel for a free TCP port on the loopback interface.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
