package main

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
	"github.com/parquet-go/parquet-go"
)

// The lake as the tests read it back: every row of a dataset, each value
// rendered as a string by one function, so that two readers can be compared
// cell by cell.

const (
	dataset      = "hardware_firmware"
	nullCell     = "\x00NULL" // a cell holding NULL; no input string looks like it
	defaultGroup = "__HIVE_DEFAULT_PARTITION__"
)

// table is the rows of the lake as one reader sees them.
type table struct {
	columns []string          // in the reader's order
	types   map[string]string // column → DuckDB type; empty for Arrow
	rows    []map[string]string
}

// cell renders a value scanned from DuckDB or read from Arrow.
func cell(v any) string {
	switch v := v.(type) {
	case nil:
		return nullCell
	case string:
		return v
	case []byte:
		return string(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	}
	panic(fmt.Sprintf("BUG: no rendering for %T", v))
}

// datasetGlob is the glob of a lake's Parquet files for DuckDB.
func datasetGlob(lake string) string {
	return filepath.ToSlash(filepath.Join(lake, dataset)) + "/**/*.parquet"
}

// openDuckDB opens an in-memory DuckDB database for one test.
func openDuckDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatalf("open duckdb: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// readDuckDB reads every row of the lake's dataset with DuckDB, partition
// columns included, and the column types DuckDB gives them.
func readDuckDB(t *testing.T, lake string) *table {
	t.Helper()
	db := openDuckDB(t)
	src := fmt.Sprintf("read_parquet('%s', hive_partitioning=true)", datasetGlob(lake))

	tb := &table{types: map[string]string{}}
	rows, err := db.Query("DESCRIBE SELECT * FROM " + src)
	if err != nil {
		t.Fatalf("duckdb describe: %v", err)
	}
	for _, r := range scanAll(t, rows) {
		tb.columns = append(tb.columns, r["column_name"])
		tb.types[r["column_name"]] = r["column_type"]
	}

	rows, err = db.Query("SELECT * FROM " + src)
	if err != nil {
		t.Fatalf("duckdb select: %v", err)
	}
	tb.rows = scanAll(t, rows)
	return tb
}

// queryDuckDB runs one query and returns its rows rendered as cells.
func queryDuckDB(t *testing.T, db *sql.DB, query string, args ...any) []map[string]string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("duckdb %q: %v", query, err)
	}
	return scanAll(t, rows)
}

func scanAll(t *testing.T, rows *sql.Rows) []map[string]string {
	t.Helper()
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("duckdb scan: %v", err)
		}
		r := make(map[string]string, len(cols))
		for i, c := range cols {
			r[c] = cell(vals[i])
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("duckdb rows: %v", err)
	}
	return out
}

// parquetFiles lists the Parquet files of the lake's dataset, sorted.
func parquetFiles(t *testing.T, lake string) []string {
	t.Helper()
	var files []string
	root := filepath.Join(lake, dataset)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".parquet") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// partitionOf returns the snapshot_date and rbac_group_id cells of a file
// from its path, as a Hive reader derives them.
func partitionOf(t *testing.T, path string) (date, group string) {
	t.Helper()
	for _, seg := range strings.Split(filepath.ToSlash(path), "/") {
		k, v, ok := strings.Cut(seg, "=")
		if !ok {
			continue
		}
		switch k {
		case "snapshot_date":
			d, err := time.Parse(time.DateOnly, v)
			if err != nil {
				t.Fatalf("%s: snapshot_date %q: %v", path, v, err)
			}
			date = cell(d)
		case "rbac_group_id":
			if v == defaultGroup {
				group = nullCell
				continue
			}
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				t.Fatalf("%s: rbac_group_id %q is neither an integer nor %s", path, v, defaultGroup)
			}
			group = v
		}
	}
	if date == "" || group == "" {
		t.Fatalf("%s: no snapshot_date=/rbac_group_id= folders", path)
	}
	return date, group
}

// readArrow reads every Parquet file of the lake's dataset with the Arrow Go
// Parquet reader, adding the partition columns from each file's path.
func readArrow(t *testing.T, lake string) *table {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	tb := &table{}
	for _, path := range parquetFiles(t, lake) {
		date, group := partitionOf(t, path)
		cols, rows := readArrowFile(t, path, mem)
		if tb.columns == nil {
			tb.columns = append(cols, "rbac_group_id", "snapshot_date")
		}
		for _, r := range rows {
			r["rbac_group_id"], r["snapshot_date"] = group, date
			tb.rows = append(tb.rows, r)
		}
	}
	return tb
}

func readArrowFile(t *testing.T, path string, mem memory.Allocator) ([]string, []map[string]string) {
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatalf("arrow: open %s: %v", path, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1 << 10}, mem)
	if err != nil {
		t.Fatalf("arrow: reader %s: %v", path, err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatalf("arrow: read %s: %v", path, err)
	}
	defer tbl.Release()

	n := int(tbl.NumRows())
	rows := make([]map[string]string, n)
	for i := range rows {
		rows[i] = map[string]string{}
	}
	var cols []string
	for c := range int(tbl.NumCols()) {
		col := tbl.Column(c)
		cols = append(cols, col.Name())
		i := 0
		for _, chunk := range col.Data().Chunks() {
			for j := range chunk.Len() {
				rows[i][col.Name()] = arrowCell(t, chunk, j)
				i++
			}
		}
		if i != n {
			t.Fatalf("arrow: %s: column %s has %d values for %d rows", path, col.Name(), i, n)
		}
	}
	return cols, rows
}

func arrowCell(t *testing.T, a arrow.Array, i int) string {
	if a.IsNull(i) {
		return nullCell
	}
	switch a := a.(type) {
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.Int64:
		return cell(a.Value(i))
	case *array.Int32:
		return cell(a.Value(i))
	case *array.Float64:
		return cell(a.Value(i))
	case *array.Boolean:
		return cell(a.Value(i))
	case *array.Timestamp:
		ts := a.DataType().(*arrow.TimestampType)
		return cell(a.Value(i).ToTime(ts.Unit))
	}
	t.Fatalf("arrow: no rendering for %s", a.DataType())
	return ""
}

// rowKey orders rows by device, component and lineage.
func rowKey(r map[string]string) string {
	line, _ := strconv.ParseInt(r["source_line"], 10, 64)
	return strings.Join([]string{r["device_id"], r["component_type"], r["component_name"],
		r["source_file"], fmt.Sprintf("%012d", line)}, "\x01")
}

func sortRows(rows []map[string]string) {
	slices.SortStableFunc(rows, func(a, b map[string]string) int {
		return strings.Compare(rowKey(a), rowKey(b))
	})
}

// compareTables fails when two readers do not see the same rows.
func compareTables(t *testing.T, duck, arw *table) {
	t.Helper()
	if !slices.Equal(sorted(duck.columns), sorted(arw.columns)) {
		t.Fatalf("columns differ:\nduckdb %v\narrow  %v", duck.columns, arw.columns)
	}
	if len(duck.rows) != len(arw.rows) {
		t.Fatalf("duckdb reads %d rows, arrow %d", len(duck.rows), len(arw.rows))
	}
	sortRows(duck.rows)
	sortRows(arw.rows)
	bad := 0
	for i := range duck.rows {
		for _, c := range duck.columns {
			if d, a := duck.rows[i][c], arw.rows[i][c]; d != a {
				t.Errorf("row %d (%s:%s) column %s: duckdb %q, arrow %q", i,
					duck.rows[i]["source_file"], duck.rows[i]["source_line"], c, clip(d), clip(a))
				if bad++; bad > 10 {
					t.Fatal("too many differences")
				}
			}
		}
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// clip shortens a cell for a failure message.
func clip(s string) string {
	if len(s) > 120 {
		return fmt.Sprintf("%s…(%d bytes)", s[:120], len(s))
	}
	return s
}

// fileSchemas returns the Parquet schema of each file, as parquet-go prints
// it, and the file's key/value metadata.
func fileSchemas(t *testing.T, files []string) (schemas []string, meta []map[string]string) {
	t.Helper()
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		info, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		pf, err := parquet.OpenFile(f, info.Size())
		if err != nil {
			f.Close()
			t.Fatalf("parquet-go: open %s: %v", path, err)
		}
		schemas = append(schemas, pf.Schema().String())
		kv := map[string]string{}
		for _, e := range pf.Metadata().KeyValueMetadata {
			kv[e.Key] = e.Value
		}
		meta = append(meta, kv)
		f.Close()
	}
	return schemas, meta
}

// parquetRows returns the row count a file's footer declares.
func parquetRows(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(f, info.Size())
	if err != nil {
		t.Fatalf("parquet-go: open %s: %v", path, err)
	}
	return pf.NumRows()
}

// checkFileLayout checks what the product promises every reader of a file:
// data pages v1 only, statistics on every column chunk, the codec asked
// for, and rows sorted by device within each row group. It returns the
// file's row group count.
func checkFileLayout(t *testing.T, path, codec string) int {
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatalf("arrow: open %s: %v", path, err)
	}
	defer pf.Close()
	devCol := pf.MetaData().Schema.ColumnIndexByName("device_id")
	for g := range pf.NumRowGroups() {
		rg := pf.RowGroup(g)
		for c := range rg.NumColumns() {
			md, err := rg.MetaData().ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			name := md.PathInSchema().String()
			if got := md.Compression().String(); !strings.EqualFold(got, codec) {
				t.Errorf("%s: row group %d column %s: codec %s, want %s", path, g, name, got, codec)
			}
			if ok, err := md.StatsSet(); !ok || err != nil {
				t.Errorf("%s: row group %d column %s: no statistics (%v)", path, g, name, err)
			}
			pr, err := rg.GetColumnPageReader(c)
			if err != nil {
				t.Fatal(err)
			}
			for pr.Next() {
				if typ := pr.Page().Type(); typ != file.PageTypeDataPage && typ != file.PageTypeDictionaryPage {
					t.Errorf("%s: row group %d column %s: page of type %s", path, g, name, typ)
				}
			}
			if err := pr.Err(); err != nil {
				t.Errorf("%s: row group %d column %s: pages: %v", path, g, name, err)
			}
			pr.Close()
		}
		checkSortedByDevice(t, path, rg, devCol)
	}
	return pf.NumRowGroups()
}

// checkSortedByDevice fails unless a row group's device ids never decrease.
func checkSortedByDevice(t *testing.T, path string, rg *file.RowGroupReader, col int) {
	t.Helper()
	cr, err := rg.Column(col)
	if err != nil {
		t.Fatal(err)
	}
	br, ok := cr.(*file.ByteArrayColumnChunkReader)
	if !ok {
		t.Fatalf("%s: device_id is read as %T", path, cr)
	}
	n := rg.NumRows()
	vals := make([]pq.ByteArray, n)
	defs := make([]int16, n)
	var got []string
	for br.HasNext() {
		_, read, err := br.ReadBatch(n, vals, defs, nil)
		if err != nil {
			t.Fatalf("%s: device_id: %v", path, err)
		}
		for _, v := range vals[:read] {
			got = append(got, string(v))
		}
	}
	if !slices.IsSorted(got) {
		t.Errorf("%s: rows of a row group are not sorted by device_id", path)
	}
}
