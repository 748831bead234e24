package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mdvm-parquet/mdvm-parquet/pipeline"
	"github.com/mdvm-parquet/mdvm-parquet/schema"
	"github.com/mdvm-parquet/mdvm-parquet/sink"
	"github.com/mdvm-parquet/mdvm-parquet/sink/target"
)

// outputHelp tells where a lake may be written and how Azure Storage is
// reached; both commands that write the lake show it.
const outputHelp = `--output is a folder, or a folder of an Azure Storage container (Blob Storage or ADLS Gen2)
in any of three forms, which all name the same place:
  abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH   as Spark, Synapse and Fabric name it
  https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH
  az://CONTAINER/PATH                                   as DuckDB names it
The account of az:// comes from --storage-endpoint, the connection string or AZURE_STORAGE_ACCOUNT.
The container must exist. Credentials, the first that is set: AZURE_STORAGE_CONNECTION_STRING;
then AZURE_STORAGE_SAS_TOKEN (read, add, create, write, delete and list on the container); then
the Entra ID default chain (environment, workload identity, managed identity, Azure CLI), whose
identity needs Storage Blob Data Contributor. --storage-endpoint replaces the blob service URL,
for an emulator. A refused credential fails the run at once; busy answers, timeouts and cut
connections are retried.`

// lakeFlags are the flags of every command that writes the lake.
func lakeFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "./lake", EnvVars: []string{"MDVM_OUTPUT"}, Usage: "root of the lake: a folder, or abfss://, https:// or az:// for Azure Storage"},
		&cli.StringFlag{Name: "dataset", Value: schema.HardwareFirmware.Name, EnvVars: []string{"MDVM_DATASET"}, Usage: "dataset the export holds; mdvm-parquet datasets lists them"},
		&cli.Int64Flag{Name: "max-rejected", Value: 0, EnvVars: []string{"MDVM_MAX_REJECTED"}, Usage: "unreadable records a run may set aside and still publish"},
		&cli.StringFlag{Name: "compression", Value: "snappy", EnvVars: []string{"MDVM_COMPRESSION"}, Usage: "Parquet compression: snappy, zstd, gzip or none"},
		&cli.StringFlag{Name: "summary-json", EnvVars: []string{"MDVM_SUMMARY_JSON"}, Usage: "also write the run summary as JSON to this file"},
		&cli.StringFlag{Name: "storage-endpoint", EnvVars: []string{"MDVM_STORAGE_ENDPOINT"}, Usage: "blob service URL with the account, replacing the one --output implies; for an emulator (http://127.0.0.1:10000/devstoreaccount1)"},
		&cli.Int64Flag{Name: "memory-budget", Value: 48, EnvVars: []string{"MDVM_MEMORY_BUDGET"}, Usage: "MiB of rows held in memory, all partitions together; more wait in a temporary folder"},
		&cli.Int64Flag{Name: "row-group-size", Value: 24, EnvVars: []string{"MDVM_ROW_GROUP_SIZE"}, Usage: "MiB of rows (in memory) that make a row group"},
	}
}

func convertCommand(env *environment) *cli.Command {
	return &cli.Command{
		Name:      "convert",
		Usage:     "convert export files into the lake",
		ArgsUsage: "PATH...",
		Description: "PATH is an export file (gzip or plain JSON lines), a folder searched recursively, or - for stdin.\n" +
			"The snapshot time comes from --snapshot-time, else an export.json beside the files, else the\n" +
			"YYYY-MM-DD/HHMM/ segment of the file paths (UTC).\n\n" + outputHelp,
		Flags: append(lakeFlags(),
			&cli.TimestampFlag{Name: "snapshot-time", Layout: time.RFC3339, EnvVars: []string{"MDVM_SNAPSHOT_TIME"}, Usage: "the export's generatedTime, RFC 3339"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usagef("convert: no PATH given (a file, a folder, or - for stdin)")
			}
			ds, err := schema.Lookup(c.String("dataset"))
			if err != nil {
				return usageError{err}
			}
			if _, err := schema.Codec(c.String("compression")); err != nil {
				return usageError{err}
			}
			inputs, err := pipeline.Inputs(c.Args().Slice(), env.stdin)
			if err != nil {
				return err
			}
			var snapshot time.Time
			if t := c.Timestamp("snapshot-time"); t != nil {
				snapshot = *t
			} else if snapshot, err = pipeline.SnapshotTime(c.Args().Slice(), inputs); err != nil {
				return err
			}
			bucket, err := openLakeAt(c.Context, c.String("output"), c.String("storage-endpoint"))
			if err != nil {
				return err
			}
			defer bucket.Close()
			return env.convert(c, pipeline.Options{
				Dataset: ds, Inputs: inputs, Bucket: bucket, SnapshotTime: snapshot,
				MaxRejected: c.Int64("max-rejected"), Compression: c.String("compression"),
				MemoryBudget: c.Int64("memory-budget") << 20, RowGroupBytes: c.Int64("row-group-size") << 20,
			})
		},
	}
}

// lakeBlockSize is the first block size of Azure uploads: every partition
// may have a file open at once, each holding up to two blocks (one filling,
// one on its way).
const lakeBlockSize = 512 << 10

// openLakeAt opens the lake's root named by --output: a folder, or an Azure
// Storage location (abfss://, az:// or https://), reached at endpoint when
// that is set (--storage-endpoint).
func openLakeAt(ctx context.Context, output, endpoint string) (sink.Bucket, error) {
	b, err := target.Open(ctx, output, target.Options{StorageEndpoint: endpoint, BlockSize: lakeBlockSize})
	if err != nil {
		if errors.Is(err, target.ErrOutput) {
			return nil, usageError{fmt.Errorf("--output %s: %w", redactURL(output), err)}
		}
		return nil, fmt.Errorf("output %s: %w", redactURL(output), err)
	}
	return b, nil
}

// redactURL hides what a URL may carry of a secret, a password and the
// query (a SAS), so that it can be shown in an error. The user name stays:
// in abfss:// it is the container.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		if i := strings.IndexAny(s, "?#"); i >= 0 {
			return s[:i] + "?REDACTED"
		}
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "REDACTED")
	}
	if u.RawQuery != "" {
		u.RawQuery = "REDACTED"
	}
	u.Fragment = ""
	return u.String()
}

// convert runs a conversion with progress and prints its summary.
func (env *environment) convert(c *cli.Context, opt pipeline.Options) error {
	opt.Version = version
	opt.Logger = env.log
	opt.Progress = &pipeline.Progress{}
	stopBar := env.progress(opt.Progress)
	sum, err := pipeline.Convert(c.Context, opt)
	stopBar()
	if sum != nil {
		if !env.quiet {
			printSummary(env.stdout, sum)
		}
		if path := c.String("summary-json"); path != "" {
			if werr := writeJSON(path, sum); werr != nil {
				err = errors.Join(err, werr)
			}
		}
	}
	if err == nil {
		env.log.Info("done", "run", sum.RunID, "rows", sum.Rows, "rejected", sum.Rejected, "seconds", round(sum.Duration))
	}
	return err
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	return nil
}

func round(x float64) float64 { return float64(int(x*100+0.5)) / 100 }
