// Package defender calls the Microsoft Defender Vulnerability Management
// export APIs: it signs in, asks for a snapshot's file links or reads it as
// JSON pages, and keeps within the service's rate budgets. It knows nothing
// of what the records mean or where they go.
//
// A Client is safe for concurrent use. One Client per run: its rate budgets
// are shared by every call it makes, so a run pulling several datasets stays
// within the service's per-application limits. Nothing the client logs or
// returns holds a token or a SAS signature (see Redact).
package defender

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// DefaultAPIURL is the API root used when Config.APIURL is empty.
const DefaultAPIURL = "https://api.security.microsoft.com"

// DefaultScope is the token scope used when Config.Scope is empty.
const DefaultScope = "https://api.securitycenter.microsoft.com/.default"

// Errors the client returns, wrapped; test for them with errors.Is.
var (
	// ErrUnauthorized: the service refused the token twice (401), once
	// before and once after a refresh. Check the credential's tenant and
	// application.
	ErrUnauthorized = errors.New("token refused")
	// ErrForbidden: the application lacks the permission (403), such as
	// Software.Read.All or Vulnerability.Read.All. Not retried.
	ErrForbidden = errors.New("permission missing")
	// ErrThrottled: the service still answered 429 after every retry, or
	// asked to wait longer than Retry.MaxRetryAfter. Try again later.
	ErrThrottled = errors.New("rate limited")
	// ErrNextLinkLoop: a page's @odata.nextLink pointed at a page already
	// read. The records read so far are incomplete; nothing more is read.
	ErrNextLinkLoop = errors.New("nextLink loop")
	// ErrInsecureURL: a URL the client was told to follow (API root,
	// nextLink, file link) is not https, and AllowHTTP is off; or a nextLink
	// points at another host than the API root, which would leak the token.
	ErrInsecureURL = errors.New("refusing url")
)

// Config configures a Client. Only Credential is required.
type Config struct {
	// APIURL is the API root. Defaults to DefaultAPIURL; regional and US
	// Government roots work the same way.
	APIURL string
	// Scope is the token scope. Defaults to DefaultScope.
	Scope string
	// Credential signs the client in; see Credential for the usual ones.
	Credential azcore.TokenCredential
	// HTTPClient sends the requests. Defaults to a client whose transport
	// honours HTTPS_PROXY, HTTP_PROXY and NO_PROXY.
	HTTPClient *http.Client
	// AllowHTTP lets the client follow http URLs (API root, nextLinks,
	// file links). Only for tests against local servers. Defaults to false.
	AllowHTTP bool
	// Logger receives the client's logs. Defaults to slog.Default().
	Logger *slog.Logger
	// ExportBudget bounds the via-files calls. Defaults to 5 a minute and
	// 20 an hour, the service's limits.
	ExportBudget []Window
	// PagesBudget bounds the JSON page calls. Defaults to 30 a minute and
	// 1,000 an hour, the service's limits.
	PagesBudget []Window
	// Retry bounds retries; zero fields take their defaults.
	Retry Retry
}

// Client calls the Defender API. Create one with New.
type Client struct {
	base      *url.URL
	scope     string
	cred      azcore.TokenCredential
	http      *http.Client
	allowHTTP bool
	log       *slog.Logger
	retry     Retry
	exports   *limiter
	pages     *limiter

	mu  sync.Mutex
	tok azcore.AccessToken
}

// New returns a Client for cfg, or an error naming every problem in cfg.
func New(cfg Config) (*Client, error) {
	var errs []error
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if cfg.Scope == "" {
		cfg.Scope = DefaultScope
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ExportBudget == nil {
		cfg.ExportBudget = defaultExportBudget
	}
	if cfg.PagesBudget == nil {
		cfg.PagesBudget = defaultPagesBudget
	}
	if cfg.Credential == nil {
		errs = append(errs, errors.New("no credential"))
	}
	base, err := url.Parse(strings.TrimRight(cfg.APIURL, "/"))
	if err == nil {
		err = checkScheme(base, cfg.AllowHTTP)
	}
	if err != nil || base.Host == "" {
		errs = append(errs, fmt.Errorf("api url %q: want https://host", Redact(cfg.APIURL)))
	}
	exports, err := newLimiter("export", cfg.ExportBudget, cfg.Logger)
	errs = append(errs, err)
	pages, err := newLimiter("pages", cfg.PagesBudget, cfg.Logger)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("defender: %w", err)
	}

	return &Client{
		base:      base,
		scope:     cfg.Scope,
		cred:      cfg.Credential,
		http:      httpClient(cfg.HTTPClient, cfg.AllowHTTP),
		allowHTTP: cfg.AllowHTTP,
		log:       cfg.Logger,
		retry:     cfg.Retry.withDefaults(),
		exports:   exports,
		pages:     pages,
	}, nil
}

// httpClient returns a copy of c (or a default client) that refuses
// redirects to http URLs unless allowed. The default transport honours the
// proxy environment variables and bounds the wait for response headers.
func httpClient(c *http.Client, allowHTTP bool) *http.Client {
	if c == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = 5 * time.Minute
		c = &http.Client{Transport: t}
	}
	cp := *c
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return checkScheme(req.URL, allowHTTP)
	}
	return &cp
}

// checkScheme refuses any URL but https, and http when allowed.
func checkScheme(u *url.URL, allowHTTP bool) error {
	if u.Scheme == "https" || (allowHTTP && u.Scheme == "http") {
		return nil
	}
	return fmt.Errorf("%w %s: scheme %q not allowed", ErrInsecureURL, Redact(u.Redacted()), u.Scheme)
}

// resolve turns a path below the API root (with or without a query) into
// a URL. Absolute URLs are refused so that the token goes nowhere else.
func (c *Client) resolve(path string) (*url.URL, error) {
	ref, err := url.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("defender: path %q: %w", Redact(path), err)
	}
	if ref.Scheme != "" || ref.Host != "" {
		return nil, fmt.Errorf("defender: path %q: want a path below the api root, not a url", Redact(path))
	}
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + "/" + strings.TrimLeft(ref.Path, "/")
	u.RawPath = ""
	u.RawQuery = ref.RawQuery
	return &u, nil
}

// setQuery sets the parameter key of u to value, leaving the rest of the
// query as written (re-encoding it would turn $top into %24top).
func setQuery(u *url.URL, key, value string) {
	var keep []string
	for _, p := range strings.Split(u.RawQuery, "&") {
		if k, _, _ := strings.Cut(p, "="); p != "" && k != key {
			keep = append(keep, p)
		}
	}
	u.RawQuery = strings.Join(append(keep, key+"="+url.QueryEscape(value)), "&")
}

// token returns a bearer token, reusing the last one while it has more than
// two minutes to live. refresh asks the credential again whatever the cache.
func (c *Client) token(ctx context.Context, refresh bool) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !refresh && c.tok.Token != "" && time.Until(c.tok.ExpiresOn) > 2*time.Minute {
		return c.tok.Token, nil
	}
	tok, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.scope}})
	if err != nil {
		return "", fmt.Errorf("get token for %s: %w", c.scope, RedactError(err))
	}
	c.tok = tok
	return tok.Token, nil
}

// get sends GET u until it succeeds or a retry is not worth it, drawing
// every attempt from lim. On a 200 it passes the body to read; an error from
// read that comes from the connection (a body cut short) is retried like any
// transport error, so read must start afresh on each call.
func (c *Client) get(ctx context.Context, lim *limiter, u *url.URL, read func(io.Reader) error) error {
	refreshed, refreshNow := false, false
	for attempt := 1; ; attempt++ {
		slot, err := lim.wait(ctx)
		if err != nil {
			return c.fail(u, err, attempt)
		}
		o, apiErr := c.attempt(ctx, u, refreshNow, read, func() { lim.settle(slot, time.Now()) })
		if o.err == nil && o.status == http.StatusOK {
			return nil
		}
		o.refreshed = refreshed
		v, wait := c.retry.shouldRetry(ctx, attempt, o)
		if v == giveUp {
			if apiErr != nil {
				return apiErr
			}
			return c.fail(u, o.err, attempt)
		}
		refreshNow = v == refreshToken
		refreshed = refreshed || refreshNow
		c.log.Warn("defender call failed, retrying", "path", u.Path, "attempt", attempt,
			"status", o.status, "error", errText(apiErr, o.err), "wait", wait)
		if err := sleep(ctx, wait); err != nil {
			return c.fail(u, err, attempt)
		}
	}
}

// attempt sends one request. It returns what happened and, for an error
// status, the service's error as an *APIError. answered is called once the
// service has answered, or the request failed.
func (c *Client) attempt(ctx context.Context, u *url.URL, refresh bool, read func(io.Reader) error, answered func()) (outcome, *APIError) {
	defer answered()
	tok, err := c.token(ctx, refresh)
	if err != nil {
		return outcome{err: &permanentError{err}}, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return outcome{err: &permanentError{err}}, nil
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")

	start := time.Now()
	resp, err := c.http.Do(req)
	answered()
	if err != nil {
		return outcome{err: err}, nil
	}
	defer resp.Body.Close()
	c.log.Debug("defender call", "path", u.Path, "status", resp.StatusCode, "elapsed", time.Since(start))

	o := outcome{status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode == http.StatusOK {
		o.err = read(resp.Body)
		return o, nil
	}
	return o, newAPIError(http.MethodGet, u.Path, resp)
}

// fail builds the error for a call that will not be tried again.
func (c *Client) fail(u *url.URL, err error, attempts int) error {
	return fmt.Errorf("defender: GET %s: %w (attempt %d)", u.Path, RedactError(err), attempts)
}

func errText(apiErr *APIError, err error) string {
	if apiErr != nil {
		return apiErr.Error()
	}
	return Redact(err.Error())
}

// permanentError marks an error no retry can cure: a body the client
// cannot parse, or a failure before anything was sent.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// APIError is an error status from the service, with the parts of its
// {"error": {"code", "message", "target"}} body. Target is the request's
// correlation id, worth quoting to Microsoft support.
type APIError struct {
	Method     string
	Path       string // path without its query
	StatusCode int
	Code       string
	Message    string
	Target     string
}

// Error formats the error on one line, secrets redacted, as
// `defender: GET /api/x: 403 Forbidden: code=Forbidden message="..." target=<id>`.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "defender: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		fmt.Fprintf(&b, ": code=%s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, " message=%q", e.Message)
	}
	if e.Target != "" {
		fmt.Fprintf(&b, " target=%s", e.Target)
	}
	return Redact(b.String())
}

// Is lets errors.Is match an APIError to ErrUnauthorized, ErrForbidden and
// ErrThrottled by its status.
func (e *APIError) Is(target error) bool {
	switch e.StatusCode {
	case http.StatusUnauthorized:
		return target == ErrUnauthorized
	case http.StatusForbidden:
		return target == ErrForbidden
	case http.StatusTooManyRequests:
		return target == ErrThrottled
	}
	return false
}

// newAPIError reads the error body of resp, up to 64 KiB. A body that is not
// the service's JSON shape leaves Code and Message empty.
func newAPIError(method, path string, resp *http.Response) *APIError {
	e := &APIError{Method: method, Path: path, StatusCode: resp.StatusCode}
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Target  string `json:"target"`
		} `json:"error"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(raw, &body) == nil {
		e.Code, e.Message, e.Target = body.Error.Code, body.Error.Message, body.Error.Target
	}
	return e
}
