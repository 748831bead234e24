package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/mdvm-parquet/mdvm-parquet/pipeline"
)

// Exit codes, the only place they are decided.
const (
	exitOK     = 0 // done
	exitFailed = 1 // the run failed; it published nothing, or a delta some event dates
	exitUsage  = 2 // the command line or the inputs named are wrong
)

const exitCodesHelp = `EXIT CODES:
   0  done (also: the export has no snapshot yet)
   1  failed: the lake is as it was, but for the event dates a delta published
      before it failed (the summary names them)
   2  usage: a wrong flag, a missing input, or no way to tell the snapshot time
      (none given, none in the paths, or an export.json that cannot be read)`

// indent indents every line of text as the help's sections are.
func indent(text string) string {
	return "   " + strings.ReplaceAll(text, "\n", "\n   ")
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// usageError marks errors that exit with exitUsage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// run is main without os.Exit, for tests.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	env := &environment{stdin: stdin, stdout: stdout, stderr: stderr, stopProfile: func() {}}
	app := newApp(env)
	err := app.RunContext(ctx, args)
	return exitCode(err, stderr)
}

// exitCode maps an error to the process's exit code, printing it in one line.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "mdvm-parquet: %v\n", err)
	var u usageError
	switch {
	case errors.As(err, &u), errors.Is(err, pipeline.ErrNoInputs), errors.Is(err, pipeline.ErrNoSnapshotTime),
		errors.Is(err, pipeline.ErrBadExportResponse):
		return exitUsage
	case strings.HasPrefix(err.Error(), "flag provided but not defined"),
		strings.HasPrefix(err.Error(), "Required flag"),
		strings.HasPrefix(err.Error(), "invalid value"),
		strings.HasPrefix(err.Error(), "could not parse"),
		strings.HasPrefix(err.Error(), "No help topic"):
		return exitUsage
	}
	return exitFailed
}

// environment is what the commands reach outside themselves.
type environment struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	log            *slog.Logger
	quiet          bool
	stopProfile    func()
}

func newApp(env *environment) *cli.App {
	cli.HelpFlag = &cli.BoolFlag{Name: "help", Aliases: []string{"h"}, Usage: "show help"}
	return &cli.App{
		Name:  "mdvm-parquet",
		Usage: "turn Microsoft Defender Vulnerability Management exports into a Parquet lake",
		Description: "Reads MDVM export assessments (gzip JSON-lines files, or the live API) and writes them\n" +
			"as Hive-partitioned Parquet: OUTPUT/<dataset>/snapshot_date=YYYY-MM-DD/rbac_group_id=N/\n" +
			"(a delta: OUTPUT/<dataset>/event_date=YYYY-MM-DD/rbac_group_id=N/). `datasets` lists the datasets.",
		CustomAppHelpTemplate: cli.AppHelpTemplate + "\nOUTPUT:\n" + indent(outputHelp) + "\n\n" + exitCodesHelp + "\n",
		HideVersion:           true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "log-level", Value: "info", EnvVars: []string{"MDVM_LOG_LEVEL"}, Usage: "log level: debug, info, warn or error"},
			&cli.StringFlag{Name: "log-format", Value: "text", EnvVars: []string{"MDVM_LOG_FORMAT"}, Usage: "log format: text or json"},
			&cli.StringFlag{Name: "cpu-profile", Hidden: true, EnvVars: []string{"MDVM_CPU_PROFILE"}, Usage: "write a CPU profile to this file"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, EnvVars: []string{"MDVM_QUIET"}, Usage: "print only errors: no progress, no summary"},
		},
		Before: func(c *cli.Context) error {
			return env.setup(c)
		},
		After: func(c *cli.Context) error {
			env.stopProfile()
			return nil
		},
		Commands: []*cli.Command{
			convertCommand(env),
			exportCommand(env),
			schemaCommand(env),
			datasetsCommand(env),
			versionCommand(env),
		},
		ExitErrHandler: func(*cli.Context, error) {},
		Writer:         env.stdout,
		ErrWriter:      env.stderr,
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return usageError{err}
		},
	}
}

// setup configures logging from the global flags.
func (env *environment) setup(c *cli.Context) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return usagef("--log-level %q: want debug, info, warn or error", c.String("log-level"))
	}
	env.quiet = c.Bool("quiet")
	if env.quiet && level < slog.LevelError {
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.String("log-format") {
	case "text":
		env.log = slog.New(slog.NewTextHandler(env.stderr, opts))
	case "json":
		env.log = slog.New(slog.NewJSONHandler(env.stderr, opts))
	default:
		return usagef("--log-format %q: want text or json", c.String("log-format"))
	}
	slog.SetDefault(env.log)
	if path := c.String("cpu-profile"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return usagef("--cpu-profile: %v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return usagef("--cpu-profile: %v", err)
		}
		env.stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
	}
	// Bound the heap: buffers are budgeted, and the collector keeps the rest
	// near this.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(192 << 20)
	}
	return nil
}

func versionCommand(env *environment) *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version",
		Action: func(c *cli.Context) error {
			fmt.Fprintf(env.stdout, "mdvm-parquet %s\n", version)
			return nil
		},
	}
}
