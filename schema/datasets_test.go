package schema

import (
	"strings"
	"testing"
)

// TestDatasetsWellFormed checks the laws every description must keep, so
// that a new one is caught at its first test run rather than in a lake.
func TestDatasetsWellFormed(t *testing.T) {
	names := map[string]bool{}
	for _, d := range Datasets() {
		t.Run(d.Name, func(t *testing.T) {
			if names[d.Name] {
				t.Errorf("dataset %s declared twice", d.Name)
			}
			names[d.Name] = true
			if d.Name != Snake(d.Name) || d.Title == "" || !strings.HasPrefix(d.JSONPath, "/api/") {
				t.Errorf("name %q, title %q, JSON path %q", d.Name, d.Title, d.JSONPath)
			}
			if got, err := Lookup(d.Name); err != nil || got != d {
				t.Errorf("Lookup(%q) = %v, %v", d.Name, got, err)
			}
			checkFields(t, d)
			for _, k := range append([]string{d.DeviceKey, d.GroupIDKey, d.GroupNameKey}, d.SortKeys...) {
				if d.Field(k) == nil {
					t.Errorf("key %q is not a documented field", k)
				}
			}
			if f := d.Field(d.GroupIDKey); f != nil && (f.Column != "" || (f.Type != Int64 && f.Type != Int32)) {
				t.Errorf("group id %s: column %q, type %s; want none, integer", f.Key, f.Column, f.Type)
			}
			if d.FlattenKey != "" && d.FlattenColumn() == "" {
				t.Errorf("flatten key %q has no column", d.FlattenKey)
			}
			switch d.Partitioning {
			case ByEvent:
				if f := d.Field(d.EventTimeKey); f == nil || f.Type != Timestamp {
					t.Errorf("event time key %q: want a timestamp field", d.EventTimeKey)
				}
			case BySnapshot:
				if d.EventTimeKey != "" {
					t.Errorf("snapshot dataset with event time key %q", d.EventTimeKey)
				}
			}
			if d.IsDelta() != (d.MaxSince > 0) || (d.IsDelta() && d.FilesPath != "") {
				t.Errorf("since %q, max %s, files path %q", d.SinceParam, d.MaxSince, d.FilesPath)
			}
		})
	}
	if len(names) != 9 {
		t.Errorf("%d datasets, want 9", len(names))
	}
}

// checkFields checks that columns are the keys in snake_case, unique, and
// that no key or alias names two fields.
func checkFields(t *testing.T, d *Dataset) {
	t.Helper()
	cols, keys := map[string]bool{}, map[string]bool{}
	for _, f := range d.Fields {
		if f.Column != "" && (f.Column != Snake(f.Key) || cols[f.Column]) {
			t.Errorf("field %s: column %q duplicated or not %q", f.Key, f.Column, Snake(f.Key))
		}
		cols[f.Column] = true
		for _, k := range append([]string{f.Key}, f.Aliases...) {
			lk := strings.ToLower(k)
			if keys[lk] {
				t.Errorf("key %q names two fields", k)
			}
			keys[lk] = true
		}
		if f.Doc == "" {
			t.Errorf("field %s has no doc", f.Key)
		}
	}
	for _, c := range []string{SnapshotTimeColumn, ExtraColumn, SourceFileColumn, SourceLineColumn} {
		if cols[c] {
			t.Errorf("documented column %s clashes with a lineage column", c)
		}
	}
}

func TestIssueColumnNames(t *testing.T) {
	want := map[string]string{
		"cveId": "cve_id", "cvssScore": "cvss_score", "osPlatform": "os_platform", "diskPaths": "disk_paths",
		"firstSeenTimestamp": "first_seen_timestamp", "securityUpdateAvailable": "security_update_available",
	}
	for key, col := range want {
		if f := SoftwareVulnerabilities.Field(key); f == nil || f.Column != col {
			t.Errorf("%s: %+v, want column %s", key, f, col)
		}
	}
}

func TestFieldAliases(t *testing.T) {
	for key, want := range map[string]string{
		"KeyLength": "key_size", "keysize": "key_size", "NOTAFTER": "expiration_date",
		"notBefore": "issue_date", "IsSelfSigned": "is_self_signed",
	} {
		if f := Certificates.Field(key); f == nil || f.Column != want {
			t.Errorf("Certificates.Field(%q) = %+v, want column %s", key, f, want)
		}
	}
	if f := Certificates.Field(""); f != nil {
		t.Errorf("the empty key names %s", f.Key)
	}
}
