// Package schema describes the MDVM export datasets and the Parquet schema the
// lake stores them in: documented fields and their types, the column names
// derived from keys found in the data, the type a column takes from the values
// it has seen, and the Parquet nodes, encodings and metadata of each file.
//
// It knows nothing of where records come from or where files go.
package schema

import (
	"fmt"
	"time"
)

// Type is the logical type of a documented field.
type Type int

// The types documented fields take.
const (
	String     Type = iota // UTF-8 text
	Int64                  // 64-bit signed integer
	Int32                  // 32-bit signed integer
	Double                 // IEEE 754 double
	Bool                   // true or false
	Timestamp              // instant, microseconds, UTC
	StringList             // LIST of UTF-8 text
)

func (t Type) String() string {
	switch t {
	case String:
		return "string"
	case Int64:
		return "int64"
	case Int32:
		return "int32"
	case Double:
		return "double"
	case Bool:
		return "boolean"
	case Timestamp:
		return "timestamp"
	case StringList:
		return "list<string>"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Field is a documented top-level field of a dataset's records.
type Field struct {
	Key     string   // name as documented, camelCase ("deviceId"); matched case-insensitively
	Aliases []string // other names the service gives the field ("keyLength"), matched as Key is
	Column  string   // Parquet column name ("device_id")
	Type    Type
	Doc     string // one line for `schema` output
}

// Partitioning names how a dataset's rows are split into folders.
type Partitioning int

const (
	// BySnapshot partitions by snapshot_date (of the export's generatedTime)
	// and rbac_group_id.
	BySnapshot Partitioning = iota
	// ByEvent partitions by event_date (of each record's event time) and
	// rbac_group_id.
	ByEvent
)

// Dataset is one MDVM export, described once; the pipeline stages take a
// Dataset and never name one.
type Dataset struct {
	Name      string // lake folder and --dataset value ("hardware_firmware")
	Title     string // one line for `datasets` output
	JSONPath  string // JSON pages endpoint, below the API root
	FilesPath string // via-files endpoint, below the API root; "" when there is none

	Fields []Field // documented fields, in output order

	DeviceKey    string // key of the device id; records without one are rejected
	GroupIDKey   string // key of the RBAC group id (partition value)
	GroupNameKey string // key of the RBAC group name
	FlattenKey   string // key holding a JSON document to flatten; "" for none
	EventTimeKey string // key of the event time, for ByEvent partitioning

	Partitioning Partitioning
	SortKeys     []string // keys rows are sorted by within a row group

	// SinceParam is the query parameter of a delta endpoint that says where
	// the delta starts ("sinceTime"), and MaxSince how far back it may
	// reach; "" for a snapshot.
	SinceParam string
	MaxSince   time.Duration
}

// Lookup returns the dataset called name.
func Lookup(name string) (*Dataset, error) {
	for _, d := range datasets {
		if d.Name == name {
			return d, nil
		}
	}
	return nil, fmt.Errorf("unknown dataset %q (see `mdvm-parquet datasets`)", name)
}

// Datasets returns every dataset, in a stable order.
func Datasets() []*Dataset { return datasets }

// Field returns the documented field whose key or one of whose aliases
// matches key regardless of letter case, or nil.
func (d *Dataset) Field(key string) *Field {
	for i := range d.Fields {
		if d.Fields[i].Matches(key) {
			return &d.Fields[i]
		}
	}
	return nil
}

// Matches reports whether key names the field: its key or an alias,
// regardless of letter case.
func (f *Field) Matches(key string) bool {
	if equalFold(f.Key, key) {
		return true
	}
	for _, a := range f.Aliases {
		if equalFold(a, key) {
			return true
		}
	}
	return false
}

// IsDelta reports whether the dataset is a delta read from a start time
// (SinceParam) rather than a snapshot.
func (d *Dataset) IsDelta() bool { return d.SinceParam != "" }

// FlattenColumn returns the column holding the raw text of the flattened
// field, or "".
func (d *Dataset) FlattenColumn() string {
	if f := d.Field(d.FlattenKey); f != nil && d.FlattenKey != "" {
		return f.Column
	}
	return ""
}

// equalFold reports whether a and b are equal under ASCII case folding.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// HardwareFirmware is the hardware and firmware assessment, one row per
// device, component type and component name.
var HardwareFirmware = &Dataset{
	Name:      "hardware_firmware",
	Title:     "Hardware and firmware assessment per device",
	JSONPath:  "/api/machines/HardwareFirmwareInventoryByMachine",
	FilesPath: "/api/machines/HardwareFirmwareInventoryExport",
	Fields: []Field{
		{Key: "deviceId", Column: "device_id", Type: String, Doc: "unique identifier of the device in the service"},
		{Key: "deviceName", Column: "device_name", Type: String, Doc: "fully qualified domain name of the device"},
		{Key: "rbacGroupId", Column: "", Type: Int64, Doc: "RBAC group id; partition value rbac_group_id, NULL when not an integer"},
		{Key: "rbacGroupName", Column: "rbac_group_name", Type: String, Doc: "RBAC group name, as received (\"Unassigned\", \"None\" included)"},
		{Key: "componentType", Column: "component_type", Type: String, Doc: "type of hardware or firmware component (Hardware, Bios, Processor)"},
		{Key: "manufacturer", Column: "manufacturer", Type: String, Doc: "manufacturer of the component"},
		{Key: "componentName", Column: "component_name", Type: String, Doc: "name of the component"},
		{Key: "componentVersion", Column: "component_version", Type: String, Doc: "version of the component"},
		{Key: "additionalFields", Column: "additional_fields", Type: String, Doc: "raw additionalFields text exactly as received; flattened into af_ columns"},
	},
	DeviceKey:    "deviceId",
	GroupIDKey:   "rbacGroupId",
	GroupNameKey: "rbacGroupName",
	FlattenKey:   "additionalFields",
	Partitioning: BySnapshot,
	SortKeys:     []string{"deviceId", "componentType", "componentName"},
}
