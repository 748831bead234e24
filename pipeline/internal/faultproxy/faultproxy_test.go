package faultproxy

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// target serves 10,000 bytes at every path and echoes the query.
func target(t *testing.T) (*httptest.Server, []byte) {
	body := bytes.Repeat([]byte("0123456789"), 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Query", r.URL.RawQuery)
		w.Header().Set("ETag", `"v1"`)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, body
}

func get(t *testing.T, url string) (*http.Response, []byte, error) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestPassThroughAndRewrite(t *testing.T) {
	srv, body := target(t)
	p := Start(t, srv.URL)
	link := p.Rewrite(srv.URL + "/c/blob.gz?sv=1&sig=abc%2B")
	if !strings.HasPrefix(link, p.URL+"/c/blob.gz?") {
		t.Fatalf("Rewrite = %s", link)
	}
	resp, got, err := get(t, link)
	if err != nil || !bytes.Equal(got, body) || resp.Header.Get("X-Query") != "sv=1&sig=abc%2B" {
		t.Errorf("got %d bytes, query %q, err %v", len(got), resp.Header.Get("X-Query"), err)
	}
}

func TestRules(t *testing.T) {
	srv, body := target(t)
	p := Start(t, srv.URL)
	p.Add(Rule{Match: "/a", Times: 1, Fault: Cut(100)})
	p.Add(Rule{Match: "/a", Times: 1, Fault: EmptyBody()})
	p.Add(Rule{Match: "/a", Times: 2, Fault: Busy()})
	p.Add(Rule{Match: "/b", Fault: AuthFailed()})

	// Cut: the headers promise 10,000 bytes, 100 arrive.
	_, got, err := get(t, p.URL+"/a")
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(got) != 100 || !bytes.Equal(got, body[:100]) {
		t.Errorf("cut: %d bytes, err %v", len(got), err)
	}
	// Empty body with the copy still pending.
	resp, got, err := get(t, p.URL+"/a")
	if err != nil || len(got) != 0 || resp.StatusCode != 200 || resp.Header.Get("x-ms-copy-status") != "pending" {
		t.Errorf("empty: status %d, %d bytes, copy %q, err %v", resp.StatusCode, len(got), resp.Header.Get("x-ms-copy-status"), err)
	}
	for range 2 {
		resp, got, _ = get(t, p.URL+"/a")
		if resp.StatusCode != 503 || resp.Header.Get("x-ms-error-code") != "ServerBusy" || !bytes.Contains(got, []byte("<Code>ServerBusy</Code>")) {
			t.Errorf("busy: status %d, body %s", resp.StatusCode, got)
		}
	}
	// Rules used up: through untouched.
	if _, got, err = get(t, p.URL+"/a"); err != nil || !bytes.Equal(got, body) {
		t.Errorf("after the rules: %d bytes, err %v", len(got), err)
	}
	// Times 0: every time.
	for range 3 {
		if resp, _, _ = get(t, p.URL+"/b"); resp.StatusCode != 403 || resp.Header.Get("x-ms-error-code") != "AuthenticationFailed" {
			t.Errorf("auth failed: status %d", resp.StatusCode)
		}
	}

	if n := p.Count("/a"); n != 5 {
		t.Errorf("Count(/a) = %d, want 5", n)
	}
	var faults []string
	for _, e := range p.Log() {
		faults = append(faults, e.Fault)
	}
	want := []string{"cut after 100 bytes", "empty", "503 ServerBusy", "503 ServerBusy", "",
		"403 AuthenticationFailed", "403 AuthenticationFailed", "403 AuthenticationFailed"}
	if strings.Join(faults, "|") != strings.Join(want, "|") {
		t.Errorf("faults logged: %q\nwant %q", faults, want)
	}
	p.Reset()
	if len(p.Log()) != 0 {
		t.Error("Reset kept the log")
	}
}
