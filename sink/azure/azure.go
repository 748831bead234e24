// Package azure is the sink.Bucket for Azure Blob Storage and ADLS Gen2: a
// container, and a folder in it, reached through the blob endpoint.
//
// Credentials are tried in this order: Config.ConnectionString, then
// Config.SASToken, then the Entra ID default credential chain (environment,
// workload identity, managed identity, Azure CLI...). Config.LoadEnv fills
// them from AZURE_STORAGE_CONNECTION_STRING and AZURE_STORAGE_SAS_TOKEN.
//
// A writer stages blocks, each with its MD5 so storage checks what it
// received, and commits the block list on Close: readers see the whole blob
// or none of it. Move is a server-side copy followed by a delete. Requests
// failing with 408, 429, 500, 502, 503, 504, a timeout or a cut connection
// are retried with backoff; 401 and 403 fail at once with sink.ErrAuth.
// Errors and locations never hold a key, token or SAS signature.
package azure

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/mdvm-parquet/mdvm-parquet/sink"
)

// bucket is a sink.Bucket on a container and prefix.
type bucket struct {
	client    *container.Client
	container string
	prefix    string // "" or "dir/sub/", ready to prepend to a name
	kind      string // credential kind, for error messages
	blockSize int
	log       *slog.Logger
}

// New returns a bucket for cfg. It checks the configuration and builds the
// client, but does not contact storage: a wrong credential shows on the
// first operation, as an error wrapping sink.ErrAuth.
func New(ctx context.Context, cfg Config) (sink.Bucket, error) {
	cfg = cfg.withDefaults()
	if cfg.AuthorityHost == "" {
		cfg.AuthorityHost = strings.TrimSpace(os.Getenv(EnvAuthorityHost))
	}
	if err := CheckContainer(cfg.Container); err != nil {
		return nil, fmt.Errorf("open azure bucket: %w", err)
	}
	if cfg.Prefix != "" {
		if err := sink.CheckName(cfg.Prefix); err != nil {
			return nil, fmt.Errorf("open azure bucket: prefix: %w", err)
		}
	}
	client, kind, err := newContainerClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("open azure bucket %s: %w", cfg.Container, err)
	}

	b := &bucket{
		client:    client,
		container: cfg.Container,
		kind:      kind,
		blockSize: cfg.BlockSize,
		log:       cfg.Logger.With("container", cfg.Container),
	}
	if cfg.Prefix != "" {
		b.prefix = cfg.Prefix + "/"
	}
	return b, nil
}

// CheckContainer applies the service's naming rules for containers: 3 to
// 63 lowercase letters, digits and single dashes, starting and ending with
// a letter or digit. "$root" and "$web" are the two special containers.
func CheckContainer(name string) error {
	if name == "$root" || name == "$web" {
		return nil
	}
	if len(name) < 3 || len(name) > 63 {
		return fmt.Errorf("container name %q: want 3 to 63 characters", name)
	}
	for i, r := range name {
		letter := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		dash := r == '-' && i > 0 && i < len(name)-1 && name[i-1] != '-'
		if !letter && !dash {
			return fmt.Errorf("container name %q: want lowercase letters, digits and single dashes", name)
		}
	}
	return nil
}

// full returns the blob name of an object name.
func (b *bucket) full(name string) string { return b.prefix + name }

func (b *bucket) Create(ctx context.Context, name string) (sink.Writer, error) {
	if err := sink.CheckName(name); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	return newWriter(ctx, b, name), nil
}

func (b *bucket) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := sink.CheckName(name); err != nil {
		return nil, err
	}
	resp, err := b.client.NewBlobClient(b.full(name)).DownloadStream(ctx, nil)
	if err != nil {
		return nil, b.wrap("open", name, err)
	}
	r := &reader{
		b:    b,
		name: name,
		body: resp.NewRetryReader(ctx, &blob.RetryReaderOptions{MaxRetries: 5}),
	}
	if len(resp.ContentMD5) == md5.Size {
		r.want, r.sum = resp.ContentMD5, md5.New()
	}
	return r, nil
}

// reader reads a blob, resuming after a cut connection, and checks the
// blob's MD5 at the end when the blob has one.
type reader struct {
	b    *bucket
	name string
	body io.ReadCloser
	want []byte
	sum  hash.Hash // nil when there is nothing to check
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.body.Read(p)
	if r.sum != nil {
		r.sum.Write(p[:n])
	}
	if err == io.EOF && r.sum != nil && !slices.Equal(r.sum.Sum(nil), r.want) {
		return n, fmt.Errorf("read %s: content does not match its MD5", r.name)
	}
	if err != nil && err != io.EOF {
		err = r.b.wrap("read", r.name, err)
	}
	return n, err
}

func (r *reader) Close() error { return r.body.Close() }

func (b *bucket) List(ctx context.Context, prefix string, fn func(sink.Object) error) error {
	if err := sink.CheckPrefix(prefix); err != nil {
		return err
	}
	objs, err := b.listAll(ctx, prefix)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

// listAll gathers the objects under prefix and sorts them. The service
// lists in name order, but with a hierarchical namespace (ADLS Gen2) it
// walks folder by folder, which puts "a/b" before "a.txt"; sorting here
// keeps the contract's order on both.
func (b *bucket) listAll(ctx context.Context, prefix string) ([]sink.Object, error) {
	pager := b.client.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{
		Prefix:  to.Ptr(b.full(prefix)),
		Include: container.ListBlobsInclude{Metadata: true},
	})
	var objs []sink.Object
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, b.wrap("list", prefix, err)
		}
		for _, item := range page.Segment.BlobItems {
			if o, ok := b.object(item); ok {
				objs = append(objs, o)
			}
		}
	}
	slices.SortFunc(objs, func(x, y sink.Object) int { return strings.Compare(x.Name, y.Name) })
	return objs, nil
}

// object turns a listed blob into an Object. It drops the folder markers
// of a hierarchical namespace and blobs whose names no sink could write.
func (b *bucket) object(item *container.BlobItem) (sink.Object, bool) {
	if item.Name == nil || item.Properties == nil {
		return sink.Object{}, false
	}
	if v := item.Metadata["hdi_isfolder"]; v != nil && strings.EqualFold(*v, "true") {
		return sink.Object{}, false
	}
	name, ok := strings.CutPrefix(*item.Name, b.prefix)
	if !ok || sink.CheckName(name) != nil {
		return sink.Object{}, false
	}
	var size int64
	if item.Properties.ContentLength != nil {
		size = *item.Properties.ContentLength
	}
	return sink.Object{Name: name, Size: size}, true
}

func (b *bucket) Move(ctx context.Context, from, to string) error {
	if err := sink.CheckName(from); err != nil {
		return err
	}
	if err := sink.CheckName(to); err != nil {
		return err
	}
	src := b.client.NewBlobClient(b.full(from))
	if from == to {
		_, err := src.GetProperties(ctx, nil)
		return b.wrap("move", from, err)
	}
	op := "move " + from + " to"
	if err := b.copy(ctx, src, to); err != nil {
		return b.wrap(op, to, err)
	}
	if _, err := src.Delete(ctx, deleteOptions()); err != nil && !isNotFound(err) {
		return b.wrap("move: delete", from, err)
	}
	b.log.Debug("moved", "from", from, "blob", b.full(to))
	return nil
}

// copy copies src over the object to on the server, and waits until the
// copy is done. Within one account the service copies at once, or soon;
// the wait is a poll with growing pauses.
func (b *bucket) copy(ctx context.Context, src *blob.Client, to string) error {
	dst := b.client.NewBlobClient(b.full(to))
	resp, err := dst.StartCopyFromURL(ctx, src.URL(), nil)
	if err != nil {
		return err
	}
	status, desc := resp.CopyStatus, ""
	for pause := 50 * time.Millisecond; status != nil && *status == blob.CopyStatusTypePending; pause = min(2*pause, 2*time.Second) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		props, err := dst.GetProperties(ctx, nil)
		if err != nil {
			return err
		}
		status, desc = props.CopyStatus, deref(props.CopyStatusDescription)
	}
	if status != nil && *status != blob.CopyStatusTypeSuccess {
		return fmt.Errorf("server-side copy ended %s: %s", *status, redact(desc))
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// deleteOptions deletes a blob with its snapshots, which would otherwise
// make the delete fail.
func deleteOptions() *blob.DeleteOptions {
	return &blob.DeleteOptions{DeleteSnapshots: to.Ptr(blob.DeleteSnapshotsOptionTypeInclude)}
}

func (b *bucket) Delete(ctx context.Context, name string) error {
	if err := sink.CheckName(name); err != nil {
		return err
	}
	_, err := b.client.NewBlobClient(b.full(name)).Delete(ctx, deleteOptions())
	if err != nil && !isNotFound(err) {
		return b.wrap("delete", name, err)
	}
	return nil
}

// Location returns "az://CONTAINER/PREFIX/NAME".
func (b *bucket) Location(name string) string {
	return "az://" + b.container + "/" + b.full(name)
}

func (b *bucket) Close() error { return nil }

// errClosed is returned by a writer used after Close or Abort.
var errClosed = errors.New("writer already closed")
