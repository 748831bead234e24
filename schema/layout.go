package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
)

// Source says where a column's values come from.
type Source uint8

// The sources of columns.
const (
	FromField     Source = iota // a documented field of the record
	FromSnapshot                // the export's generatedTime
	FromFlattened               // one key of the flattened JSON document
	FromExtra                   // undocumented top-level keys, as a JSON object
	FromFile                    // lineage: the input the record came from
	FromLine                    // lineage: the record's line in that input
)

// Names of the columns every dataset has besides its documented fields.
const (
	SnapshotTimeColumn = "snapshot_time"
	ExtraColumn        = "extra_fields"
	SourceFileColumn   = "source_file"
	SourceLineColumn   = "source_line"
)

// Column is one column of a Parquet file of the lake.
type Column struct {
	Name   string
	Type   Type
	Source Source
	Field  int    // index in Dataset.Fields, for FromField
	Kind   Kind   // for FromFlattened
	Doc    string // where the values come from, one line
}

// Layout is the ordered list of columns of one dataset's files, given the
// flattened keys seen so far. Two layouts with the same Fingerprint describe
// the same Parquet schema.
type Layout struct {
	Dataset *Dataset
	Columns []Column
}

// NewLayout returns the layout of d's files when the flattened keys seen so
// far have the columns and kinds in flattened (column name → kind).
//
// Order: documented fields (but the group id, which lives in the path),
// snapshot_time, the flattened columns sorted by name, extra_fields, and the
// lineage columns.
func NewLayout(d *Dataset, flattened map[string]Kind) *Layout {
	l := &Layout{Dataset: d}
	for i, f := range d.Fields {
		if f.Column == "" {
			continue
		}
		l.Columns = append(l.Columns, Column{Name: f.Column, Type: f.Type, Source: FromField, Field: i, Doc: f.Doc})
	}
	if d.Partitioning == BySnapshot {
		l.Columns = append(l.Columns, Column{Name: SnapshotTimeColumn, Type: Timestamp, Source: FromSnapshot,
			Doc: "the export's generatedTime (UTC); its date is the snapshot_date partition"})
	}
	names := make([]string, 0, len(flattened))
	for name := range flattened {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		k := flattened[name]
		l.Columns = append(l.Columns, Column{Name: name, Type: k.Type(), Source: FromFlattened, Kind: k,
			Doc: "flattened from " + d.FlattenKey + " (values seen: " + k.String() + ")"})
	}
	l.Columns = append(l.Columns,
		Column{Name: ExtraColumn, Type: String, Source: FromExtra,
			Doc: "undocumented top-level keys and values that did not fit their column, as a JSON object; NULL when none"},
		Column{Name: SourceFileColumn, Type: String, Source: FromFile,
			Doc: "the export file the row was read from (no query string)"},
		Column{Name: SourceLineColumn, Type: Int64, Source: FromLine,
			Doc: "the row's line number in that file, from 1"},
	)
	return l
}

// Fingerprint identifies the layout's Parquet schema.
func (l *Layout) Fingerprint() string {
	h := sha256.New()
	for _, c := range l.Columns {
		h.Write([]byte(c.Name))
		h.Write([]byte{0, byte(c.Type), 0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Index returns the position of the column called name, or -1.
func (l *Layout) Index(name string) int {
	for i, c := range l.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// Describe renders the layout as a table for people: column, type, source.
func (l *Layout) Describe() string {
	var b strings.Builder
	width := 0
	for _, c := range l.Columns {
		width = max(width, len(c.Name))
	}
	for _, c := range l.Columns {
		b.WriteString(c.Name)
		b.WriteString(strings.Repeat(" ", width-len(c.Name)+2))
		t := c.Type.String()
		b.WriteString(t)
		b.WriteString(strings.Repeat(" ", max(14-len(t), 2)))
		b.WriteString(c.Doc)
		b.WriteByte('\n')
	}
	return b.String()
}
