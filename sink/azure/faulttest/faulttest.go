// Package faulttest is an HTTP proxy for tests that stands between a client
// and a real server on the loopback interface and injects faults: error
// answers such as 503 ServerBusy, requests cut in the middle of their body,
// responses cut in the middle of theirs, and corrupted request bodies.
package faulttest

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
)

// Fault is one kind of trouble, served to the next Times requests that
// Match accepts. Exactly one of Status, CutRequestAfter, CutResponseAfter
// and Corrupt says what happens.
type Fault struct {
	// Match picks the requests to hit. Nil matches every request.
	Match func(*http.Request) bool

	// Times is how many matching requests get the fault.
	Times int

	// Status answers the request with this status and Code in the
	// x-ms-error-code header, without passing it on.
	Status int
	Code   string

	// CutRequestAfter reads this many bytes of the request body, then
	// drops the connection without answering.
	CutRequestAfter int64

	// CutResponseAfter passes the request on, then drops the connection
	// after this many bytes of the response body.
	CutResponseAfter int64

	// Corrupt passes the request on with one byte of its body changed.
	Corrupt bool
}

// Proxy forwards requests to a server, injecting the faults it is given.
type Proxy struct {
	srv *httptest.Server

	// URL is the proxy's address, "http://127.0.0.1:PORT".
	URL string

	target *url.URL
	rp     *httputil.ReverseProxy

	mu     sync.Mutex
	faults []*Fault
	served int // faults injected
	seen   int // requests received
}

// New starts a proxy to target (a URL whose scheme and host are used) on
// 127.0.0.1 and stops it when the test ends.
func New(t testing.TB, target string) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("faulttest: parse target %q: %v", target, err)
	}
	p := &Proxy{target: u}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = u.Scheme, u.Host
			r.Out.Host = r.In.Host
		},
		ErrorLog: log.New(io.Discard, "", 0), // cut connections are the point
	}
	srv := httptest.NewUnstartedServer(p)
	srv.Listener.Close()
	srv.Listener, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("faulttest: listen: %v", err)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	p.srv = srv
	return p
}

// Close stops the proxy and waits until every request it was serving has
// been answered: after it, nothing more reaches the target through it.
func (p *Proxy) Close() { p.srv.Close() }

// Inject adds a fault. Faults are tried in the order they were added; a
// request gets at most one.
func (p *Proxy) Inject(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, &f)
}

// Served returns how many faults were injected so far.
func (p *Proxy) Served() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.served
}

// Seen returns how many requests reached the proxy.
func (p *Proxy) Seen() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen
}

// Pending returns how many injections are still to be served.
func (p *Proxy) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, f := range p.faults {
		n += f.Times
	}
	return n
}

// take returns the fault for r, if any, and counts it served.
func (p *Proxy) take(r *http.Request) *Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen++
	for _, f := range p.faults {
		if f.Times > 0 && (f.Match == nil || f.Match(r)) {
			f.Times--
			p.served++
			return f
		}
	}
	return nil
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := p.take(r)
	switch {
	case f == nil:
		p.rp.ServeHTTP(w, r)
	case f.Status != 0:
		io.Copy(io.Discard, r.Body)
		w.Header().Set("x-ms-error-code", f.Code)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>%s</Code><Message>injected</Message></Error>", f.Code)
	case f.CutRequestAfter > 0:
		io.CopyN(io.Discard, r.Body, f.CutRequestAfter)
		drop(w)
	case f.CutResponseAfter > 0:
		p.rp.ServeHTTP(&cutWriter{ResponseWriter: w, left: f.CutResponseAfter}, r)
	case f.Corrupt:
		body, _ := io.ReadAll(r.Body)
		if len(body) > 0 {
			body[len(body)/2] ^= 0xff
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		p.rp.ServeHTTP(w, r)
	default:
		p.rp.ServeHTTP(w, r)
	}
}

// drop closes the client's connection without an answer.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // the server closes the connection
	}
	conn.Close()
}

// cutWriter passes a response through until left bytes of body were
// written, then drops the connection.
type cutWriter struct {
	http.ResponseWriter
	left int64
	cut  bool
}

func (c *cutWriter) Write(b []byte) (int, error) {
	if c.cut {
		return 0, net.ErrClosed
	}
	if int64(len(b)) < c.left {
		c.left -= int64(len(b))
		return c.ResponseWriter.Write(b)
	}
	n, _ := c.ResponseWriter.Write(b[:c.left])
	c.cut = true
	http.NewResponseController(c.ResponseWriter).Flush()
	drop(c.ResponseWriter)
	return n, net.ErrClosed
}

// Matchers for the Blob Storage requests a fault usually aims at.

// PutBlock matches the staging of a block (Put Block).
func PutBlock(r *http.Request) bool {
	return r.Method == http.MethodPut && r.URL.Query().Get("comp") == "block"
}

// PutBlockList matches the commit of a block list (Put Block List).
func PutBlockList(r *http.Request) bool {
	return r.Method == http.MethodPut && r.URL.Query().Get("comp") == "blocklist"
}

// PutBlob matches an upload in one request (Put Blob).
func PutBlob(r *http.Request) bool {
	return r.Method == http.MethodPut && r.URL.Query().Get("comp") == "" &&
		r.Header.Get("x-ms-blob-type") != "" && r.Header.Get("x-ms-copy-source") == ""
}

// GetBlob matches the download of a blob (Get Blob).
func GetBlob(r *http.Request) bool {
	return r.Method == http.MethodGet && r.URL.Query().Get("comp") == "" && r.URL.Query().Get("restype") == ""
}
