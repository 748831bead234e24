package pipeline

import (
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
)

func TestPartitionPath(t *testing.T) {
	date := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		key  partKey
		want string
	}{
		{partKey{date: date, group: 39, hasGroup: true}, "hardware_firmware/snapshot_date=2026-11-30/rbac_group_id=39"},
		{partKey{date: date, group: 0, hasGroup: true}, "hardware_firmware/snapshot_date=2026-11-30/rbac_group_id=0"},
		{partKey{date: date, group: -3, hasGroup: true}, "hardware_firmware/snapshot_date=2026-11-30/rbac_group_id=-3"},
		{partKey{date: date}, "hardware_firmware/snapshot_date=2026-11-30/rbac_group_id=__HIVE_DEFAULT_PARTITION__"},
	}
	for _, tt := range tests {
		if got := tt.key.path(schema.HardwareFirmware); got != tt.want {
			t.Errorf("path = %q, want %q", got, tt.want)
		}
	}
}

var partitionPathRE = regexp.MustCompile(`^hardware_firmware/snapshot_date=[0-9]{4}-[0-9]{2}-[0-9]{2}/rbac_group_id=(-?[0-9]+|__HIVE_DEFAULT_PARTITION__)$`)

// FuzzPartitionPath feeds the decoder any group value and checks that the
// partition folder it leads to is made of a date and an integer only.
func FuzzPartitionPath(f *testing.F) {
	for _, s := range []string{`39`, `"39"`, `"Unassigned"`, `"../../etc"`, `"1/2"`, `-1`, `1.5`, `null`, `"９"`, `{"a":1}`} {
		f.Add(s, int64(0), "7")
	}
	f.Fuzz(func(t *testing.T, group string, unix int64, hint string) {
		line := `{"DeviceId":"d","RbacGroupId":` + group + `}`
		r, _, reason := decodeOne(t, line, hint)
		if reason != "" {
			return
		}
		m := r.meta[0]
		date := time.Unix(unix%(1<<40), 0).UTC().Truncate(24 * time.Hour)
		if date.Year() < 0 || date.Year() > 9999 {
			return
		}
		p := partKey{date: date, group: m.group, hasGroup: m.hasGroup}.path(schema.HardwareFirmware)
		if !partitionPathRE.MatchString(p) {
			t.Fatalf("group %s, hint %q: path %q", group, hint, p)
		}
	})
}

// TestRowBlocks copies rows through blocks far smaller than the rows of a
// partition, some smaller than one row, and gathers them back.
func TestRowBlocks(t *testing.T) {
	src, _ := sampleRows(t, schema.HardwareFirmware, 500)
	for _, target := range []int64{1, 4 << 10, 64 << 10, 1 << 20} {
		pool := &blockPool{target: target, max: 1 << 20}
		var b rowBlocks
		for i := 0; i < src.len(); i++ {
			b.copyRow(src, i, pool)
		}
		all := newRows(src.nf)
		size := int64(0)
		for _, r := range b.blocks {
			all.appendRows(r)
			size += r.size()
		}
		if b.len() != src.len() || b.used != all.used() || b.size != size {
			t.Errorf("target %d: len %d used %d size %d, want %d, %d, %d", target, b.len(), b.used, b.size, src.len(), all.used(), size)
		}
		if !reflect.DeepEqual(viewRows(all), viewRows(src)) {
			t.Errorf("target %d: rows gathered from %d blocks differ", target, len(b.blocks))
		}
		// Blocks put back are handed out again, empty.
		n := len(b.blocks)
		pool.put(&b)
		if n > 1 && len(pool.free) == 0 && target > 1 {
			t.Errorf("target %d: no block kept of %d", target, n)
		}
		for _, r := range pool.free {
			if r.len() != 0 || len(r.arena) != 0 {
				t.Errorf("target %d: a block kept holds rows", target)
			}
		}
	}
}
