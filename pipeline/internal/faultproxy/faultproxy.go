// Package faultproxy is a reverse proxy on 127.0.0.1 for tests, put between
// a client and a real server (Azurite, or the fake Defender API) to inject
// the faults of a network and of Azure Storage: a connection cut mid-body,
// a 200 with an empty body while a blob is still being copied, an expired
// link, a burst of 503s.
//
//	p := faultproxy.Start(t, azuriteEndpoint)
//	p.Add(faultproxy.Rule{Match: "part-00001", Times: 1, Fault: faultproxy.Cut(1000)})
//	link := p.Rewrite(sasURL) // same path and query, through the proxy
//
// Requests that match no rule, or whose rules are used up, are passed
// through untouched.
package faultproxy

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault is what the proxy does to a matching request. Make one with Cut,
// EmptyBody, Status, AuthFailed or Busy.
type Fault struct {
	kind   string
	after  int64
	status int
	code   string
	msg    string
}

// String names the fault, as it appears in Entry.Fault.
func (f Fault) String() string {
	switch f.kind {
	case "cut":
		return fmt.Sprintf("cut after %d bytes", f.after)
	case "status":
		return fmt.Sprintf("%d %s", f.status, f.code)
	}
	return f.kind
}

// Cut passes the request on, sends the answer's headers and its first n
// body bytes, then drops the connection.
func Cut(n int64) Fault { return Fault{kind: "cut", after: n} }

// EmptyBody passes the request on and sends the answer's headers with an
// empty body and x-ms-copy-status: pending, as Azure Storage does for a
// blob still being copied.
func EmptyBody() Fault { return Fault{kind: "empty"} }

// Status answers without passing the request on, with status and an Azure
// Storage error body carrying code and msg.
func Status(status int, code, msg string) Fault {
	return Fault{kind: "status", status: status, code: code, msg: msg}
}

// AuthFailed is the 403 Azure Storage answers for an expired SAS link.
func AuthFailed() Fault {
	return Status(http.StatusForbidden, "AuthenticationFailed",
		"Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.")
}

// Busy is the 503 Azure Storage answers when it sheds load.
func Busy() Fault {
	return Status(http.StatusServiceUnavailable, "ServerBusy",
		"The server is currently unable to receive requests. Please retry your request.")
}

// Rule applies a Fault to the requests it matches.
type Rule struct {
	// Match is a substring of the request path; "" matches every request.
	Match string
	// Method limits the rule to one method; "" matches every method.
	Method string
	// Times is how many matching requests the rule applies to; 0 means
	// every one.
	Times int
	Fault Fault
}

// Entry is one request the proxy saw.
type Entry struct {
	Method string
	Path   string
	Range  string // the Range or x-ms-range header, if any
	Fault  string // "" when passed through untouched
	At     time.Time
}

// Proxy is a running proxy. Its methods are safe for concurrent use.
type Proxy struct {
	// URL is the proxy's root, http://127.0.0.1:port.
	URL string

	target    *url.URL
	transport http.RoundTripper
	srv       *httptest.Server

	mu    sync.Mutex
	rules []*rule
	log   []Entry
}

type rule struct {
	Rule
	used int
}

// Option adjusts Start.
type Option func(*Proxy)

// WithTransport sends the proxied requests through rt, such as a client
// that trusts a test server's certificate. Defaults to a transport that
// neither compresses nor uses a proxy.
func WithTransport(rt http.RoundTripper) Option { return func(p *Proxy) { p.transport = rt } }

// Start runs a proxy to target (scheme and host; any path is ignored),
// closed when the test ends.
func Start(t testing.TB, target string, opts ...Option) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		t.Fatalf("faultproxy: target %q: want scheme://host", target)
	}
	p := &Proxy{
		target:    &url.URL{Scheme: u.Scheme, Host: u.Host},
		transport: &http.Transport{Proxy: nil, DisableCompression: true},
	}
	for _, o := range opts {
		o(p)
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = p.srv.URL
	t.Cleanup(p.srv.Close)
	return p
}

// Rewrite returns link with the proxy's scheme and host: the same path and
// query (a SAS signature included) reach the target through the proxy.
func (p *Proxy) Rewrite(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		panic("faultproxy: rewrite " + link + ": " + err.Error())
	}
	pu, _ := url.Parse(p.URL)
	u.Scheme, u.Host = pu.Scheme, pu.Host
	return u.String()
}

// Add appends a rule. The first rule that matches a request and is not
// used up applies.
func (p *Proxy) Add(r Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, &rule{Rule: r})
}

// Reset drops every rule and the log.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules, p.log = nil, nil
}

// Log returns the requests seen so far, oldest first.
func (p *Proxy) Log() []Entry {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Entry(nil), p.log...)
}

// Count counts the requests seen whose path holds match.
func (p *Proxy) Count(match string) int {
	n := 0
	for _, e := range p.Log() {
		if strings.Contains(e.Path, match) {
			n++
		}
	}
	return n
}

// pick takes one use of the first live rule matching r and logs r.
func (p *Proxy) pick(r *http.Request) (Fault, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := Entry{Method: r.Method, Path: r.URL.Path, Range: r.Header.Get("x-ms-range"), At: time.Now()}
	if e.Range == "" {
		e.Range = r.Header.Get("Range")
	}
	var f Fault
	found := false
	for _, ru := range p.rules {
		if (ru.Times == 0 || ru.used < ru.Times) && strings.Contains(r.URL.Path, ru.Match) &&
			(ru.Method == "" || ru.Method == r.Method) {
			ru.used++
			f, found = ru.Fault, true
			e.Fault = f.String()
			break
		}
	}
	p.log = append(p.log, e)
	return f, found
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	f, found := p.pick(r)
	if found && f.kind == "status" {
		writeStorageError(w, f)
		return
	}
	resp, err := p.forward(r)
	if err != nil {
		http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}

	switch {
	case found && f.kind == "empty":
		w.Header().Set("Content-Length", "0")
		w.Header().Set("x-ms-copy-status", "pending")
		w.WriteHeader(resp.StatusCode)
	case found && f.kind == "cut":
		w.WriteHeader(resp.StatusCode)
		io.CopyN(w, resp.Body, f.after)
		w.(http.Flusher).Flush()
		// Dropping the connection is what net/http does for this panic.
		panic(http.ErrAbortHandler)
	default:
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}
}

// forward sends r on to the target.
func (p *Proxy) forward(r *http.Request) (*http.Response, error) {
	u := *r.URL
	u.Scheme, u.Host = p.target.Scheme, p.target.Host
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), r.Body)
	if err != nil {
		return nil, err
	}
	out.ContentLength = r.ContentLength
	for k, v := range r.Header {
		if !hopByHop[http.CanonicalHeaderKey(k)] {
			out.Header[k] = v
		}
	}
	// Tell the target where the client connected, so that links it builds
	// (a nextLink) lead back through the proxy.
	out.Header.Set("X-Forwarded-Host", r.Host)
	out.Header.Set("X-Forwarded-Proto", "http")
	return p.transport.RoundTrip(out)
}

var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}

// writeStorageError answers as Azure Storage does: the code in a header
// and in an XML body.
func writeStorageError(w http.ResponseWriter, f Fault) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-ms-error-code", f.code)
	w.WriteHeader(f.status)
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>%s</Code><Message>%s\nRequestId:%d\nTime:%s</Message></Error>",
		f.code, f.msg, time.Now().UnixNano(), time.Now().UTC().Format(time.RFC3339Nano))
}
