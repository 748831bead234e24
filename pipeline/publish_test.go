package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
	"github.com/mdvm-parquet/mdvm-parquet/sink"
	"github.com/mdvm-parquet/mdvm-parquet/sink/local"
)

// TestRecoverLakeLogKeys checks that the lines about an interrupted run
// name it under a key of its own: the logger of a run already carries
// "run", and a JSON line with one key twice is read differently by each
// tool.
func TestRecoverLakeLogKeys(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	b, _ := local.New(dir)
	ds := schema.HardwareFirmware
	datePath := "hardware_firmware/snapshot_date=2026-11-30"

	// One run killed while converting, one in each phase of its publish.
	dead := owner{RunID: "dead", Host: thisOwner("", time.Now()).Host, PID: 1 << 30, Started: time.Now()}
	if err := claim(ctx, b, ds, dead); err != nil {
		t.Fatal(err)
	}
	if err := sink.Put(ctx, b, stagingPrefix(ds, dead.RunID)+"x.parquet", []byte("x")); err != nil {
		t.Fatal(err)
	}
	for _, phase := range []string{phaseMoving, phaseReplacing} {
		j := journal{RunID: "killed-" + phase, Dataset: ds.Name, Phase: phase, DatePath: datePath, Manifest: []byte(`{}`)}
		if err := writeJournal(ctx, b, j); err != nil {
			t.Fatal(err)
		}
	}

	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil)).With("run", "self")
	if err := recoverLake(ctx, b, ds, "self", log); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines about interrupted runs, got:\n%s", logs.String())
	}
	for _, line := range lines {
		keys := map[string]int{}
		dec := json.NewDecoder(strings.NewReader(line))
		dec.Token() // {
		for dec.More() {
			k, _ := dec.Token()
			keys[k.(string)]++
			var v json.RawMessage
			dec.Decode(&v)
		}
		for k, n := range keys {
			if n > 1 {
				t.Errorf("key %q %d times in %s", k, n, line)
			}
		}
		var m map[string]any
		json.Unmarshal([]byte(line), &m)
		if m["run"] != "self" || m["stale_run"] == nil {
			t.Errorf("line %s: want run=self and the interrupted run as stale_run", line)
		}
	}
}
