package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/mdvm-parquet/mdvm-parquet/pipeline/defender"
)

// ErrLinkExpired is wrapped by the errors of a blob input's Open and Read
// when storage refuses the download link (403 AuthenticationFailed, an
// expired SAS) and no fresh link could be had: there is no Refresher, the
// refresh budget is spent, the refresh failed, or the fresh link was
// refused too. The caller may make one fresh export call and run again.
var ErrLinkExpired = errors.New("download link expired")

// ErrSnapshotChanged is wrapped by a blob input's errors when a fresh export
// no longer lists the blob: the service generated a new snapshot while this
// one was being downloaded. Start the run again from a fresh export.
var ErrSnapshotChanged = errors.New("export snapshot changed during download")

// ErrBlobPending is wrapped by a blob input's errors when the blob still
// answered with an empty body (x-ms-copy-status: pending) after every retry.
// The service is still copying the export; try again later.
var ErrBlobPending = errors.New("blob still being copied")

// Refresher returns fresh download links keyed by blob path (the Name of
// the Input a link makes), typically from one new export call:
//
//	func(ctx context.Context) (map[string]string, error) {
//		e, err := client.ExportFiles(ctx, path, hours)
//		if err != nil {
//			return nil, err
//		}
//		return pipeline.BlobLinks(e.ExportFiles)
//	}
type Refresher func(ctx context.Context) (map[string]string, error)

// DownloadOptions configure BlobInputs. Zero values take the stated
// defaults.
type DownloadOptions struct {
	// HTTPClient sends the requests. Defaults to the storage SDK's client,
	// which honours HTTPS_PROXY, HTTP_PROXY and NO_PROXY.
	HTTPClient *http.Client
	// AllowHTTP lets http links through. Only for tests against local
	// servers. Defaults to false: links must be https.
	AllowHTTP bool
	// Refresher is called when a link has expired, once for all the inputs
	// of one BlobInputs call however many expire together. Defaults to nil:
	// an expired link fails with ErrLinkExpired.
	Refresher Refresher
	// MaxRefreshes bounds the Refresher calls of one BlobInputs call. Each
	// is an export call, drawn from a budget of 20 an hour. Defaults to 1.
	MaxRefreshes int
	// Retries bounds the retries of one request (5xx, 429, network errors)
	// and the resumptions of one read cut short. Defaults to 5.
	Retries int
	// RetryDelay is the first wait between retries; it doubles up to
	// MaxRetryDelay. Default to 1s and 30s.
	RetryDelay, MaxRetryDelay time.Duration
	// PendingRetries bounds the retries of a blob that answers with an
	// empty body while it is still being copied. Defaults to 8.
	PendingRetries int
	// PendingDelay is the first wait before such a retry; it doubles up to
	// a minute. Defaults to 2s.
	PendingDelay time.Duration
	// Logger receives the downloads' logs. Defaults to slog.Default().
	Logger *slog.Logger
}

func (o *DownloadOptions) defaults() {
	if o.MaxRefreshes <= 0 {
		o.MaxRefreshes = 1
	}
	if o.Retries <= 0 {
		o.Retries = 5
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = time.Second
	}
	if o.MaxRetryDelay <= 0 {
		o.MaxRetryDelay = 30 * time.Second
	}
	if o.PendingRetries <= 0 {
		o.PendingRetries = 8
	}
	if o.PendingDelay <= 0 {
		o.PendingDelay = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// BlobInputs returns one Input per download link (a SAS URL from an export
// call), in order of Name. It checks the links and sends nothing.
//
// Each Input's Name is the link's path without its query (no SAS), its
// GroupHint comes from an `_RbacGroupId=N` segment, and its Size is -1: the
// size is known only once the download starts. Open streams the blob with
// the storage SDK: a request failing with 5xx, 429 or a network error is
// retried; a body cut short is resumed at the next byte, from the same
// version of the blob (If-Match on its ETag), so the bytes read are exactly
// the blob's; a 200 with an empty body while the blob is still being copied
// is retried with backoff, never read as an empty file; an expired link is
// replaced through opts.Refresher and the download resumed where it
// stopped. Blobs read to the end before a link expired are not fetched
// again.
//
// BlobInputs opens nothing itself: how many inputs download at once is the
// caller's choice (the read stage opens Options.Readers at a time).
func BlobInputs(links []string, opts DownloadOptions) ([]Input, error) {
	opts.defaults()
	d := &downloads{opts: opts, links: map[string]string{}}
	inputs := make([]Input, 0, len(links))
	var errs []error
	for _, link := range links {
		name, err := blobName(link, opts.AllowHTTP)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := d.links[name]; dup {
			errs = append(errs, fmt.Errorf("download link for %s given twice", name))
			continue
		}
		d.links[name] = link
		inputs = append(inputs, Input{
			Name:      name,
			GroupHint: GroupHint(name),
			Size:      -1,
			Open:      func(ctx context.Context) (io.ReadCloser, error) { return d.open(ctx, name) },
		})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	sort.Slice(inputs, func(i, j int) bool { return inputs[i].Name < inputs[j].Name })
	return inputs, nil
}

// BlobLinks keys download links by blob path, the Name BlobInputs gives
// them, as a Refresher returns them. It checks that each link is a blob
// URL; the inputs check its scheme when they use it.
func BlobLinks(links []string) (map[string]string, error) {
	m := make(map[string]string, len(links))
	for _, link := range links {
		name, err := blobName(link, true)
		if err != nil {
			return nil, err
		}
		m[name] = link
	}
	return m, nil
}

// blobName checks a link and returns its path without the leading slash.
func blobName(link string, allowHTTP bool) (string, error) {
	u, err := url.Parse(link)
	if err != nil || u.Host == "" || strings.Trim(u.Path, "/") == "" {
		return "", fmt.Errorf("download link %q: not a blob url", defender.Redact(link))
	}
	if u.Scheme != "https" && !(allowHTTP && u.Scheme == "http") {
		return "", fmt.Errorf("download link %s: scheme %q not allowed, want https", u.Path, u.Scheme)
	}
	return strings.TrimPrefix(u.Path, "/"), nil
}

// downloads is the state the inputs of one BlobInputs call share: their
// current links and the refreshes made.
type downloads struct {
	opts DownloadOptions

	refreshMu sync.Mutex // one refresh at a time; the others wait and reuse it

	mu        sync.Mutex
	links     map[string]string // name -> current link; "" once a refresh lost it
	gen       int               // bumped by each refresh
	refreshes int
}

// link returns the current link of name and its generation.
func (d *downloads) link(name string) (string, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.links[name], d.gen
}

// refresh replaces the links after the link of generation gen expired. If
// another input already refreshed past gen, it returns at once.
func (d *downloads) refresh(ctx context.Context, gen int) error {
	d.refreshMu.Lock()
	defer d.refreshMu.Unlock()

	d.mu.Lock()
	cur, done := d.gen, d.refreshes
	d.mu.Unlock()
	switch {
	case cur > gen:
		return nil
	case d.opts.Refresher == nil:
		return fmt.Errorf("%w (no way to refresh it)", ErrLinkExpired)
	case done >= d.opts.MaxRefreshes:
		return fmt.Errorf("%w (refreshed %d times already)", ErrLinkExpired, done)
	}

	fresh, err := d.opts.Refresher(ctx)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.refreshes++
	if err != nil {
		return fmt.Errorf("%w: refresh links: %w", ErrLinkExpired, defender.RedactError(err))
	}
	for name := range d.links {
		if link := fresh[name]; link != "" {
			if _, err := blobName(link, d.opts.AllowHTTP); err != nil {
				return fmt.Errorf("%w: refresh links: %w", ErrLinkExpired, err)
			}
		}
	}
	for name := range d.links {
		d.links[name] = fresh[name] // "" when the fresh export lost it
	}
	d.gen++
	d.opts.Logger.Info("download links refreshed", "blobs", len(d.links), "refreshes", d.refreshes)
	return nil
}

// clientOptions are the storage SDK's options for every download.
func (d *downloads) clientOptions() *blob.ClientOptions {
	o := &blob.ClientOptions{}
	o.Retry = policy.RetryOptions{
		MaxRetries:    int32(d.opts.Retries),
		RetryDelay:    d.opts.RetryDelay,
		MaxRetryDelay: d.opts.MaxRetryDelay,
	}
	o.PerCallPolicies = []policy.Policy{identityEncoding{}}
	if d.opts.HTTPClient != nil {
		o.Transport = d.opts.HTTPClient
	}
	return o
}

// identityEncoding asks for the bytes as stored. Without it Go's transport
// would ask for gzip and silently inflate a blob stored with
// Content-Encoding: gzip on a whole-blob read, but not on a ranged resume.
type identityEncoding struct{}

func (identityEncoding) Do(req *policy.Request) (*http.Response, error) {
	req.Raw().Header.Set("Accept-Encoding", "identity")
	return req.Next()
}

// open starts the download of name.
func (d *downloads) open(ctx context.Context, name string) (io.ReadCloser, error) {
	s := &blobStream{d: d, ctx: ctx, name: name, size: -1}
	if err := s.start(); err != nil {
		return nil, err
	}
	d.opts.Logger.Debug("blob download started", "blob", name, "bytes", s.size)
	return s, nil
}

// blobStream reads one blob, resuming at off whenever it has to start over.
type blobStream struct {
	d    *downloads
	ctx  context.Context
	name string

	body    io.ReadCloser // the SDK's retry reader, or nil between requests
	closed  bool
	gen     int          // generation of the link in use
	etag    *azcore.ETag // the version being read, once known
	size    int64        // the blob's bytes, once known; -1 before
	off     int64        // bytes returned so far
	pending int          // empty answers retried so far
}

// start requests the blob from off on, refreshing an expired link and
// waiting out a blob still being copied.
func (s *blobStream) start() error {
	for {
		link, gen := s.d.link(s.name)
		if link == "" {
			return fmt.Errorf("download %s: %w: the fresh export no longer lists it", s.name, ErrSnapshotChanged)
		}
		s.gen = gen
		resp, err := s.request(link)
		if isExpired(err) {
			s.d.opts.Logger.Warn("download link expired", "blob", s.name, "offset", s.off)
			if err := s.d.refresh(s.ctx, gen); err != nil {
				return fmt.Errorf("download %s: %w", s.name, err)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("download %s: %w", s.name, storageError(err))
		}

		n := int64(-1)
		if resp.ContentLength != nil {
			n = *resp.ContentLength
		}
		if n == 0 && s.size != s.off {
			resp.Body.Close()
			if err := s.waitPending(resp.CopyStatus); err != nil {
				return err
			}
			continue
		}
		if s.etag == nil {
			s.etag = resp.ETag
		}
		if s.size < 0 && n >= 0 {
			s.size = s.off + n
		}
		s.body = resp.NewRetryReader(s.ctx, &blob.RetryReaderOptions{
			MaxRetries:   int32(s.d.opts.Retries),
			OnFailedRead: s.logFailedRead,
		})
		return nil
	}
}

// request sends one download request for the bytes from off on, of the
// version first read.
func (s *blobStream) request(link string) (blob.DownloadStreamResponse, error) {
	c, err := blob.NewClientWithNoCredential(link, s.d.clientOptions())
	if err != nil {
		return blob.DownloadStreamResponse{}, err
	}
	o := &blob.DownloadStreamOptions{Range: blob.HTTPRange{Offset: s.off}}
	if s.etag != nil {
		o.AccessConditions = &blob.AccessConditions{
			ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: s.etag},
		}
	}
	return c.DownloadStream(s.ctx, o)
}

// waitPending backs off before asking again for a blob that answered with
// no bytes where bytes were due.
func (s *blobStream) waitPending(status *blob.CopyStatusType) error {
	s.pending++
	copyStatus := "none"
	if status != nil {
		copyStatus = string(*status)
	}
	if s.pending > s.d.opts.PendingRetries {
		return fmt.Errorf("download %s: %w: empty answer %d times (x-ms-copy-status %s)",
			s.name, ErrBlobPending, s.pending, copyStatus)
	}
	wait := s.d.opts.PendingDelay << min(s.pending-1, 10)
	wait = min(wait, time.Minute)
	s.d.opts.Logger.Warn("blob answered empty, retrying", "blob", s.name, "offset", s.off,
		"copy_status", copyStatus, "attempt", s.pending, "wait", wait)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-s.ctx.Done():
		return fmt.Errorf("download %s: %w", s.name, s.ctx.Err())
	}
}

func (s *blobStream) logFailedRead(failures int32, err error, rng blob.HTTPRange, willRetry bool) {
	s.d.opts.Logger.Warn("blob read failed", "blob", s.name, "offset", rng.Offset,
		"failures", failures, "retry", willRetry, "error", defender.Redact(err.Error()))
}

// Read returns the blob's next bytes. A read cut short that the SDK could
// not resume, an expired link or a body that ended early starts a new
// request at the next byte.
func (s *blobStream) Read(p []byte) (int, error) {
	if s.closed {
		return 0, fmt.Errorf("download %s: read after close", s.name)
	}
	for {
		if s.body == nil {
			if err := s.start(); err != nil {
				return 0, err
			}
		}
		n, err := s.body.Read(p)
		s.off += int64(n)
		switch {
		case err == nil:
			return n, nil
		case errors.Is(err, io.EOF) && (s.size < 0 || s.off == s.size):
			return n, io.EOF
		case errors.Is(err, io.EOF), isExpired(err):
			// The body ended before the blob did, or a resumed read
			// found the link expired: start over from here.
			s.body.Close()
			s.body = nil
			if isExpired(err) {
				if rerr := s.d.refresh(s.ctx, s.gen); rerr != nil {
					return n, fmt.Errorf("download %s: %w", s.name, rerr)
				}
			}
			if n > 0 {
				return n, nil
			}
		default:
			return n, fmt.Errorf("download %s at byte %d: %w", s.name, s.off, storageError(err))
		}
	}
}

// Close ends the download. It may be called more than once.
func (s *blobStream) Close() error {
	s.closed = true
	if s.body == nil {
		return nil
	}
	err := s.body.Close()
	s.body = nil
	return err
}

// isExpired reports the answer Azure Storage gives an expired SAS link: 403
// AuthenticationFailed ("Signature not valid in the specified key time
// frame"). Azurite, and some storage front ends, say AuthorizationFailure
// with the same "failed to authenticate" message; an AuthorizationFailure
// for another cause (a firewall rule) says "not authorized" and is not
// taken for expiry.
func isExpired(err error) bool {
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden {
		return false
	}
	return bloberror.HasCode(err, bloberror.AuthenticationFailed) ||
		(bloberror.HasCode(err, bloberror.AuthorizationFailure) &&
			strings.Contains(strings.ToLower(re.Error()), "failed to authenticate"))
}

// storageError shortens the SDK's multi-line errors to their status and
// code, and hides any secret in the others.
func storageError(err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return &statusError{status: re.StatusCode, code: re.ErrorCode, err: err}
	}
	return defender.RedactError(err)
}

// statusError is an error status from Azure Storage.
type statusError struct {
	status int
	code   string
	err    error
}

func (e *statusError) Error() string {
	if e.code == "" {
		return fmt.Sprintf("%d %s", e.status, http.StatusText(e.status))
	}
	return fmt.Sprintf("%d %s", e.status, e.code)
}

func (e *statusError) Unwrap() error { return e.err }
