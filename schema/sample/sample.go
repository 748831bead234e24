// Package sample generates realistic MDVM export files for tests, demos and
// benchmarks. The same Config always yields the same bytes, whatever the
// machine or the number of files written at once.
//
// An export is written as the service lays it out in blob storage:
//
//	DIR/<YYYY-MM-DD>/<HHMM>/<ExportName>/json/OrgId=<uuid>/_RbacGroupId=<n>/part-<NNNNN>-<uuid>.c000.json.gz
//	DIR/export.json
//
// where export.json is the saved response of the via-files endpoint.
package sample

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

// Casing is the letter case of a record's top-level keys.
type Casing int

const (
	// Pascal keys are the ones export files carry ("DeviceId").
	Pascal Casing = iota
	// Camel keys are the ones JSON pages carry ("deviceId").
	Camel
)

// Layout is how records are spread over files.
type Layout int

const (
	// ByGroup puts one RBAC group in each file, under an `_RbacGroupId=N`
	// folder, as current exports do. A large group spans several files.
	ByGroup Layout = iota
	// Mixed interleaves many groups in each file, with no `_RbacGroupId=`
	// folder, as older exports do; the worst case for a partitioning reader.
	Mixed
)

// DefaultGeneratedTime is the generatedTime of an export whose Config leaves
// GeneratedTime zero.
var DefaultGeneratedTime = time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)

// Config says what export to generate. Only Dataset and Records are
// required.
type Config struct {
	// Dataset is the export to imitate. Generators exist for the datasets
	// Supported reports.
	Dataset *schema.Dataset

	// Records is the number of records in the export.
	Records int

	// Files is the number of part files. With ByGroup every non-empty group
	// has at least one file, so it is raised to that; extra files go to the
	// largest groups. Defaults to 1 with Mixed.
	Files int

	// Groups is the number of named RBAC groups. Defaults to 1 unless
	// Unassigned is set.
	Groups int

	// Unassigned adds the devices of no RBAC group: rbacGroupId 0 with name
	// "Unassigned" mostly, and now and then the strings "Unassigned" or
	// "None" as the documentation describes them.
	Unassigned bool

	// Seed picks the devices, groups and values.
	Seed int64

	// Casing of the records' top-level keys. Defaults to Pascal.
	Casing Casing

	// Layout of records over files. Defaults to ByGroup.
	Layout Layout

	// Quirks sprinkles in the oddities readers of real exports must
	// survive. In files: a UTF-8 BOM, CRLF line ends, blank lines at the
	// end, several gzip members, each in one file. In one record of every
	// twenty, in turn: additionalFields as an array of Key/Value pairs, an
	// array of objects, "", null or absent; a key holding 7 in some records
	// and "v3" in this one; an integer beyond int64; a nested object; a
	// value of 80 KiB; quotes, backslashes and non-ASCII text; an
	// undocumented column (IsOnboarded); keys in the other casing;
	// rbacGroupId missing or as a string of digits; a documented field
	// null. The exports with typed fields take their own turn: times in
	// ISO 8601 with Z, with an offset or with seven fraction digits, and
	// one that is no time; lists empty or as text holding an array;
	// numbers null or "n/a"; booleans as text; the field names of the
	// documentation's example (certificates); an undocumented column;
	// quotes and backslashes; the other casing; the group as text or
	// missing; a documented field null. Without it every record is regular
	// and every flattened key keeps the type FlattenKeys gives.
	Quirks bool

	// GeneratedTime is the export's generatedTime; it also names the
	// YYYY-MM-DD/HHMM folders. Defaults to DefaultGeneratedTime.
	GeneratedTime time.Time

	// BaseURL, when set, makes export.json list BaseURL + "/" + path for
	// each file instead of the path relative to export.json.
	BaseURL string

	// Concurrency is how many files Write generates at once. It never
	// changes the output. Defaults to GOMAXPROCS.
	Concurrency int
}

// File is one part file of an export.
type File struct {
	Path      string // relative to the export root, slash-separated
	Group     string // the `_RbacGroupId=` folder value; "" with Mixed
	Records   int    // records in the file
	JSONBytes int64  // uncompressed bytes, BOM, CRs and blank lines included
	GzipBytes int64  // bytes as stored

	first int // index of the file's first record in the export
	index int // position in the plan, which decides file-level quirks
}

// Summary describes a written export.
type Summary struct {
	GeneratedTime time.Time
	Records       int
	Files         []File // in export.json order
	JSONBytes     int64  // sum over Files
	GzipBytes     int64  // sum over Files
	ExportJSON    string // path of export.json
}

// Key is one key of a flattened document (additionalFields) and the type its
// values take when Quirks is off.
type Key struct {
	Name string
	Type schema.Type
}

// ErrUnsupported is returned for a dataset that has no generator yet; the
// caller should pick one of Supported.
var ErrUnsupported = errors.New("no sample generator for dataset")

// Supported returns the names of the datasets that can be generated.
func Supported() []string {
	names := make([]string, 0, len(profiles))
	for _, d := range schema.Datasets() {
		if profiles[d.Name] != nil {
			names = append(names, d.Name)
		}
	}
	return names
}

// FlattenKeys returns the keys the flattened document of a record carries
// when Quirks is off, with their types, in a stable order. The union over
// all record kinds is returned; each record holds a subset.
func FlattenKeys(d *schema.Dataset) ([]Key, error) {
	p, err := lookup(d)
	if err != nil {
		return nil, err
	}
	return append([]Key(nil), p.flattenKeys...), nil
}

// normalize checks cfg and fills in its defaults. Every problem is reported.
func (cfg Config) normalize() (Config, *profile, error) {
	var errs []error
	p, err := lookup(cfg.Dataset)
	if err != nil {
		errs = append(errs, err)
	}
	if cfg.Records <= 0 {
		errs = append(errs, fmt.Errorf("records must be positive, got %d", cfg.Records))
	}
	if cfg.Files < 0 {
		errs = append(errs, fmt.Errorf("files must not be negative, got %d", cfg.Files))
	}
	if cfg.Groups < 0 {
		errs = append(errs, fmt.Errorf("groups must not be negative, got %d", cfg.Groups))
	}
	if cfg.Casing != Pascal && cfg.Casing != Camel {
		errs = append(errs, fmt.Errorf("unknown casing %d", cfg.Casing))
	}
	if cfg.Layout != ByGroup && cfg.Layout != Mixed {
		errs = append(errs, fmt.Errorf("unknown layout %d", cfg.Layout))
	}
	if len(errs) > 0 {
		return cfg, nil, errors.Join(errs...)
	}

	if cfg.Groups == 0 && !cfg.Unassigned {
		cfg.Groups = 1
	}
	if cfg.GeneratedTime.IsZero() {
		cfg.GeneratedTime = DefaultGeneratedTime
	}
	cfg.GeneratedTime = cfg.GeneratedTime.UTC()
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = runtime.GOMAXPROCS(0)
	}
	return cfg, p, nil
}

func lookup(d *schema.Dataset) (*profile, error) {
	if d == nil {
		return nil, errors.New("no dataset given")
	}
	p := profiles[d.Name]
	if p == nil {
		return nil, fmt.Errorf("%w %q", ErrUnsupported, d.Name)
	}
	return p, nil
}
