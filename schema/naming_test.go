package schema

import (
	"regexp"
	"strings"
	"testing"
)

func TestSnake(t *testing.T) {
	tests := []struct{ in, want string }{
		{"deviceId", "device_id"},
		{"DeviceId", "device_id"},
		{"SystemSKU", "system_sku"},
		{"BaseBoardManufacturer", "base_board_manufacturer"},
		{"OSPlatform", "os_platform"},
		{"OsPlatform", "os_platform"},
		{"IPv4Address", "ipv4_address"},
		{"TPMVersion2", "tpm_version2"},
		{"already_snake", "already_snake"},
		{"with space-and.dots", "with_space_and_dots"},
		{"  __x__  ", "x"},
		{"日本", ""},
		{"", ""},
		{"A", "a"},
		{"ABC", "abc"},
		{"cveId", "cve_id"},
	}
	for _, tt := range tests {
		if got := Snake(tt.in); got != tt.want {
			t.Errorf("Snake(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestColumnName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SystemSKU", "af_system_sku"},
		{"systemSku", "af_system_sku"},
		{"system_sku", "af_system_sku"},
		{"日本", "af_key_9f26ee51"},
		{"", "af_key_811c9dc5"},
	}
	for _, tt := range tests {
		if got := ColumnName(tt.in); got != tt.want {
			t.Errorf("ColumnName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := strings.Repeat("VeryLongKey", 20)
	if got := ColumnName(long); len(got) > maxColumnName || !strings.HasPrefix(got, FlattenPrefix) {
		t.Errorf("ColumnName(long) = %q (%d bytes)", got, len(got))
	}
	if ColumnName(long) == ColumnName(long+"x") {
		t.Errorf("two long keys share a column")
	}
}

var columnNameRE = regexp.MustCompile(`^af_[a-z0-9_]+$`)

// FuzzColumnName checks that any key gives a safe, bounded, deterministic
// name that can never collide with a documented column.
func FuzzColumnName(f *testing.F) {
	for _, s := range []string{"SystemSKU", "", "../../etc", "a\x00b", "ÄÖÜ", "x=1/y", strings.Repeat("k", 500)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		name := ColumnName(key)
		if !columnNameRE.MatchString(name) {
			t.Fatalf("ColumnName(%q) = %q: not [a-z0-9_] with af_ prefix", key, name)
		}
		if len(name) > maxColumnName {
			t.Fatalf("ColumnName(%q) = %q: %d bytes", key, name, len(name))
		}
		if name != ColumnName(key) {
			t.Fatalf("ColumnName(%q) is not deterministic", key)
		}
		if HardwareFirmware.Field(name) != nil {
			t.Fatalf("ColumnName(%q) = %q collides with a documented field", key, name)
		}
		distinct := DistinctColumnName(name, FoldKey(key))
		if !columnNameRE.MatchString(distinct) || len(distinct) > maxColumnName || distinct == name {
			t.Fatalf("DistinctColumnName(%q) = %q: not a distinct column name", name, distinct)
		}
	})
}
