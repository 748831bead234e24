package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
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

// duckdbStatements returns the settings and the COPY statement of job, a
// snapshot dataset. Documented fields take the types our schema gives them:
// numbers, booleans and lists as DuckDB's JSON reader converts them, times
// from text with TRY_CAST (a time that does not parse is NULL, as ours), the
// group id as the partition value. The flattened document, when the dataset
// has one, becomes typed columns through json_transform.
func duckdbStatements(job duckdbJob) ([]string, error) {
	d := job.Dataset
	if d.Partitioning != schema.BySnapshot {
		return nil, fmt.Errorf("duckdb side of %s: %w", d.Name, errNotSnapshot)
	}
	spell, err := fileKeys(d)
	if err != nil {
		return nil, err
	}
	stmts := []string{
		fmt.Sprintf("SET threads = %d", job.Threads),
		// Row order is of no use to a partitioned lake; keeping it costs
		// DuckDB memory, and our converter does not keep it either.
		"SET preserve_insertion_order = false",
		// A time without a zone is UTC, as ours reads it.
		"SET TimeZone = 'UTC'",
	}
	if job.MemoryLimit != "" {
		stmts = append(stmts, "SET memory_limit = "+quote(job.MemoryLimit))
	}

	var cols, sel []string
	for _, f := range d.Fields {
		key, typ := spell[f.Key], duckdbReadType(f.Type)
		if f.Key == d.GroupIDKey {
			// Text for TRY_CAST: unassigned devices have "Unassigned".
			typ = "VARCHAR"
		}
		cols = append(cols, fmt.Sprintf("%s: %s", quote(key), quote(typ)))
		if f.Column != "" {
			sel = append(sel, fmt.Sprintf("%s AS %s", duckdbValue(ident(key), f.Type), f.Column))
		}
	}
	date := job.Snapshot.UTC()
	sel = append(sel, fmt.Sprintf("TIMESTAMPTZ %s AS %s", quote(date.Format("2006-01-02 15:04:05.999999Z07:00")), schema.SnapshotTimeColumn))

	from := fmt.Sprintf("read_json([%s], format = 'newline_delimited', compression = 'gzip', filename = true, columns = {%s})",
		strings.Join(quoteAll(job.Paths), ", "), strings.Join(cols, ", "))
	if d.FlattenKey != "" {
		flat, err := flattenSelect(d, spell[d.FlattenKey], from)
		if err != nil {
			return nil, err
		}
		from, sel = flat.from, append(sel, flat.cols...)
	}
	sel = append(sel,
		"filename AS "+schema.SourceFileColumn,
		fmt.Sprintf("DATE %s AS snapshot_date", quote(date.Format("2006-01-02"))),
		fmt.Sprintf("TRY_CAST(%s AS BIGINT) AS rbac_group_id", ident(spell[d.GroupIDKey])),
	)
	copyStmt := fmt.Sprintf("COPY (SELECT %s FROM %s) TO %s (FORMAT parquet, PARTITION_BY (snapshot_date, rbac_group_id), COMPRESSION snappy)",
		strings.Join(sel, ", "), from, quote(job.Output))
	return append(stmts, copyStmt), nil
}

// flattened is the flattened document's part of the query: the source
// that adds it parsed, and its typed columns.
type flattened struct {
	from string
	cols []string
}

// flattenSelect parses the document under key of every row of src with
// json_transform, one typed af_ column per key the generator writes.
func flattenSelect(d *schema.Dataset, key, src string) (flattened, error) {
	keys, err := sample.FlattenKeys(d)
	if err != nil {
		return flattened{}, err
	}
	var shape, cols []string
	for _, k := range keys {
		shape = append(shape, fmt.Sprintf("%q:%q", k.Name, duckdbType(k.Type)))
		cols = append(cols, fmt.Sprintf("af.%s AS %s", ident(k.Name), schema.ColumnName(k.Name)))
	}
	from := fmt.Sprintf("(SELECT *, json_transform(%s, %s) AS af FROM %s)",
		ident(key), quote("{"+strings.Join(shape, ",")+"}"), src)
	return flattened{from: from, cols: cols}, nil
}

// errNotSnapshot is returned for a dataset partitioned by event date,
// which the benchmark does not measure.
var errNotSnapshot = errors.New("not a snapshot dataset: the benchmark partitions by snapshot_date")

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

// duckdbReadType is the type read_json reads a documented field as: times
// as text, for TRY_CAST to parse; the rest as DuckDB's reader converts
// JSON values.
func duckdbReadType(t schema.Type) string {
	if t == schema.Timestamp {
		return "VARCHAR"
	}
	return duckdbType(t)
}

// duckdbValue is the column expression of a documented field read by
// duckdbReadType.
func duckdbValue(col string, t schema.Type) string {
	if t == schema.Timestamp {
		// TIMESTAMPTZ takes the text forms ours does (a space or T, three
		// or seven fraction digits, Z or an offset) and, like ours, writes
		// an instant adjusted to UTC.
		return fmt.Sprintf("TRY_CAST(%s AS TIMESTAMPTZ)", col)
	}
	return col
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
	case schema.StringList:
		return "VARCHAR[]"
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

// quoteAll quotes each of ss.
func quoteAll(ss []string) []string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quote(s)
	}
	return q
}

// quote makes s an SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// ident makes s an SQL identifier.
func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
