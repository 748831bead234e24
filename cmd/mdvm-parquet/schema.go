package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

func schemaCommand(env *environment) *cli.Command {
	return &cli.Command{
		Name:  "schema",
		Usage: "print the output schema: columns, types, and where each comes from",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dataset", Value: schema.HardwareFirmware.Name, EnvVars: []string{"MDVM_DATASET"}, Usage: "dataset to describe"},
		},
		Action: func(c *cli.Context) error {
			ds, err := schema.Lookup(c.String("dataset"))
			if err != nil {
				return usageError{err}
			}
			l := schema.NewLayout(ds, map[string]schema.Kind{"af_<key>": schema.KindText})
			fmt.Fprintf(env.stdout, "%s: %s\n\n", ds.Name, ds.Title)
			fmt.Fprint(env.stdout, l.Describe())
			fmt.Fprintf(env.stdout, "\nPartitions (in the path only): snapshot_date=YYYY-MM-DD/rbac_group_id=N\n"+
				"  rbac_group_id is %s when the group is not an integer (\"Unassigned\", \"None\", missing).\n\n"+
				"Flattened columns: one per key of %s, named %s + the key in snake_case\n"+
				"  (SystemSKU → af_system_sku). Keys that differ only in case or punctuation share a column.\n"+
				"  Type follows the values of the whole snapshot: int64, double, boolean or string;\n"+
				"  integers beyond int64, and keys whose values mix types, are text as written;\n"+
				"  nested values are JSON text. Each file's metadata maps keys to columns (mdvm.flattened).\n",
				"__HIVE_DEFAULT_PARTITION__", ds.FlattenKey, schema.FlattenPrefix)
			return nil
		},
	}
}
