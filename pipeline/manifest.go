package pipeline

import (
	"time"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

// Manifest is written as _manifest.json in each published snapshot folder: what
// made it, from what, and what it holds.
type Manifest struct {
	RunID        string                 `json:"run_id"`
	Tool         string                 `json:"tool"`
	ToolVersion  string                 `json:"tool_version"`
	Dataset      string                 `json:"dataset"`
	SnapshotTime time.Time              `json:"snapshot_time"`
	Started      time.Time              `json:"started"`
	Finished     time.Time              `json:"finished"`
	Records      int64                  `json:"records"`
	Rows         int64                  `json:"rows"`
	Rejected     int64                  `json:"rejected"`
	Inputs       []InputSummary         `json:"inputs"`
	Outputs      []writtenFile          `json:"outputs"`
	Columns      []ManifestColumn       `json:"columns"`
	Flattened    map[string][]string    `json:"flattened_keys"`
	Counts       map[string]interface{} `json:"counts"`
}

// ManifestColumn describes one column of the snapshot's files.
type ManifestColumn struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Source string `json:"source"`
}

func newManifest(spec *fileSpec, layout *schema.Layout, sum *Summary, files []writtenFile, start time.Time) Manifest {
	m := Manifest{
		RunID: spec.runID, Tool: "mdvm-parquet", ToolVersion: spec.version, Dataset: spec.ds.Name,
		SnapshotTime: spec.snapshot, Started: start.UTC(), Finished: time.Now().UTC(),
		Records: sum.Records, Rows: sum.Rows, Rejected: sum.Rejected,
		Inputs: sum.Inputs, Outputs: files, Flattened: spec.reg.mapping(),
		Counts: map[string]interface{}{
			"invalid_utf8_records":     sum.InvalidUTF8,
			"unflattenable_documents":  sum.Unflattenable,
			"duplicate_flattened_keys": sum.DuplicateKeys,
			"values_past_column_limit": sum.OverflowKeys,
			"unconverted_values":       sum.Unconverted,
			"rewritten_files":          sum.RewrittenFiles,
		},
	}
	for _, c := range layout.Columns {
		m.Columns = append(m.Columns, ManifestColumn{Name: c.Name, Type: c.Type.String(), Source: c.Doc})
	}
	return m
}
