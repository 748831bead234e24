package sink_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mdvm-parquet/mdvm-parquet/sink"
)

func TestCheckName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"a", true},
		{"a/b/c.parquet", true},
		{"dt=2024-01-01/rbac=Unassigned/part 0.parquet", true},
		{".hidden/..x/x..", true},
		{"ü/日本", true},
		{strings.Repeat("x", sink.MaxNameLen), true},
		{"", false},
		{"/a", false},
		{"a/", false},
		{"a//b", false},
		{".", false},
		{"..", false},
		{"a/./b", false},
		{"a/../b", false},
		{`a\b`, false},
		{"a\x00", false},
		{"a\tb", false},
		{"a\x7f", false},
		{"\xc3", false},
		{strings.Repeat("x", sink.MaxNameLen+1), false},
	}
	for _, tc := range tests {
		err := sink.CheckName(tc.name)
		if tc.ok != (err == nil) {
			t.Errorf("check %q: got %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, sink.ErrInvalidName) {
			t.Errorf("check %q: %v does not wrap ErrInvalidName", tc.name, err)
		}
	}
}

func TestCheckPrefix(t *testing.T) {
	tests := []struct {
		prefix string
		ok     bool
	}{
		{"", true},
		{"a", true},
		{"a/", true},
		{"a/b", true},
		{"a/.", true},
		{"a/..", true},
		{".", true},
		{"/", false},
		{"a//", false},
		{"../", false},
		{"a/../", false},
		{"./", false},
		{`a\`, false},
	}
	for _, tc := range tests {
		err := sink.CheckPrefix(tc.prefix)
		if tc.ok != (err == nil) {
			t.Errorf("check prefix %q: got %v, want ok=%v", tc.prefix, err, tc.ok)
		}
	}
}
