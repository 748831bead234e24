// Package defendertest runs a fake Microsoft Defender API on 127.0.0.1 for
// tests: the Entra ID token and OpenID metadata endpoints a real
// azidentity credential calls, the via-files and JSON-pages export
// endpoints with their documented shapes and rate limits, and knobs that
// inject the service's faults.
//
// The server speaks https only, as the identity library insists on it for
// a sign-in host; HTTPClient returns a client that trusts its certificate
// and dials nothing but loopback addresses.
//
//	srv := defendertest.New(t, defendertest.Options{Minute: 100 * time.Millisecond})
//	srv.SetRecords("hardware_firmware", records)
//	c, _ := defender.New(defender.Config{APIURL: srv.URL, Credential: srv.Credential(),
//		HTTPClient: srv.HTTPClient()})
package defendertest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Dataset names the endpoints of one export. Every path in PagesPaths
// serves the same records, as both documented names of an endpoint should.
type Dataset struct {
	Name       string   // key for SetRecords and SetExport
	PagesPaths []string // JSON pages endpoints
	ExportPath string   // via-files endpoint; "" when there is none
	// SinceParam, for a delta, is the query parameter its pages require:
	// an RFC 3339 time at most 14 days back, else 400. The records set are
	// served whatever the time.
	SinceParam string
}

// Datasets are the exports the server knows by default, with the names the
// schema package gives them.
var Datasets = []Dataset{
	{Name: "hardware_firmware", PagesPaths: []string{
		"/api/machines/HardwareFirmwareInventoryByMachine",
		"/api/machines/HardwareFirmwareInventoryProductCodeByMachine",
	}, ExportPath: "/api/machines/HardwareFirmwareInventoryExport"},
	{Name: "software_vulnerabilities", PagesPaths: []string{"/api/machines/SoftwareVulnerabilitiesByMachine"},
		ExportPath: "/api/machines/SoftwareVulnerabilitiesExport"},
	{Name: "vulnerability_changes", PagesPaths: []string{"/api/machines/SoftwareVulnerabilityChangesByMachine"},
		SinceParam: "sinceTime"},
	{Name: "secure_configuration", PagesPaths: []string{"/api/machines/SecureConfigurationsAssessmentByMachine"},
		ExportPath: "/api/machines/SecureConfigurationsAssessmentExport"},
	{Name: "software_inventory", PagesPaths: []string{"/api/machines/SoftwareInventoryByMachine"},
		ExportPath: "/api/machines/SoftwareInventoryExport"},
	{Name: "software_inventory_non_cpe", PagesPaths: []string{"/api/machines/SoftwareInventoryNoProductCodeByMachine"},
		ExportPath: "/api/machines/SoftwareInventoryNonCpeExport"},
	{Name: "browser_extensions", PagesPaths: []string{"/api/machines/BrowserExtensionsInventoryByMachine"},
		ExportPath: "/api/machines/BrowserExtensionsInventoryExport"},
	{Name: "certificates", PagesPaths: []string{"/api/machines/certificateAssessmentByMachine"},
		ExportPath: "/api/machines/certificateAssessmentExport"},
	{Name: "security_baselines", PagesPaths: []string{"/api/machines/baselineComplianceAssessmentByMachine"},
		ExportPath: "/api/machines/BaselineComplianceAssessmentExport"},
}

// Options configures a Server; zero fields take their defaults.
type Options struct {
	// Tenant, ClientID and ClientSecret are the application the token
	// endpoint accepts. Default to a fixed tenant GUID, "test-client" and
	// "test-secret-value".
	Tenant, ClientID, ClientSecret string
	// Minute is how long the server's rate "minute" lasts; its "hour" is
	// 60 of them. Shorten it to keep rate tests fast. Defaults to a minute.
	Minute time.Duration
	// Unlimited turns the rate limits off.
	Unlimited bool
	// TokenLifetime is how long issued tokens are accepted. Defaults to an
	// hour.
	TokenLifetime time.Duration
	// Datasets replaces the default Datasets table.
	Datasets []Dataset
}

// Request is one request the server answered.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Status int
	At     time.Time
}

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	// URL is the server's root, https://127.0.0.1:port: both the API root
	// and the sign-in (authority) host.
	URL string
	// Tenant, ClientID and ClientSecret are the accepted application.
	Tenant, ClientID, ClientSecret string

	srv      *httptest.Server
	opts     Options
	datasets []Dataset

	mu       sync.Mutex
	records  map[string][]json.RawMessage
	exports  map[string]ExportFunc
	faults   []fault
	loop     bool
	tokens   map[string]time.Time // issued token -> expiry
	requests []Request
	limits   map[string][]*window
}

// New starts a server, closed when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Tenant == "" {
		opts.Tenant = "72f988bf-0000-4000-8000-00000000c0de"
	}
	if opts.ClientID == "" {
		opts.ClientID = "test-client"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "test-secret-value"
	}
	if opts.Minute <= 0 {
		opts.Minute = time.Minute
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = time.Hour
	}
	if opts.Datasets == nil {
		opts.Datasets = Datasets
	}
	s := &Server{
		Tenant:       opts.Tenant,
		ClientID:     opts.ClientID,
		ClientSecret: opts.ClientSecret,
		opts:         opts,
		datasets:     opts.Datasets,
		records:      map[string][]json.RawMessage{},
		exports:      map[string]ExportFunc{},
		tokens:       map[string]time.Time{},
		limits:       newLimits(opts),
	}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// AddDataset adds or replaces a dataset's endpoints.
func (s *Server) AddDataset(d Dataset) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.datasets {
		if s.datasets[i].Name == d.Name {
			s.datasets = append(s.datasets[:i:i], s.datasets[i+1:]...)
			break
		}
	}
	s.datasets = append(s.datasets, d)
}

// SetRecords sets the records the dataset's JSON pages endpoints serve.
func (s *Server) SetRecords(dataset string, records []json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[dataset] = records
}

// ExportFunc answers a via-files call: the file links and generatedTime.
// It sees the sasValidHours asked for (0 if none), so that a test can hand
// out fresh links on each call.
type ExportFunc func(sasValidHours int) (files []string, generated time.Time)

// SetExport makes the dataset's via-files endpoint answer files and
// generated. A nil or empty files answers an empty exportFiles (no
// snapshot yet); so does a dataset never set.
func (s *Server) SetExport(dataset string, files []string, generated time.Time) {
	s.SetExportFunc(dataset, func(int) ([]string, time.Time) { return files, generated })
}

// SetExportFunc makes the dataset's via-files endpoint answer with fn.
func (s *Server) SetExportFunc(dataset string, fn ExportFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exports[dataset] = fn
}

// LoopNextLink makes every page after the first link to itself, as a
// service fault that a client must catch.
func (s *Server) LoopNextLink(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loop = on
}

// Requests returns the requests answered so far, sign-in ones included,
// oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Calls counts the requests answered for path, matched regardless of case.
func (s *Server) Calls(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if strings.EqualFold(r.Path, path) {
			n++
		}
	}
	return n
}

// Tokens returns every access token issued, for tests asserting that none
// leaks into a log or an error.
func (s *Server) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.tokens))
	for tok := range s.tokens {
		out = append(out, tok)
	}
	return out
}

// RevokeTokens makes every token issued so far be refused with a 401.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tok := range s.tokens {
		s.tokens[tok] = time.Time{}
	}
}

// AuthorityHost is the sign-in host to give the identity library, as
// AZURE_AUTHORITY_HOST or cloud.Configuration.ActiveDirectoryAuthorityHost.
func (s *Server) AuthorityHost() string { return s.URL + "/" }

// HTTPClient returns a client that trusts the server's certificate and
// refuses to dial anything but a loopback address, so a test can never
// reach out by mistake.
func (s *Server) HTTPClient() *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(s.srv.Certificate())
	return &http.Client{Transport: &http.Transport{
		Proxy:           nil,
		TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext:     loopbackOnly,
	}}
}

// Credential returns a real azidentity client-secret credential signed in
// against the server, with instance discovery off.
func (s *Server) Credential() azcore.TokenCredential {
	cred, err := azidentity.NewClientSecretCredential(s.Tenant, s.ClientID, s.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{
			ClientOptions: azcore.ClientOptions{
				Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: s.AuthorityHost()},
				Transport: s.HTTPClient(),
			},
			DisableInstanceDiscovery: true,
		})
	if err != nil {
		panic("BUG: client secret credential with valid options: " + err.Error())
	}
	return cred
}

func loopbackOnly(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, &net.AddrError{Err: "defendertest dials loopback addresses only", Addr: addr}
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}
