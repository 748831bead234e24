package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver

	"github.com/mdvm-parquet/mdvm-parquet/schema"
	"github.com/mdvm-parquet/mdvm-parquet/schema/sample"
)

// duckdbJob is the DuckDB side's task: the same files, the same columns and
// the same partition folders as `mdvm-parquet convert`.
type duckdbJob struct {
	Dataset     *schema.Dataset
	Paths       []string
	Output      string
	Snapshot    time.Time
	Threads     int
	MemoryLimit string // DuckDB's memory_limit; "" keeps its default
}

// duckdbResult is what the DuckDB child prints on stdout.
type duckdbResult struct {
	Rows int64 `json:"rows"`
}

// runDuckDB runs job in this process and prints the rows written to w.
func runDuckDB(ctx context.Context, job duckdbJob, w io.Writer) error {
	stmts, err := duckdbStatements(job)
	if err != nil {
		return err
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return fmt.Errorf("open duckdb: %w", err)
	}
	defer db.Close()
	// One connection: SET applies to the connection it runs on.
	db.SetMaxOpenConns(1)

	last := len(stmts) - 1
	for _, s := range stmts[:last] {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("duckdb %q: %w", s, err)
		}
	}
	var res duckdbResult
	if err := db.QueryRowContext(ctx, stmts[last]).Scan(&res.Rows); err != nil {
		return fmt.Errorf("duckdb copy to %s: %w", job.Output, err)
	}
	return json.NewEncoder(w).Encode(res)
}

// duckdbStatements returns the settings and the COPY statement of job.
func duckdbStatements(job duckdbJob) ([]string, error) {
	keys, err := sample.FlattenKeys(job.Dataset)
	if err != nil {
		return nil, err
	}
	stmts := []string{
		fmt.Sprintf("SET threads = %d", job.Threads),
		// Row order is of no use to a partitioned lake; keeping it costs
		// DuckDB memory, and our converter does not keep it either.
		"SET preserve_insertion_order = false",
	}
	if job.MemoryLimit != "" {
		stmts = append(stmts, "SET memory_limit = "+quote(job.MemoryLimit))
	}

	var cols, sel []string
	for _, f := range job.Dataset.Fields {
		key := pascal(f.Key)
		cols = append(cols, quote(key)+": 'VARCHAR'")
		if f.Column != "" {
			sel = append(sel, fmt.Sprintf("%s AS %s", ident(key), f.Column))
		}
	}
	date := job.Snapshot.UTC()
	sel = append(sel, fmt.Sprintf("TIMESTAMP %s AS %s", quote(date.Format("2006-01-02 15:04:05.999999")), schema.SnapshotTimeColumn))

	var shape []string
	for _, k := range keys {
		shape = append(shape, fmt.Sprintf("%q:%q", k.Name, duckdbType(k.Type)))
		sel = append(sel, fmt.Sprintf("af.%s AS %s", ident(k.Name), schema.ColumnName(k.Name)))
	}
	sel = append(sel,
		"filename AS "+schema.SourceFileColumn,
		fmt.Sprintf("DATE %s AS snapshot_date", quote(date.Format("2006-01-02"))),
		fmt.Sprintf("TRY_CAST(%s AS BIGINT) AS rbac_group_id", ident(pascal(job.Dataset.GroupIDKey))),
	)

	files := make([]string, len(job.Paths))
	for i, p := range job.Paths {
		files[i] = quote(p)
	}
	read := fmt.Sprintf("read_json([%s], format = 'newline_delimited', compression = 'gzip', filename = true, columns = {%s})",
		strings.Join(files, ", "), strings.Join(cols, ", "))
	inner := fmt.Sprintf("SELECT *, json_transform(%s, %s) AS af FROM %s",
		ident(pascal(job.Dataset.FlattenKey)), quote("{"+strings.Join(shape, ",")+"}"), read)
	copyStmt := fmt.Sprintf("COPY (SELECT %s FROM (%s)) TO %s (FORMAT parquet, PARTITION_BY (snapshot_date, rbac_group_id), COMPRESSION snappy)",
		strings.Join(sel, ", "), inner, quote(job.Output))
	return append(stmts, copyStmt), nil
}

// countParquetRows counts the rows of every Parquet file below dir.
func countParquetRows(ctx context.Context, dir string) (int64, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return 0, fmt.Errorf("open duckdb: %w", err)
	}
	defer db.Close()
	var n int64
	q := fmt.Sprintf("SELECT count(*) FROM read_parquet(%s, union_by_name = true)", quote(strings.TrimRight(dir, "/")+"/**/*.parquet"))
	if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return 0, fmt.Errorf("count rows in %s: %w", dir, err)
	}
	return n, nil
}

func duckdbType(t schema.Type) string {
	switch t {
	case schema.Int64:
		return "BIGINT"
	case schema.Int32:
		return "INTEGER"
	case schema.Double:
		return "DOUBLE"
	case schema.Bool:
		return "BOOLEAN"
	case schema.Timestamp:
		return "TIMESTAMP"
	}
	return "VARCHAR"
}

// pascal turns a documented key ("deviceId") into the export files' form
// ("DeviceId").
func pascal(key string) string {
	if key == "" || key[0] < 'a' || key[0] > 'z' {
		return key
	}
	return string(key[0]-'a'+'A') + key[1:]
}

// quote makes s an SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// ident makes s an SQL identifier.
func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
