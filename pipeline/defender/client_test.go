package defender

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/mdvm-parquet/mdvm-parquet/pipeline/defender/defendertest"
	"github.com/mdvm-parquet/mdvm-parquet/pipeline/internal/faultproxy"
)

const (
	hwPages  = "/api/machines/HardwareFirmwareInventoryByMachine"
	hwPages2 = "/api/machines/HardwareFirmwareInventoryProductCodeByMachine"
	hwExport = "/api/machines/HardwareFirmwareInventoryExport"
)

// fastRetry keeps retry tests quick.
var fastRetry = Retry{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

// newTestClient returns a fake server and a client signed in to it with a
// real client-secret credential; cfg fields left zero take test defaults.
func newTestClient(t *testing.T, opts defendertest.Options, cfg Config) (*defendertest.Server, *Client) {
	t.Helper()
	srv := defendertest.New(t, opts)
	cfg.APIURL = srv.URL
	if cfg.Credential == nil {
		cfg.Credential = srv.Credential()
	}
	cfg.HTTPClient = srv.HTTPClient()
	if cfg.Retry == (Retry{}) {
		cfg.Retry = fastRetry
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func records(n int) []json.RawMessage {
	out := make([]json.RawMessage, n)
	for i := range out {
		out[i] = json.RawMessage(fmt.Sprintf(`{"deviceId":"d%03d","rbacGroupId":%d,"componentType":"Bios"}`, i, i%3))
	}
	return out
}

// collect reads every page of path and returns the records and page count.
func collect(t *testing.T, c *Client, path string, pageSize int) ([]string, int, error) {
	t.Helper()
	var got []string
	pages := 0
	err := c.Pages(context.Background(), path, pageSize, func(p []json.RawMessage) error {
		pages++
		for _, r := range p {
			got = append(got, string(r))
		}
		return nil
	})
	return got, pages, err
}

func TestPagesFollowsNextLink(t *testing.T) {
	for _, path := range []string{hwPages, hwPages2} {
		t.Run(path, func(t *testing.T) {
			srv, c := newTestClient(t, defendertest.Options{}, Config{})
			want := records(7)
			srv.SetRecords("hardware_firmware", want)

			got, pages, err := collect(t, c, path, 3)
			if err != nil {
				t.Fatal(err)
			}
			if pages != 3 || len(got) != 7 {
				t.Fatalf("got %d records in %d pages, want 7 in 3", len(got), pages)
			}
			for i := range want {
				if got[i] != string(want[i]) {
					t.Errorf("record %d = %s, want %s", i, got[i], want[i])
				}
			}
			for _, r := range srv.Requests() {
				if strings.EqualFold(r.Path, path) && r.Query.Get("pageSize") != "3" {
					t.Errorf("request %s?%s lost pageSize", r.Path, r.Query.Encode())
				}
			}
		})
	}
}

func TestPagesTopReadsOnePage(t *testing.T) {
	srv, c := newTestClient(t, defendertest.Options{}, Config{})
	srv.SetRecords("hardware_firmware", records(10))
	got, pages, err := collect(t, c, hwPages+"?$top=4", 2)
	if err != nil {
		t.Fatal(err)
	}
	if pages != 1 || len(got) != 4 {
		t.Errorf("got %d records in %d pages, want 4 in 1", len(got), pages)
	}
}

func TestPagesEmpty(t *testing.T) {
	_, c := newTestClient(t, defendertest.Options{}, Config{})
	got, pages, err := collect(t, c, hwPages, 0)
	if err != nil || pages != 1 || len(got) != 0 {
		t.Errorf("got %d records in %d pages, err %v; want one empty page", len(got), pages, err)
	}
}

func TestPagesLoopingNextLink(t *testing.T) {
	srv, c := newTestClient(t, defendertest.Options{}, Config{})
	srv.SetRecords("hardware_firmware", records(10))
	srv.LoopNextLink(true)
	_, pages, err := collect(t, c, hwPages, 2)
	if !errors.Is(err, ErrNextLinkLoop) {
		t.Fatalf("err = %v, want ErrNextLinkLoop", err)
	}
	if pages != 2 {
		t.Errorf("read %d pages before stopping, want 2", pages)
	}
}

func TestPagesValidatesPageSize(t *testing.T) {
	srv, c := newTestClient(t, defendertest.Options{}, Config{})
	for _, n := range []int{-1, MaxPageSize + 1} {
		if _, _, err := collect(t, c, hwPages, n); err == nil {
			t.Errorf("pageSize %d accepted", n)
		}
	}
	if _, _, err := collect(t, c, hwPages, MaxPageSize); err != nil {
		t.Errorf("pageSize %d refused: %v", MaxPageSize, err)
	}
	if n := srv.Calls(hwPages); n != 1 {
		t.Errorf("%d calls, want 1 (the valid one)", n)
	}
}

func TestPagesCallbackErrorStops(t *testing.T) {
	srv, c := newTestClient(t, defendertest.Options{}, Config{})
	srv.SetRecords("hardware_firmware", records(10))
	stop := errors.New("stop")
	err := c.Pages(context.Background(), hwPages, 2, func([]json.RawMessage) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the callback's", err)
	}
	if n := srv.Calls(hwPages); n != 1 {
		t.Errorf("%d calls after the callback failed, want 1", n)
	}
}

func TestNextLinkChecks(t *testing.T) {
	_, c := newTestClient(t, defendertest.Options{}, Config{})
	host := strings.TrimPrefix(c.base.String(), "https://")
	seen := map[string]bool{"https://" + host + "/api/x?$skiptoken=2": true}
	tests := []struct {
		link string
		want error
	}{
		{"https://evil.example/api/x?$skiptoken=2", ErrInsecureURL},
		{"http://" + host + "/api/x?$skiptoken=4", ErrInsecureURL},
		{"https://" + host + "/api/x?$skiptoken=2", ErrNextLinkLoop},
		{"https://" + host + "/api/x?$skiptoken=4", nil},
	}
	for _, tt := range tests {
		_, err := c.nextLink(tt.link, seen)
		if !errors.Is(err, tt.want) {
			t.Errorf("nextLink(%s) = %v, want %v", tt.link, err, tt.want)
		}
	}
}

func TestPageDecode(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		records   int
		next      string
		permanent bool
	}{
		{"camel case", `{"@odata.context":"x","value":[{"a":1},{"b":[2]}],"@odata.nextLink":"n"}`, 2, "n", false},
		{"odd case and extra keys", `{"Value":[{"a":1}],"@OData.NextLink":"n","extra":{"k":[1,2]}}`, 1, "n", false},
		{"next before value", `{"@odata.nextLink":"n","value":[]}`, 0, "n", false},
		{"no value", `{"@odata.context":"x"}`, 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p page
			if err := p.decode(strings.NewReader(tt.body)); err != nil {
				t.Fatal(err)
			}
			if len(p.records) != tt.records || p.next != tt.next {
				t.Errorf("got %d records, next %q; want %d, %q", len(p.records), p.next, tt.records, tt.next)
			}
		})
	}

	bad := []struct {
		name      string
		body      string
		permanent bool
	}{
		{"cut in a record", `{"value":[{"a":1},{"b":`, false},
		{"cut between keys", `{"value":[{"a":1}]`, false},
		{"empty body", ``, false},
		{"not an object", `[1,2]`, true},
		{"value not an array", `{"value":{"a":1}}`, true},
		{"syntax", `{"value":[{"a":1,}]}`, true},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			var p page
			err := p.decode(strings.NewReader(tt.body))
			if err == nil {
				t.Fatal("decoded")
			}
			if got := permanent(err); got != tt.permanent {
				t.Errorf("permanent(%v) = %v, want %v", err, got, tt.permanent)
			}
		})
	}
}

func TestExportFiles(t *testing.T) {
	srv, c := newTestClient(t, defendertest.Options{}, Config{})
	gen := time.Date(2022, 7, 11, 11, 1, 0, 0, time.UTC)
	files := []string{
		"https://acct.blob.core.windows.net/c/2022-07-11/1101/FirmwareHardwareExport/json/OrgId=o/_RbacGroupId=39/part-00999-x.c000.json.gz?sv=2020-08-04&sig=SIGONE",
		"https://acct.blob.core.windows.net/c/2022-07-11/1101/FirmwareHardwareExport/json/OrgId=o/_RbacGroupId=9/part-00968-x.c000.json.gz?sv=2020-08-04&sig=SIGTWO",
	}
	var asked atomic.Int64
	srv.SetExportFunc("hardware_firmware", func(h int) ([]string, time.Time) {
		asked.Store(int64(h))
		return files, gen
	})

	got, err := c.ExportFiles(context.Background(), hwExport, 6)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.ExportFiles) != 2 || got.ExportFiles[1] != files[1] {
		t.Errorf("files = %q, want %q", got.ExportFiles, files)
	}
	if !got.GeneratedTime.Equal(gen) {
		t.Errorf("generatedTime = %s, want %s", got.GeneratedTime, gen)
	}
	if asked.Load() != 6 {
		t.Errorf("server saw sasValidHours=%d, want 6", asked.Load())
	}
	if !bytes.Contains(got.Raw, []byte(`"@odata.context"`)) || !bytes.Contains(got.Raw, []byte("SIGONE")) {
		t.Errorf("Raw is not the body as received: %s", got.Raw)
	}
	if bytes.Contains(got.Redacted(), []byte("SIGONE")) {
		t.Errorf("Redacted holds a signature: %s", got.Redacted())
	}
}

func TestExportFilesEmpty(t *testing.T) {
	srv, c := newTestClient(t, defendertest.Options{}, Config{})
	srv.SetExport("hardware_firmware", nil, time.Time{})
	got, err := c.ExportFiles(context.Background(), hwExport, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.ExportFiles) != 0 {
		t.Errorf("files = %q, want none", got.ExportFiles)
	}
	if q := srv.Requests(); q[len(q)-1].Query.Has("sasValidHours") {
		t.Error("sasValidHours sent though 0")
	}
}

func TestExportFilesRefusesHTTPLinks(t *testing.T) {
	srv, c := newTestClient(t, defendertest.Options{}, Config{})
	srv.SetExport("hardware_firmware", []string{"http://127.0.0.1:10000/acct/c/b.gz?sig=S"}, time.Now())
	if _, err := c.ExportFiles(context.Background(), hwExport, 1); !errors.Is(err, ErrInsecureURL) {
		t.Errorf("err = %v, want ErrInsecureURL", err)
	}
	if _, err := c.ExportFiles(context.Background(), hwExport, 25); err == nil {
		t.Error("sasValidHours 25 accepted")
	}
}

func TestRetriesTransientFailures(t *testing.T) {
	tests := []struct {
		name  string
		fault func(*defendertest.Server)
		calls int
	}{
		{"429 with retry-after 0", func(s *defendertest.Server) { s.Throttle(2, "0") }, 3},
		{"429 without retry-after", func(s *defendertest.Server) { s.Throttle(1, "") }, 2},
		{"500s", func(s *defendertest.Server) { s.ServerError(3) }, 4},
		{"503 with retry-after date", func(s *defendertest.Server) {
			s.Fail(1, defendertest.Fault{Status: 503, RetryAfter: time.Now().UTC().Format(http.TimeFormat)})
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := newTestClient(t, defendertest.Options{}, Config{})
			srv.SetExport("hardware_firmware", nil, time.Now())
			tt.fault(srv)
			if _, err := c.ExportFiles(context.Background(), hwExport, 0); err != nil {
				t.Fatal(err)
			}
			if n := srv.Calls(hwExport); n != tt.calls {
				t.Errorf("%d calls, want %d", n, tt.calls)
			}
		})
	}
}

func TestRetriesAreBounded(t *testing.T) {
	srv, c := newTestClient(t, defendertest.Options{}, Config{})
	srv.ServerError(100)
	_, err := c.ExportFiles(context.Background(), hwExport, 0)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 {
		t.Fatalf("err = %v, want a 500 APIError", err)
	}
	if n := srv.Calls(hwExport); n != fastRetry.MaxAttempts {
		t.Errorf("%d calls, want %d", n, fastRetry.MaxAttempts)
	}
}

func TestForbiddenIsReportedWithCorrelationID(t *testing.T) {
	srv, c := newTestClient(t, defendertest.Options{}, Config{})
	srv.Forbidden(1)
	_, err := c.ExportFiles(context.Background(), hwExport, 0)
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("err = %v, want ErrForbidden", err)
	}
	var apiErr *APIError
	errors.As(err, &apiErr)
	want := fmt.Sprintf(`defender: GET %s: 403 Forbidden: code=Forbidden message=%q target=%s`,
		hwExport, apiErr.Message, apiErr.Target)
	if err.Error() != want || apiErr.Target == "" || !strings.Contains(apiErr.Message, "Software.Read.All") {
		t.Errorf("err = %s\nwant %s", err, want)
	}
	if n := srv.Calls(hwExport); n != 1 {
		t.Errorf("403 retried: %d calls", n)
	}
}

// countingCredential counts GetToken calls.
type countingCredential struct {
	azcore.TokenCredential
	n atomic.Int64
}

func (c *countingCredential) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.n.Add(1)
	return c.TokenCredential.GetToken(ctx, o)
}

func TestUnauthorizedRefreshesTokenOnce(t *testing.T) {
	t.Run("one 401 then success", func(t *testing.T) {
		srv := defendertest.New(t, defendertest.Options{})
		cred := &countingCredential{TokenCredential: srv.Credential()}
		c, _ := New(Config{APIURL: srv.URL, Credential: cred, HTTPClient: srv.HTTPClient(), Retry: fastRetry,
			Logger: slog.New(slog.DiscardHandler)})
		srv.Unauthorized(1)
		if _, err := c.ExportFiles(context.Background(), hwExport, 0); err != nil {
			t.Fatal(err)
		}
		if cred.n.Load() != 2 {
			t.Errorf("GetToken called %d times, want 2", cred.n.Load())
		}
	})
	t.Run("revoked token fails after one refresh", func(t *testing.T) {
		srv := defendertest.New(t, defendertest.Options{})
		cred := &countingCredential{TokenCredential: srv.Credential()}
		c, _ := New(Config{APIURL: srv.URL, Credential: cred, HTTPClient: srv.HTTPClient(), Retry: fastRetry,
			Logger: slog.New(slog.DiscardHandler)})
		if _, err := c.ExportFiles(context.Background(), hwExport, 0); err != nil {
			t.Fatal(err)
		}
		srv.Unauthorized(5)
		_, err := c.ExportFiles(context.Background(), hwExport, 0)
		if !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("err = %v, want ErrUnauthorized", err)
		}
		if n := srv.Calls(hwExport); n != 3 {
			t.Errorf("%d calls, want 3 (one ok, two refused)", n)
		}
		if cred.n.Load() != 2 {
			t.Errorf("GetToken called %d times, want 2", cred.n.Load())
		}
	})
}

func TestBudgetsKeepUnderServiceLimits(t *testing.T) {
	// The server's minute is 100ms; the client's budget windows are a
	// little longer, as a client's should be against a server's clock.
	minute := 100 * time.Millisecond
	srv, c := newTestClient(t, defendertest.Options{Minute: minute}, Config{
		ExportBudget: []Window{{5, minute + 20*time.Millisecond}, {20, 60 * (minute + 20*time.Millisecond)}},
		PagesBudget:  []Window{{30, minute + 20*time.Millisecond}, {1000, 60 * (minute + 20*time.Millisecond)}},
	})
	srv.SetRecords("hardware_firmware", records(70))

	start := time.Now()
	for range 7 {
		if _, err := c.ExportFiles(context.Background(), hwExport, 0); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < minute {
		t.Errorf("7 export calls took %s, less than the server's minute", d)
	}
	got, pages, err := collect(t, c, hwPages, 2)
	if err != nil || pages != 35 || len(got) != 70 {
		t.Fatalf("%d records in %d pages (%v), want 70 in 35", len(got), pages, err)
	}
	for _, r := range srv.Requests() {
		if r.Status == http.StatusTooManyRequests {
			t.Errorf("server refused %s at %s: the client overran its budget", r.Path, r.At.Sub(start))
		}
	}
}

func TestServerLimitHonoursRetryAfter(t *testing.T) {
	// A client with no budget of its own is refused by the server's
	// limit, waits out Retry-After (one second, rounded up) and succeeds.
	srv, c := newTestClient(t, defendertest.Options{Minute: 300 * time.Millisecond}, Config{
		ExportBudget: []Window{{1000, time.Millisecond}},
	})
	start := time.Now()
	for range 6 {
		if _, err := c.ExportFiles(context.Background(), hwExport, 0); err != nil {
			t.Fatal(err)
		}
	}
	refused := 0
	for _, r := range srv.Requests() {
		if r.Status == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused != 1 {
		t.Errorf("%d calls refused, want 1", refused)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("took %s: Retry-After of 1s not honoured", d)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	_, err := New(Config{APIURL: "http://127.0.0.1:1"})
	if err == nil || !strings.Contains(err.Error(), "no credential") || !strings.Contains(err.Error(), "api url") {
		t.Errorf("err = %v, want both problems named", err)
	}
	_, err = New(Config{APIURL: "http://127.0.0.1:1", AllowHTTP: true, Credential: &countingCredential{}})
	if err != nil {
		t.Errorf("AllowHTTP refused http: %v", err)
	}
	_, err = New(Config{Credential: &countingCredential{}, PagesBudget: []Window{{0, time.Minute}}})
	if err == nil {
		t.Error("empty budget accepted")
	}
}

func TestResolveRefusesOtherHosts(t *testing.T) {
	_, c := newTestClient(t, defendertest.Options{}, Config{})
	for _, p := range []string{"https://evil.example/api/x", "//evil.example/api/x"} {
		if _, err := c.resolve(p); err == nil {
			t.Errorf("resolve(%q) accepted", p)
		}
	}
	u, err := c.resolve("api/machines/X?sinceTime=2024-01-01T00:00:00Z&$top=5&pageSize=1")
	if err != nil || u.Path != "/api/machines/X" || u.Query().Get("sinceTime") != "2024-01-01T00:00:00Z" {
		t.Errorf("resolve = %v, %v", u, err)
	}
	setQuery(u, "pageSize", "10")
	if u.RawQuery != "sinceTime=2024-01-01T00:00:00Z&$top=5&pageSize=10" {
		t.Errorf("query = %s, want the caller's as written and pageSize replaced", u.RawQuery)
	}
}

// TestNoSecretInLogsOrErrors runs calls that fail every way the client
// reports, with debug logging on, and checks that neither the log nor the
// errors hold a token, the client secret or a SAS signature.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, c := newTestClient(t, defendertest.Options{}, Config{Logger: log})
	const sig = "c2VjcmV0LXNpZ25hdHVyZQ%3D%3D"
	srv.SetExport("hardware_firmware", []string{
		"https://acct.blob.core.windows.net/c/2024-01-01/0000/x.json.gz?sv=2020&se=2024&sig=" + sig,
		"http://acct.blob.core.windows.net/c/2024-01-01/0000/y.json.gz?sv=2020&se=2024&sig=" + sig,
	}, time.Date(2024, 1, 1, 6, 0, 0, 0, time.UTC))
	srv.SetRecords("hardware_firmware", records(3))

	var errs []error
	srv.Throttle(1, "0")
	srv.ServerError(1)
	srv.Unauthorized(1)
	_, err := c.ExportFiles(context.Background(), hwExport, 1) // retried, then refuses the http link
	errs = append(errs, err)
	srv.Forbidden(1)
	_, err = c.ExportFiles(context.Background(), hwExport, 1)
	errs = append(errs, err)
	srv.Unauthorized(2)
	errs = append(errs, c.Pages(context.Background(), hwPages, 1, func([]json.RawMessage) error { return nil }))
	srv.LoopNextLink(true)
	errs = append(errs, c.Pages(context.Background(), hwPages, 1, func([]json.RawMessage) error { return nil }))

	var all strings.Builder
	all.WriteString(logs.String())
	for i, err := range errs {
		if err == nil {
			t.Fatalf("call %d succeeded, want a failure", i)
		}
		fmt.Fprintln(&all, err)
	}
	secrets := append(srv.Tokens(), srv.ClientSecret, sig, "Bearer ey")
	for _, s := range secrets {
		if strings.Contains(all.String(), s) {
			t.Errorf("secret %.12s... found in logs or errors:\n%s", s, all.String())
		}
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("no retry logged; the test checked nothing:\n%s", logs.String())
	}
}

// TestPagesCutBodyIsRefetched cuts a page mid-body through a proxy: the
// page is fetched again and every record is seen exactly once.
func TestPagesCutBodyIsRefetched(t *testing.T) {
	srv := defendertest.New(t, defendertest.Options{})
	srv.SetRecords("hardware_firmware", records(9))
	p := faultproxy.Start(t, srv.URL, faultproxy.WithTransport(srv.HTTPClient().Transport))
	p.Add(faultproxy.Rule{Match: hwPages, Times: 2, Fault: faultproxy.Cut(60)})

	c, err := New(Config{APIURL: p.URL, AllowHTTP: true, Credential: srv.Credential(),
		Retry: fastRetry, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	got, pages, err := collect(t, c, hwPages, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := records(9)
	if pages != 3 || len(got) != len(want) {
		t.Fatalf("%d records in %d pages, want 9 in 3", len(got), pages)
	}
	for i := range want {
		if got[i] != string(want[i]) {
			t.Errorf("record %d = %s, want %s", i, got[i], want[i])
		}
	}
	if n := p.Count(hwPages); n != 5 {
		t.Errorf("%d page requests, want 5 (two cut, three whole)", n)
	}
}
