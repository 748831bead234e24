package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
	"github.com/mdvm-parquet/mdvm-parquet/schema/sample"
)

// Exit codes, the only place they are decided.
const (
	exitOK     = 0 // the export was written
	exitFailed = 1 // writing failed
	exitUsage  = 2 // a wrong flag
)

// usageError marks errors that exit with exitUsage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// run is main without os.Exit, for tests.
func run(args []string, stdout, stderr io.Writer) int {
	err := newApp(stdout, stderr).Run(args)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "mdvm-gen: %v\n", err)
	var u usageError
	if errors.As(err, &u) || strings.HasPrefix(err.Error(), "flag provided but not defined") ||
		strings.HasPrefix(err.Error(), "invalid value") {
		return exitUsage
	}
	return exitFailed
}

func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "mdvm-gen",
		Usage:     "write a deterministic sample MDVM export",
		UsageText: "mdvm-gen --out DIR [--records N --files F --groups G --layout by-group|mixed --quirks --seed S]",
		Description: "Writes DIR/<YYYY-MM-DD>/<HHMM>/<Export>/json/OrgId=<uuid>/[_RbacGroupId=<n>/]part-*.c000.json.gz\n" +
			"and DIR/export.json. The same flags always give the same bytes.",
		HideVersion: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Required: true, EnvVars: []string{"MDVM_GEN_OUT"}, Usage: "folder to write the export to"},
			&cli.StringFlag{Name: "dataset", Value: schema.HardwareFirmware.Name, EnvVars: []string{"MDVM_GEN_DATASET"}, Usage: "dataset to imitate: " + strings.Join(sample.Supported(), ", ")},
			&cli.IntFlag{Name: "records", Value: 600, EnvVars: []string{"MDVM_GEN_RECORDS"}, Usage: "records in the export"},
			&cli.IntFlag{Name: "files", Value: 0, EnvVars: []string{"MDVM_GEN_FILES"}, Usage: "part files; by-group raises it to one per group (0: that, or 1 with mixed)"},
			&cli.IntFlag{Name: "groups", Value: 12, EnvVars: []string{"MDVM_GEN_GROUPS"}, Usage: "named RBAC groups"},
			&cli.BoolFlag{Name: "unassigned", Value: true, EnvVars: []string{"MDVM_GEN_UNASSIGNED"}, Usage: "add devices of no group (rbacGroupId 0, \"Unassigned\", \"None\")"},
			&cli.StringFlag{Name: "layout", Value: "by-group", EnvVars: []string{"MDVM_GEN_LAYOUT"}, Usage: "by-group (one group a file, _RbacGroupId= folders) or mixed (groups interleaved)"},
			&cli.StringFlag{Name: "casing", Value: "pascal", EnvVars: []string{"MDVM_GEN_CASING"}, Usage: "record keys: pascal (as files carry them) or camel (as JSON pages do)"},
			&cli.BoolFlag{Name: "quirks", EnvVars: []string{"MDVM_GEN_QUIRKS"}, Usage: "sprinkle in the oddities real exports have (BOM, CRLF, odd additionalFields, ...)"},
			&cli.Int64Flag{Name: "seed", Value: 1, EnvVars: []string{"MDVM_GEN_SEED"}, Usage: "seed of every value drawn"},
			&cli.StringFlag{Name: "generated-time", Value: sample.DefaultGeneratedTime.Format(time.RFC3339), EnvVars: []string{"MDVM_GEN_GENERATED_TIME"}, Usage: "the export's generatedTime, RFC 3339"},
			&cli.StringFlag{Name: "base-url", EnvVars: []string{"MDVM_GEN_BASE_URL"}, Usage: "list files in export.json below this URL instead of as relative paths"},
		},
		Action: func(c *cli.Context) error {
			cfg, err := configFrom(c)
			if err != nil {
				return err
			}
			s, err := sample.Write(c.String("out"), cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote %d records in %d files to %s: %.1f MB JSON, %.1f MB gzip, generatedTime %s\n",
				s.Records, len(s.Files), c.String("out"), float64(s.JSONBytes)/1e6, float64(s.GzipBytes)/1e6,
				s.GeneratedTime.Format(time.RFC3339))
			return nil
		},
		Writer:         stdout,
		ErrWriter:      stderr,
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError{err}
		},
	}
}

// configFrom turns the flags into a sample.Config, reporting every wrong
// flag at once.
func configFrom(c *cli.Context) (sample.Config, error) {
	var errs []error
	cfg := sample.Config{
		Records:    c.Int("records"),
		Files:      c.Int("files"),
		Groups:     c.Int("groups"),
		Unassigned: c.Bool("unassigned"),
		Quirks:     c.Bool("quirks"),
		Seed:       c.Int64("seed"),
		BaseURL:    strings.TrimSuffix(c.String("base-url"), "/"),
	}
	d, err := schema.Lookup(c.String("dataset"))
	if err != nil {
		errs = append(errs, err)
	}
	cfg.Dataset = d

	switch c.String("layout") {
	case "by-group":
		cfg.Layout = sample.ByGroup
	case "mixed":
		cfg.Layout = sample.Mixed
	default:
		errs = append(errs, fmt.Errorf("--layout %q: want by-group or mixed", c.String("layout")))
	}
	switch c.String("casing") {
	case "pascal":
		cfg.Casing = sample.Pascal
	case "camel":
		cfg.Casing = sample.Camel
	default:
		errs = append(errs, fmt.Errorf("--casing %q: want pascal or camel", c.String("casing")))
	}
	t, err := time.Parse(time.RFC3339, c.String("generated-time"))
	if err != nil {
		errs = append(errs, fmt.Errorf("--generated-time: %w", err))
	}
	cfg.GeneratedTime = t
	if cfg.Records <= 0 {
		errs = append(errs, fmt.Errorf("--records %d: want a positive number", cfg.Records))
	}
	if len(errs) > 0 {
		return cfg, usageError{errors.Join(errs...)}
	}
	return cfg, nil
}
