package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mdvm-parquet/mdvm-parquet/pipeline"
	"github.com/mdvm-parquet/mdvm-parquet/pipeline/defender"
	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

const exportDescription = `Pulls the dataset's current snapshot from the Defender API and publishes it into the lake,
downloading, decoding and writing at the same time. --dataset all pulls every snapshot dataset in
turn with one sign-in, sharing the service's call budgets; one that fails does not stop the others.

Deltas: vulnerability_changes reads the changes since --since (an RFC 3339 time, or a duration
back from now such as 24h or 7d; at most 14 days back) from its JSON pages endpoint, and publishes
them by event_date: each event date the run has rows for is replaced whole, so a --since that
starts within a day replaces that day with the changes from --since on only.

Methods: "files" (default) asks the via-files endpoint (…Export) for the snapshot's gzip files and
downloads them from their SAS links; the way for large tenants. "json" reads the JSON pages
endpoint (…ByMachine), following @odata.nextLink; it carries no generatedTime, so the snapshot is
dated by the first page's request (UTC, whole seconds).

API hosts (--api-url): https://api.security.microsoft.com (default), regional
https://{us,eu,uk,au,swa,ina,aea}.api.security.microsoft.com; US Government GCC
https://api-gcc.securitycenter.microsoft.us, GCC High and DoD https://api-gov.securitycenter.microsoft.us
with AZURE_AUTHORITY_HOST=https://login.microsoftonline.us/. See the README.

Sign-in (--credential): "default" tries, in turn, the environment (AZURE_TENANT_ID, AZURE_CLIENT_ID
and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH), workload identity, managed identity and
the Azure CLI. Secrets come from the environment or the host, never from a flag. The application
needs Software.Read.All. HTTPS_PROXY, HTTP_PROXY and NO_PROXY are honoured.`

// exportHTTPClient, when set, sends every request of the export command:
// sign-in, API calls and downloads. Tests set it to trust the fake API's
// certificate; nil leaves each its default client, which honours the proxy
// variables.
var exportHTTPClient *http.Client

// exportBudget, when set, replaces the service's budget of via-files calls,
// so that tests of several exports need not wait minutes.
var exportBudget []defender.Window

func exportCommand(env *environment) *cli.Command {
	return &cli.Command{
		Name:        "export",
		Usage:       "pull the current snapshot from the Defender API into the lake",
		Description: exportDescription + "\n\n" + outputHelp,
		Flags: append(lakeFlags(),
			&cli.StringFlag{Name: "method", Value: pipeline.MethodFiles, EnvVars: []string{"MDVM_METHOD"}, Usage: "files (via SAS links, for large tenants) or json (pages)"},
			&cli.StringFlag{Name: "api-url", Value: defender.DefaultAPIURL, EnvVars: []string{"MDVM_API_URL"}, Usage: "API root; regional and US Government hosts in the README"},
			&cli.StringFlag{Name: "path", EnvVars: []string{"MDVM_API_PATH"}, Usage: "endpoint path below the API root (default: the dataset's for --method)"},
			&cli.StringFlag{Name: "scope", Value: defender.DefaultScope, EnvVars: []string{"MDVM_SCOPE"}, Usage: "token scope"},
			&cli.StringFlag{Name: "credential", Value: defender.CredentialDefault, EnvVars: []string{"MDVM_CREDENTIAL"}, Usage: "sign-in: default, env, workload, managed or cli"},
			&cli.IntFlag{Name: "sas-valid-hours", Value: 6, EnvVars: []string{"MDVM_SAS_VALID_HOURS"}, Usage: "hours the download links stay valid, 1 to 24 (the service may allow only 6)"},
			&cli.IntFlag{Name: "page-size", Value: 50_000, EnvVars: []string{"MDVM_PAGE_SIZE"}, Usage: "records per JSON page, 1 to 200000"},
			&cli.IntFlag{Name: "download-workers", Value: 4, EnvVars: []string{"MDVM_DOWNLOAD_WORKERS"}, Usage: "files downloaded at once, 1 to 64"},
			&cli.BoolFlag{Name: "allow-http", EnvVars: []string{"MDVM_ALLOW_HTTP"}, Usage: "follow http URLs too, for a local emulator only"},
			&cli.StringFlag{Name: "keep-raw", EnvVars: []string{"MDVM_KEEP_RAW"}, Usage: "also keep the export as received in `DIR` (one folder per snapshot), for convert to replay"},
			&cli.StringFlag{Name: "since", EnvVars: []string{"MDVM_SINCE"}, Usage: "for a delta (vulnerability_changes): changes since this RFC 3339 time or duration back (24h, 7d), at most 14 days"},
		),
		Action: func(c *cli.Context) error {
			opt, datasets, err := exportOptions(c, env)
			if err != nil {
				return err
			}
			bucket, err := openLakeAt(c.Context, c.String("output"), c.String("storage-endpoint"))
			if err != nil {
				return err
			}
			defer bucket.Close()
			opt.Convert.Bucket = bucket
			if len(datasets) > 1 {
				return env.exportEach(c, opt, datasets)
			}
			return env.export(c, opt)
		},
	}
}

// exportOptions checks the flags, reporting every problem at once, and
// signs in. It returns the options of the first dataset --dataset names
// and every dataset it names: one, or with "all" every snapshot dataset.
func exportOptions(c *cli.Context, env *environment) (pipeline.ExportOptions, []*schema.Dataset, error) {
	var errs []error
	datasets, err := exportDatasets(c.String("dataset"))
	errs = append(errs, err)
	if _, err := schema.Codec(c.String("compression")); err != nil {
		errs = append(errs, err)
	}
	method := c.String("method")
	if method != pipeline.MethodFiles && method != pipeline.MethodJSON {
		errs = append(errs, fmt.Errorf("--method %q: want files or json", method))
	}
	errs = append(errs,
		inRange("--sas-valid-hours", c.Int("sas-valid-hours"), 1, 24),
		inRange("--page-size", c.Int("page-size"), 1, defender.MaxPageSize),
		inRange("--download-workers", c.Int("download-workers"), 1, 64))
	var ds *schema.Dataset
	var since time.Time
	if len(datasets) > 0 {
		ds = datasets[0]
		if !c.IsSet("method") && ds.FilesPath == "" {
			method = pipeline.MethodJSON // the only way there is
		}
		var serr error
		since, serr = checkDelta(c, ds, method, len(datasets) > 1, time.Now())
		errs = append(errs, serr)
	}
	if err := errors.Join(errs...); err != nil {
		return pipeline.ExportOptions{}, nil, usageError{err}
	}

	client, err := apiClient(c, env)
	if err != nil {
		return pipeline.ExportOptions{}, nil, err
	}
	return pipeline.ExportOptions{
		Client: client, Method: method, Path: c.String("path"), Since: since,
		SASValidHours: c.Int("sas-valid-hours"), PageSize: c.Int("page-size"),
		DownloadWorkers: c.Int("download-workers"), KeepRaw: c.String("keep-raw"),
		Download: pipeline.DownloadOptions{
			HTTPClient: exportHTTPClient, AllowHTTP: c.Bool("allow-http"), Logger: env.log,
		},
		Convert: pipeline.Options{
			Dataset: ds, MaxRejected: c.Int64("max-rejected"), Compression: c.String("compression"),
			MemoryBudget: c.Int64("memory-budget") << 20, RowGroupBytes: c.Int64("row-group-size") << 20,
		},
	}, datasets, nil
}

// exportDatasets returns the datasets --dataset names: one, or for "all"
// every snapshot dataset (a delta needs a start of its own).
func exportDatasets(name string) ([]*schema.Dataset, error) {
	if name != "all" {
		ds, err := schema.Lookup(name)
		if err != nil {
			return nil, err
		}
		return []*schema.Dataset{ds}, nil
	}
	var out []*schema.Dataset
	for _, ds := range schema.Datasets() {
		if !ds.IsDelta() {
			out = append(out, ds)
		}
	}
	return out, nil
}

// checkDelta checks --path, --method and --since against the dataset and
// returns the start of a delta, or zero for a snapshot.
func checkDelta(c *cli.Context, ds *schema.Dataset, method string, all bool, now time.Time) (time.Time, error) {
	path, since := c.String("path"), c.String("since")
	switch {
	case all && (path != "" || since != ""):
		return time.Time{}, errors.New("--dataset all takes neither --path nor --since: export a delta or a path on its own")
	case !ds.IsDelta() && since != "":
		return time.Time{}, fmt.Errorf("--since: %s is a snapshot; only a delta (%s) reads changes since a time", ds.Name, deltaNames())
	case ds.IsDelta() && since == "":
		return time.Time{}, fmt.Errorf("--dataset %s needs --since: an RFC 3339 time or a duration back from now (24h, 7d), at most %s",
			ds.Name, days(ds.MaxSince))
	case method == pipeline.MethodFiles && ds.FilesPath == "" && path == "":
		return time.Time{}, fmt.Errorf("--method files: %s has no via-files endpoint; use --method json", ds.Name)
	case !ds.IsDelta():
		return time.Time{}, nil
	}
	return parseSince(since, now, ds.MaxSince)
}

// parseSince reads --since: an RFC 3339 time, or a duration back from now
// ("24h", "90m", or whole days: "7d"). The start must be in the past and at
// most max back.
func parseSince(s string, now time.Time, max time.Duration) (time.Time, error) {
	var from time.Time
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		from = t
	} else {
		d, derr := time.ParseDuration(s)
		if n, ok := strings.CutSuffix(s, "d"); ok && derr != nil {
			days, err := strconv.Atoi(n)
			d, derr = time.Duration(days)*24*time.Hour, err
		}
		if derr != nil || d <= 0 {
			return time.Time{}, fmt.Errorf("--since %q: want an RFC 3339 time (2026-11-29T00:00:00Z) or a positive duration (24h, 7d)", s)
		}
		from = now.Add(-d)
	}
	switch {
	case from.After(now):
		return time.Time{}, fmt.Errorf("--since %q: in the future", s)
	case now.Sub(from) > max:
		return time.Time{}, fmt.Errorf("--since %q: %s back, more than the service's %s", s,
			now.Sub(from).Round(time.Minute), days(max))
	}
	return from, nil
}

func days(d time.Duration) string { return strconv.Itoa(int(d.Hours()/24)) + " days" }

// deltaNames lists the datasets read as a delta.
func deltaNames() string {
	var names []string
	for _, ds := range schema.Datasets() {
		if ds.IsDelta() {
			names = append(names, ds.Name)
		}
	}
	return strings.Join(names, ", ")
}

func inRange(flag string, v, lo, hi int) error {
	if v < lo || v > hi {
		return fmt.Errorf("%s %d: want %d to %d", flag, v, lo, hi)
	}
	return nil
}

// apiClient makes the credential and the API client the flags describe.
func apiClient(c *cli.Context, env *environment) (*defender.Client, error) {
	var copts []defender.CredentialOption
	if exportHTTPClient != nil {
		copts = append(copts, defender.WithTransport(exportHTTPClient))
	}
	cred, err := defender.Credential(c.String("credential"), copts...)
	if err != nil {
		return nil, usageError{err}
	}
	client, err := defender.New(defender.Config{
		APIURL: c.String("api-url"), Scope: c.String("scope"), Credential: cred,
		HTTPClient: exportHTTPClient, AllowHTTP: c.Bool("allow-http"), Logger: env.log,
		ExportBudget: exportBudget,
	})
	if err != nil {
		return nil, usageError{err}
	}
	return client, nil
}

// export runs one export and writes its summary where --summary-json asks.
func (env *environment) export(c *cli.Context, opt pipeline.ExportOptions) error {
	sum, err := env.exportRun(c.Context, opt)
	if path := c.String("summary-json"); path != "" && sum != nil {
		if werr := writeJSON(path, sum); werr != nil {
			err = errors.Join(err, werr)
		}
	}
	return err
}

// exportEach exports each dataset in turn with one client, so that one
// token and the service's call budgets are shared. A dataset that fails is
// reported and the others still run; --summary-json gets the summaries as
// a list.
func (env *environment) exportEach(c *cli.Context, base pipeline.ExportOptions, datasets []*schema.Dataset) error {
	var errs []error
	sums := []*pipeline.Summary{}
	for _, ds := range datasets {
		if c.Context.Err() != nil {
			errs = append(errs, c.Context.Err())
			break
		}
		opt := base
		opt.Convert.Dataset, opt.Path = ds, ""
		if base.KeepRaw != "" {
			opt.KeepRaw = filepath.Join(base.KeepRaw, ds.Name)
		}
		sum, err := env.exportRun(c.Context, opt)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ds.Name, err))
		}
		if sum != nil {
			sums = append(sums, sum)
		}
	}
	if path := c.String("summary-json"); path != "" {
		if err := writeJSON(path, sums); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// exportRun runs an export with progress and prints its summary. An export
// with no snapshot yet is said so and succeeds.
func (env *environment) exportRun(ctx context.Context, opt pipeline.ExportOptions) (*pipeline.Summary, error) {
	opt.Convert.Version = version
	opt.Convert.Logger = env.log
	opt.Convert.Progress = &pipeline.Progress{}
	stopBar := env.progress(opt.Convert.Progress)
	sum, err := pipeline.Export(ctx, opt)
	stopBar()

	noSnapshot := errors.Is(err, pipeline.ErrNoSnapshot)
	if noSnapshot {
		err = nil
		if !env.quiet {
			fmt.Fprintf(env.stdout, "%s: the service has no snapshot yet (the export lists no files); nothing written\n", sum.Dataset)
		}
	} else if sum != nil && !env.quiet {
		printSummary(env.stdout, sum)
	}
	if err == nil && !noSnapshot {
		env.log.Info("done", "dataset", sum.Dataset, "run", sum.RunID, "rows", sum.Rows, "rejected", sum.Rejected, "seconds", round(sum.Duration))
	}
	return sum, err
}
