package main

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/urfave/cli/v2"

	"github.com/mdvm-parquet/mdvm-parquet/pipeline"
	"github.com/mdvm-parquet/mdvm-parquet/pipeline/defender"
	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

const exportDescription = `Pulls the dataset's current snapshot from the Defender API and publishes it into the lake,
downloading, decoding and writing at the same time.

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
		),
		Action: func(c *cli.Context) error {
			opt, err := exportOptions(c, env)
			if err != nil {
				return err
			}
			bucket, err := openLakeAt(c.Context, c.String("output"), c.String("storage-endpoint"))
			if err != nil {
				return err
			}
			defer bucket.Close()
			opt.Convert.Bucket = bucket
			return env.export(c, opt)
		},
	}
}

// exportOptions checks the flags, reporting every problem at once, and
// signs in.
func exportOptions(c *cli.Context, env *environment) (pipeline.ExportOptions, error) {
	var errs []error
	ds, err := schema.Lookup(c.String("dataset"))
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
	if err := errors.Join(errs...); err != nil {
		return pipeline.ExportOptions{}, usageError{err}
	}

	client, err := apiClient(c, env)
	if err != nil {
		return pipeline.ExportOptions{}, err
	}
	return pipeline.ExportOptions{
		Client: client, Method: method, Path: c.String("path"),
		SASValidHours: c.Int("sas-valid-hours"), PageSize: c.Int("page-size"),
		DownloadWorkers: c.Int("download-workers"), KeepRaw: c.String("keep-raw"),
		Download: pipeline.DownloadOptions{
			HTTPClient: exportHTTPClient, AllowHTTP: c.Bool("allow-http"), Logger: env.log,
		},
		Convert: pipeline.Options{
			Dataset: ds, MaxRejected: c.Int64("max-rejected"), Compression: c.String("compression"),
			MemoryBudget: c.Int64("memory-budget") << 20, RowGroupBytes: c.Int64("row-group-size") << 20,
		},
	}, nil
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
	})
	if err != nil {
		return nil, usageError{err}
	}
	return client, nil
}

// export runs an export with progress and prints its summary. An export
// with no snapshot yet is said so and succeeds.
func (env *environment) export(c *cli.Context, opt pipeline.ExportOptions) error {
	opt.Convert.Version = version
	opt.Convert.Logger = env.log
	opt.Convert.Progress = &pipeline.Progress{}
	stopBar := env.progress(opt.Convert.Progress)
	sum, err := pipeline.Export(c.Context, opt)
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
	if path := c.String("summary-json"); path != "" && sum != nil {
		if werr := writeJSON(path, sum); werr != nil {
			err = errors.Join(err, werr)
		}
	}
	if err == nil && !noSnapshot {
		env.log.Info("done", "run", sum.RunID, "rows", sum.Rows, "rejected", sum.Rejected, "seconds", round(sum.Duration))
	}
	return err
}
