package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
	"github.com/mdvm-parquet/mdvm-parquet/sink"
)

// ErrLakeBusy is returned by Convert when another run of the same dataset
// is writing the lake. Only one may at a time: wait for it, or, if it was
// killed on another machine, for ownerTimeout to pass.
var ErrLakeBusy = errors.New("another run is writing this dataset of the lake")

// ownerTimeout is how long a run on another machine is presumed alive
// without a way to ask: its staged files and journal are left alone.
const ownerTimeout = 6 * time.Hour

// owner says which process a run is, so that the next run can tell a
// killed run's leftovers from a live run's work.
type owner struct {
	RunID   string    `json:"run_id"`
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
}

func thisOwner(runID string, start time.Time) owner {
	host, _ := os.Hostname()
	return owner{RunID: runID, Host: host, PID: os.Getpid(), Started: start.UTC()}
}

// alive reports whether the run may still be going on.
func (o owner) alive() bool {
	host, _ := os.Hostname()
	if o.Host != host {
		return time.Since(o.Started) < ownerTimeout
	}
	if o.PID == os.Getpid() {
		return true
	}
	return processAlive(o.PID, o.Started)
}

func ownerName(ds *schema.Dataset, runID string) string {
	return stagingPrefix(ds, runID) + "_owner.json"
}

// claim records this run as the owner of its staging folder.
func claim(ctx context.Context, b sink.Bucket, ds *schema.Dataset, o owner) error {
	data, _ := json.Marshal(o)
	if err := sink.Put(ctx, b, ownerName(ds, o.RunID), data); err != nil {
		return fmt.Errorf("staging: %w", err)
	}
	return nil
}

// readOwner reads the owner of a run, if it left one.
func readOwner(ctx context.Context, b sink.Bucket, ds *schema.Dataset, runID string) (owner, bool) {
	data, err := sink.Get(ctx, b, ownerName(ds, runID))
	if err != nil {
		return owner{}, false
	}
	var o owner
	return o, json.Unmarshal(data, &o) == nil
}

// staleRuns returns the runs with staged files whose owner is gone.
func staleRuns(ctx context.Context, b sink.Bucket, ds *schema.Dataset, self string) ([]string, error) {
	prefix := stagingDir + "/" + ds.Name + "/"
	runs := map[string]bool{}
	err := b.List(ctx, prefix, func(o sink.Object) error {
		if run, _, ok := strings.Cut(strings.TrimPrefix(o.Name, prefix), "/"); ok && run != self {
			runs[run] = true
		}
		return nil
	})
	var stale []string
	for run := range runs {
		if o, ok := readOwner(ctx, b, ds, run); !ok || !o.alive() {
			stale = append(stale, run)
		}
	}
	return stale, err
}
