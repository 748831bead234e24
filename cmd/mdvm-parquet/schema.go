package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

func schemaCommand(env *environment) *cli.Command {
	return &cli.Command{
		Name:  "schema",
		Usage: "print the output schema: columns, types, and where each comes from",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dataset", Value: schema.HardwareFirmware.Name, EnvVars: []string{"MDVM_DATASET"}, Usage: "dataset to describe; mdvm-parquet datasets lists them"},
		},
		Action: func(c *cli.Context) error {
			ds, err := schema.Lookup(c.String("dataset"))
			if err != nil {
				return usageError{err}
			}
			describe(env.stdout, ds)
			return nil
		},
	}
}

// describe prints a dataset's columns and how its values are read.
func describe(w io.Writer, ds *schema.Dataset) {
	flattened := map[string]schema.Kind{}
	if ds.FlattenKey != "" {
		flattened["af_<key>"] = schema.KindText
	}
	fmt.Fprintf(w, "%s: %s\n\n", ds.Name, ds.Title)
	fmt.Fprint(w, schema.NewLayout(ds, flattened).Describe())

	date := "snapshot_date=YYYY-MM-DD"
	if ds.Partitioning == schema.ByEvent {
		date = "event_date=YYYY-MM-DD"
	}
	fmt.Fprintf(w, "\nPartitions (in the path only): %s/rbac_group_id=N\n"+
		"  rbac_group_id is %s when the group is not an integer (\"Unassigned\", \"None\", missing).\n",
		date, "__HIVE_DEFAULT_PARTITION__")
	if ds.Partitioning == schema.ByEvent {
		fmt.Fprintf(w, "  event_date is the UTC day of %s; a run replaces each event date it has rows for.\n", ds.EventTimeKey)
	}
	if ds.FlattenKey != "" {
		fmt.Fprintf(w, "\nFlattened columns: one per key of %s, named %s + the key in snake_case\n"+
			"  (SystemSKU → af_system_sku). Keys that differ only in case or punctuation share a column.\n"+
			"  Type follows the values of the whole snapshot: int64, double, boolean or string;\n"+
			"  integers beyond int64, and keys whose values mix types, are text as written;\n"+
			"  nested values are JSON text. Each file's metadata maps keys to columns (mdvm.flattened).\n",
			ds.FlattenKey, schema.FlattenPrefix)
	}
	describeTypes(w, ds)
	if ds.IsDelta() {
		fmt.Fprintf(w, "\nDelta: `export --dataset %s --since TIME` reads the changes since TIME (RFC 3339, or a\n"+
			"  duration back from now such as 24h or 7d), at most %d days back.\n", ds.Name, int(ds.MaxSince.Hours()/24))
	}
}

// describeTypes says how typed and aliased fields are read, for datasets
// that have any.
func describeTypes(w io.Writer, ds *schema.Dataset) {
	typed := false
	var aliases []string
	for _, f := range ds.Fields {
		if f.Column != "" && f.Type != schema.String {
			typed = true
		}
		if len(f.Aliases) > 0 {
			aliases = append(aliases, f.Column+" ← "+f.Key+" or "+strings.Join(f.Aliases, " or "))
		}
	}
	if typed {
		fmt.Fprint(w, "\nTyped columns: timestamp is microseconds, UTC, read from text such as 2021-01-11 09:47:58.854,\n"+
			"  seven fraction digits, or ISO 8601 with Z or an offset; a time without a zone is UTC.\n"+
			"  list<string> is a LIST of strings; an empty array stays an empty list. A value that does not\n"+
			"  convert is NULL, counted (unconverted_values in the summary) and kept as received in\n"+
			"  extra_fields under its key.\n")
	}
	if len(aliases) > 0 {
		fmt.Fprintf(w, "\nKeys read under either name (any letter case):\n  %s\n", strings.Join(aliases, "\n  "))
	}
}

func datasetsCommand(env *environment) *cli.Command {
	return &cli.Command{
		Name:  "datasets",
		Usage: "list the datasets: name, what a row is, and their API endpoints",
		Action: func(c *cli.Context) error {
			for _, ds := range schema.Datasets() {
				files := ds.FilesPath
				if files == "" {
					files = "(none: JSON pages only)"
				}
				fmt.Fprintf(env.stdout, "%s\n  %s\n  json pages  %s\n  via files   %s\n", ds.Name, ds.Title, ds.JSONPath, files)
				if ds.IsDelta() {
					fmt.Fprintf(env.stdout, "  delta       --since, at most %d days back (%s); partitioned by event_date\n",
						int(ds.MaxSince.Hours()/24), ds.SinceParam)
				}
			}
			return nil
		},
	}
}
