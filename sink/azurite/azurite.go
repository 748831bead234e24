// Package azurite gives tests a real Azure Blob Storage endpoint: an Azurite
// server on the loopback interface, shared by all tests of one process.
//
// Tests never skip for want of Azurite. Start uses the server named by
// AZURITE_BLOB_ENDPOINT when it answers; otherwise it runs azurite-blob from
// AZURITE_BIN or from the repository's .tools folder, installing the pinned
// version there with npm when it is missing, and stops it when the tests end.
package azurite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// The well-known development account that every Azurite serves.
const (
	AccountName = "devstoreaccount1"
	AccountKey  = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// Version is the Azurite release installed when none is found.
const Version = "3.37.0"

// EndpointEnv names the variable that points tests at a running Azurite,
// as its blob service URL with the account ("http://127.0.0.1:10000/devstoreaccount1").
const EndpointEnv = "AZURITE_BLOB_ENDPOINT"

// BinEnv names the variable that gives the path of azurite-blob.
const BinEnv = "AZURITE_BIN"

// Server is a running Azurite blob service.
type Server struct {
	// Endpoint is the blob service URL, account included, without a
	// trailing slash: "http://127.0.0.1:PORT/devstoreaccount1".
	Endpoint string

	proc   *process // nil when the server was found running
	client *azblob.Client
	cred   *azblob.SharedKeyCredential
}

var (
	sharedMu  sync.Mutex
	shared    *Server
	sharedErr error
)

// Start returns the Azurite server of this test process, starting it on the
// first call. It fails the test when no server can be had. A server Start
// launched runs until Run returns, or until the process exits.
func Start(t testing.TB) *Server {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil && sharedErr == nil {
		shared, sharedErr = start()
	}
	if sharedErr != nil {
		t.Fatalf("azurite: %v", sharedErr)
	}
	return shared
}

// Run runs the tests of m and then stops the server Start launched, if
// any. Call it from TestMain: func TestMain(m *testing.M) { os.Exit(azurite.Run(m)) }.
func Run(m *testing.M) int {
	code := m.Run()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		shared.stop()
	}
	return code
}

// start finds or launches a server.
func start() (*Server, error) {
	if ep := strings.TrimSuffix(os.Getenv(EndpointEnv), "/"); ep != "" {
		if err := waitReady(ep, 2*time.Second); err == nil {
			return newServer(ep, nil)
		}
	}
	p, err := launch()
	if err != nil {
		return nil, err
	}
	s, err := newServer(p.endpoint, p)
	if err != nil {
		p.stop()
	}
	return s, err
}

func newServer(endpoint string, p *process) (*Server, error) {
	cred, err := azblob.NewSharedKeyCredential(AccountName, AccountKey)
	if err != nil {
		return nil, err
	}
	client, err := azblob.NewClientWithSharedKeyCredential(endpoint+"/", cred, nil)
	if err != nil {
		return nil, err
	}
	return &Server{Endpoint: endpoint, proc: p, client: client, cred: cred}, nil
}

func (s *Server) stop() {
	if s.proc != nil {
		s.proc.stop()
	}
}

// waitReady polls the blob endpoint until it answers HTTP, whatever the
// status: an unsigned request is refused, which proves the server is up.
func waitReady(endpoint string, within time.Duration) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("parse endpoint %s: %w", endpoint, err)
	}
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(within)
	for {
		resp, err := client.Get(u.String() + "?comp=list")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer from %s within %s: %w", endpoint, within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ConnectionString returns a connection string with the account key for
// this server.
func (s *Server) ConnectionString() string {
	return fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s/;",
		AccountName, AccountKey, s.Endpoint)
}

// Client returns a client for the service, signed with the account key.
func (s *Server) Client() *azblob.Client { return s.client }

// Credential returns the account's shared key credential.
func (s *Server) Credential() *azblob.SharedKeyCredential { return s.cred }

// Host returns the server's host and port, as in "127.0.0.1:10000".
func (s *Server) Host() string {
	u, _ := url.Parse(s.Endpoint)
	return u.Host
}

// NewContainer creates a container with a fresh name and deletes it, with
// all it holds, when the test ends.
func (s *Server) NewContainer(t testing.TB) string {
	t.Helper()
	name := containerName(t.Name())
	if _, err := s.client.CreateContainer(context.Background(), name, nil); err != nil {
		t.Fatalf("azurite: create container %s: %v", name, err)
	}
	t.Cleanup(func() {
		_, err := s.client.DeleteContainer(context.Background(), name, nil)
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("azurite: delete container %s: %v", name, err)
		}
	})
	return name
}

var containerSeq struct {
	sync.Mutex
	n int
}

// containerName makes a valid, unique container name (3-63 characters of
// lowercase letters, digits and single dashes) from a test name.
func containerName(test string) string {
	containerSeq.Lock()
	containerSeq.n++
	n := containerSeq.n
	containerSeq.Unlock()

	var b strings.Builder
	dash := true
	for _, r := range strings.ToLower(test) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	base := strings.Trim(b.String(), "-")
	suffix := fmt.Sprintf("-%d-%d", os.Getpid(), n)
	base = strings.TrimRight(base[:min(len(base), 63-len(suffix)-1)], "-")
	return "t" + base + suffix
}

// ContainerClient returns a client for one container, signed with the
// account key.
func (s *Server) ContainerClient(name string) *container.Client {
	return s.client.ServiceClient().NewContainerClient(name)
}

// Upload stores data as the blob name in container, failing the test on
// error.
func (s *Server) Upload(t testing.TB, container, name string, data []byte) {
	t.Helper()
	_, err := s.client.UploadBuffer(context.Background(), container, name, data, nil)
	if err != nil {
		t.Fatalf("azurite: upload %s/%s: %v", container, name, err)
	}
}

// Download returns the content of the blob name in container, failing the
// test on error.
func (s *Server) Download(t testing.TB, container, name string) []byte {
	t.Helper()
	resp, err := s.client.DownloadStream(context.Background(), container, name, nil)
	if err != nil {
		t.Fatalf("azurite: download %s/%s: %v", container, name, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("azurite: download %s/%s: %v", container, name, err)
	}
	return data
}
