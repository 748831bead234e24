package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/mdvm-parquet/mdvm-parquet/pipeline/defender"
	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

// The ways Export pulls a snapshot from the service.
const (
	// MethodFiles calls the via-files endpoint and downloads the gzip files
	// its links name. The way for large tenants.
	MethodFiles = "files"
	// MethodJSON reads the JSON pages endpoint, following @odata.nextLink
	// to the last page. Meant for tenants under about 100,000 devices.
	MethodJSON = "json"
)

// ErrNoSnapshot is returned by Export, with a Summary of nothing, when the
// via-files call lists no files: the service has not generated a snapshot
// yet. Nothing was written; the caller should say so and succeed.
var ErrNoSnapshot = errors.New("no snapshot yet: the export lists no files")

// ExportOptions configure Export. Zero values take the stated defaults.
type ExportOptions struct {
	// Client calls the service; required.
	Client *defender.Client
	// Method is MethodFiles or MethodJSON. Defaults to MethodFiles, or
	// MethodJSON for a dataset that has no via-files endpoint.
	Method string
	// Path is the endpoint below the API root, a query allowed. Defaults to
	// the dataset's FilesPath or JSONPath, as Method asks.
	Path string
	// Since is where a delta (a dataset whose IsDelta) starts, at most its
	// MaxSince back; required for one, refused for a snapshot. It is sent
	// as the dataset's SinceParam, in RFC 3339, UTC.
	Since time.Time
	// SASValidHours is how long the download links stay valid, for
	// MethodFiles. Defaults to 0, the service's default.
	SASValidHours int
	// PageSize is the records of one JSON page, for MethodJSON, at most
	// defender.MaxPageSize. Defaults to 0, the service's default (50,000).
	PageSize int
	// DownloadWorkers is how many files download at once (it sets
	// Convert.Readers). Defaults to 4.
	DownloadWorkers int
	// KeepRaw, when set, is a local folder where the export is also kept as
	// received, with its response as ExportResponseFile, so that Convert
	// over the folder replays the same snapshot. One folder per snapshot.
	// Defaults to "": nothing is kept.
	KeepRaw string
	// Download configures the blob downloads. Its Refresher is set by
	// Export; its Logger defaults to Convert.Logger.
	Download DownloadOptions
	// Convert configures the conversion: Dataset and Bucket are required;
	// Inputs and SnapshotTime are set by Export.
	Convert Options
}

// check fills in the defaults and reports every problem at once.
func (o *ExportOptions) check() error {
	var errs []error
	if o.Client == nil {
		errs = append(errs, errors.New("no api client"))
	}
	if o.Convert.Dataset == nil {
		return errors.Join(append(errs, errors.New("no dataset"))...)
	}
	if o.Convert.Bucket == nil {
		errs = append(errs, errors.New("no output bucket"))
	}
	ds := o.Convert.Dataset
	if o.Method == "" && ds.FilesPath == "" {
		o.Method = MethodJSON
	}
	switch o.Method {
	case "", MethodFiles:
		o.Method = MethodFiles
		if o.Path == "" {
			o.Path = ds.FilesPath
		}
	case MethodJSON:
		if o.Path == "" {
			o.Path = ds.JSONPath
		}
	default:
		errs = append(errs, fmt.Errorf("method %q: want %s or %s", o.Method, MethodFiles, MethodJSON))
	}
	if o.Path == "" && o.Method == MethodFiles {
		errs = append(errs, fmt.Errorf("dataset %s has no via-files endpoint: use the json method", ds.Name))
	} else if o.Path == "" {
		errs = append(errs, fmt.Errorf("dataset %s has no JSON pages endpoint: give its path", ds.Name))
	}
	errs = append(errs, o.since(ds))
	if o.PageSize < 0 || o.PageSize > defender.MaxPageSize {
		errs = append(errs, fmt.Errorf("page size %d: want 1 to %d", o.PageSize, defender.MaxPageSize))
	}
	if o.DownloadWorkers <= 0 {
		o.DownloadWorkers = 4
	}
	o.Convert.Readers = o.DownloadWorkers
	o.Convert.defaults()
	if o.Download.Logger == nil {
		o.Download.Logger = o.Convert.Logger
	}
	return errors.Join(errs...)
}

// sinceGrace is how much further back than MaxSince a start may lie: the
// time between a caller's "14 days back" and this check.
const sinceGrace = time.Minute

// since checks Since against the dataset and adds it to the path.
func (o *ExportOptions) since(ds *schema.Dataset) error {
	switch {
	case !ds.IsDelta() && !o.Since.IsZero():
		return fmt.Errorf("dataset %s is a snapshot: it takes no start time", ds.Name)
	case !ds.IsDelta():
		return nil
	case o.Since.IsZero():
		return fmt.Errorf("dataset %s is a delta: give its start time", ds.Name)
	case time.Since(o.Since) > ds.MaxSince+sinceGrace || time.Until(o.Since) > 0:
		return fmt.Errorf("start time %s: want the past %s", o.Since.UTC().Format(time.RFC3339), ds.MaxSince)
	}
	sep := "?"
	if strings.Contains(o.Path, "?") {
		sep = "&"
	}
	o.Path += sep + ds.SinceParam + "=" + url.QueryEscape(o.Since.UTC().Format(time.RFC3339))
	return nil
}

// Export pulls the dataset's current snapshot from the service and
// converts it as Convert does, publishing each date into the lake all at once.
//
// With MethodFiles, one export call lists the snapshot's files; each is
// downloaded while earlier ones are decoded and written, DownloadWorkers at
// a time. Downloads resume a body cut short, wait out a blob still being
// copied, and on an expired link make one fresh export call, after which
// only the unfinished blobs are fetched again. The snapshot time is the
// export's generatedTime. An empty file list returns ErrNoSnapshot.
//
// With MethodJSON, the pages are read in order into one input named after
// the endpoint ("HardwareFirmwareInventoryByMachine"), one record a line,
// so that a row's source_line is its record's position in the export. The
// pages carry no generatedTime: the snapshot time is when the first page
// was requested, in whole seconds, UTC.
//
// Inputs are named by their path below the blob container, which is also
// where KeepRaw keeps them. On error nothing is published, but for the
// event dates of a delta published before it (see Convert).
func Export(ctx context.Context, opt ExportOptions) (*Summary, error) {
	if err := opt.check(); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if opt.Method == MethodJSON {
		return exportPages(ctx, opt)
	}
	return exportFiles(ctx, opt)
}

// exportFiles runs the via-files method.
func exportFiles(ctx context.Context, opt ExportOptions) (*Summary, error) {
	ds, log := opt.Convert.Dataset, opt.Convert.Logger
	ex, err := opt.Client.ExportFiles(ctx, opt.Path, opt.SASValidHours)
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", ds.Name, err)
	}
	if len(ex.ExportFiles) == 0 {
		log.Info("no snapshot yet: nothing written", "dataset", ds.Name, "path", opt.Path)
		return &Summary{Dataset: ds.Name, SnapshotTime: ex.GeneratedTime, Output: opt.Convert.Bucket.Location(""),
			Inputs: []InputSummary{}, PublishedDates: []string{}, UnpublishedDates: []string{}}, ErrNoSnapshot
	}

	opt.Download.Refresher = refresher(opt, ex.GeneratedTime)
	blobs, err := BlobInputs(ex.ExportFiles, opt.Download)
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", ds.Name, err)
	}
	inputs, err := belowContainer(blobs, ex.ExportFiles)
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", ds.Name, err)
	}
	snapshot := ex.GeneratedTime
	if snapshot.IsZero() {
		if snapshot, err = SnapshotTime(nil, inputs); err != nil {
			return nil, fmt.Errorf("export %s: no generatedTime: %w", ds.Name, err)
		}
	}

	var raw *rawZone
	if opt.KeepRaw != "" {
		rels := make([]string, len(inputs))
		for i, in := range inputs {
			rels[i] = in.Name
		}
		if raw, err = openRawZone(opt.KeepRaw, snapshot, rels, log); err != nil {
			return nil, err
		}
		for i := range inputs {
			inputs[i] = raw.tee(inputs[i], rels[i], false)
		}
	}
	opt.Convert.Inputs, opt.Convert.SnapshotTime = inputs, snapshot
	sum, err := Convert(ctx, opt.Convert)
	if raw != nil {
		err = errors.Join(err, raw.finish(ex.Redacted()))
	}
	return sum, err
}

// refresher makes one fresh export call for new links, and refuses them if
// the service generated another snapshot meanwhile.
func refresher(opt ExportOptions, generated time.Time) Refresher {
	return func(ctx context.Context) (map[string]string, error) {
		ex, err := opt.Client.ExportFiles(ctx, opt.Path, opt.SASValidHours)
		if err != nil {
			return nil, err
		}
		if !ex.GeneratedTime.Equal(generated) {
			return nil, fmt.Errorf("%w: generated %s, was %s", ErrSnapshotChanged,
				ex.GeneratedTime.Format(time.RFC3339), generated.Format(time.RFC3339))
		}
		return BlobLinks(ex.ExportFiles)
	}
}

// belowContainer renames blob inputs to their path below the blob
// container, dropping the account and container: the name the service's
// folders give a file, and the one it has once kept and converted from
// disk. links are the links the inputs were made from.
func belowContainer(inputs []Input, links []string) ([]Input, error) {
	names := make(map[string]string, len(links))
	for _, link := range links {
		u, err := url.Parse(link)
		if err != nil {
			return nil, fmt.Errorf("download link %q: %w", defender.Redact(link), err)
		}
		parts, err := blob.ParseURL(link)
		if err != nil || parts.BlobName == "" {
			return nil, fmt.Errorf("download link %s: no blob below a container", u.Path)
		}
		names[strings.TrimPrefix(u.Path, "/")] = parts.BlobName
	}
	seen := make(map[string]bool, len(inputs))
	out := make([]Input, len(inputs))
	for i, in := range inputs {
		name := names[in.Name]
		if name == "" || seen[name] {
			return nil, fmt.Errorf("download link %s: blob %q listed twice or not at all", in.Name, name)
		}
		seen[name] = true
		in.Name = name
		out[i] = in
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
