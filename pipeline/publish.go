package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
	"github.com/mdvm-parquet/mdvm-parquet/sink"
)

// Names of the lake's bookkeeping. Folders starting with "_" sit beside the
// dataset folders, never inside them: Spark skips "_" folders, but DuckDB's
// "**" globs do not.
const (
	SuccessFile  = "_SUCCESS"
	ManifestFile = "_manifest.json"
	stagingDir   = "_staging"
	journalDir   = "_journal"
	RejectedDir  = "_rejected"
)

func stagingPrefix(ds *schema.Dataset, runID string) string {
	return stagingDir + "/" + ds.Name + "/" + runID + "/"
}

// journal records a publish in progress, so that the next run can finish or
// undo what a killed one left half done.
type journal struct {
	RunID    string          `json:"run_id"`
	Dataset  string          `json:"dataset"`
	Phase    string          `json:"phase"` // "moving" or "replacing"
	DatePath string          `json:"date_path"`
	New      []string        `json:"new"`
	Old      []string        `json:"old"`
	Manifest json.RawMessage `json:"manifest"`
	Owner    owner           `json:"owner"`
}

const (
	phaseMoving    = "moving"
	phaseReplacing = "replacing"
)

// publish moves the staged files of one date into the lake, replacing what
// the date held before, and writes its manifest and _SUCCESS.
//
// Object storage has no atomic rename of a folder, so the order is chosen so
// that a reader is never shown a partial file and a reader that honours
// _SUCCESS never reads a date in flux:
//
//  1. a journal names the new files and the old ones;
//  2. the old _SUCCESS goes: the date is now marked as changing;
//  3. the new files are moved in, each appearing whole (rename or copy);
//  4. the journal turns to "replacing";
//  5. the old files and manifest go;
//  6. the new manifest and _SUCCESS are written; the journal goes.
//
// Between 3 and 5 a reader that ignores _SUCCESS sees the date's old rows
// and part of its new ones. A run killed before 4 is undone by the next run
// (the moved files go, the old stay); after 4 it is finished by it.
func publish(ctx context.Context, b sink.Bucket, ds *schema.Dataset, own owner, datePath string, staged []string, manifest []byte, log *slog.Logger) error {
	runID := own.RunID
	// Only what a run writes is replaced: other files someone keeps in the
	// folder are left alone.
	old, err := listNames(ctx, b, datePath+"/", func(name string) bool {
		base := path.Base(name)
		return strings.HasSuffix(base, ".parquet") || base == SuccessFile || base == ManifestFile
	})
	if err != nil {
		return fmt.Errorf("publish %s: list: %w", datePath, err)
	}
	if err := checkNoOtherPublish(ctx, b, ds, runID); err != nil {
		return err
	}
	j := journal{RunID: runID, Dataset: ds.Name, Phase: phaseMoving, DatePath: datePath, Old: old, Manifest: manifest, Owner: own}
	for _, s := range staged {
		j.New = append(j.New, strings.TrimPrefix(s, stagingPrefix(ds, runID)))
	}
	if err := writeJournal(ctx, b, j); err != nil {
		return err
	}
	if err := b.Delete(ctx, datePath+"/"+SuccessFile); err != nil {
		return fmt.Errorf("publish %s: %w", datePath, err)
	}
	// Moves run several at a time: on object storage each is a copy, and
	// the window in which old and new rows are both visible lasts as long as
	// they do.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(publishParallel)
	for i, s := range staged {
		g.Go(func() error {
			if err := b.Move(gctx, s, j.New[i]); err != nil {
				return fmt.Errorf("publish %s: %w", j.New[i], err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	j.Phase = phaseReplacing
	if err := writeJournal(ctx, b, j); err != nil {
		return err
	}
	if len(old) > 0 {
		log.Info("replacing previous snapshot", "partition", datePath, "files", len(old))
	}
	return finishReplace(ctx, b, j)
}

// publishDates returns the dates a run publishes, in order. A snapshot is
// published as its one date, even with no rows, so that the date then holds
// nothing. A dataset partitioned by event publishes each date its rows fall
// on, each replacing what that date held before: the unit of publishing
// stays the date folder, so a delta run replaces every event date it
// touches, and dates it has no rows for are left alone. Each date is
// published whole, one after another; a run that fails between two leaves
// the earlier ones published.
func publishDates(ds *schema.Dataset, parts []*partState, snapshot time.Time) []time.Time {
	if ds.Partitioning != schema.ByEvent {
		return []time.Time{snapshot}
	}
	var dates []time.Time
	for _, p := range parts {
		if !slices.ContainsFunc(dates, p.key.date.Equal) {
			dates = append(dates, p.key.date)
		}
	}
	slices.SortFunc(dates, time.Time.Compare)
	return dates
}

// checkNoOtherPublish fails with ErrLakeBusy when another live run of the
// dataset is publishing.
func checkNoOtherPublish(ctx context.Context, b sink.Bucket, ds *schema.Dataset, self string) error {
	journals, err := readJournals(ctx, b, ds)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	for _, j := range journals {
		if j.RunID != self && j.Owner.alive() {
			return j.busy()
		}
	}
	return nil
}

// busy is the error of a run that meets j, the journal of a live run.
func (j journal) busy() error {
	return fmt.Errorf("%w: run %s (pid %d on %s) is publishing %s", ErrLakeBusy, j.RunID, j.Owner.PID, j.Owner.Host, j.DatePath)
}

// readJournals reads the journals of ds's publishes in progress. A journal
// removed meanwhile, its publish done, is passed over.
func readJournals(ctx context.Context, b sink.Bucket, ds *schema.Dataset) ([]journal, error) {
	names, err := listNames(ctx, b, journalDir+"/"+ds.Name+"/", nil)
	if err != nil {
		return nil, err
	}
	var journals []journal
	for _, name := range names {
		data, err := sink.Get(ctx, b, name)
		if errors.Is(err, sink.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		var j journal
		if err := json.Unmarshal(data, &j); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		journals = append(journals, j)
	}
	return journals, nil
}

// finishReplace removes the old files of a journal in phase "replacing" and
// writes the new manifest and _SUCCESS.
func finishReplace(ctx context.Context, b sink.Bucket, j journal) error {
	keep := map[string]bool{}
	for _, n := range j.New {
		keep[n] = true
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(publishParallel)
	for _, o := range j.Old {
		if !keep[o] {
			g.Go(func() error {
				if err := b.Delete(gctx, o); err != nil {
					return fmt.Errorf("publish %s: remove old %s: %w", j.DatePath, o, err)
				}
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := sink.Put(ctx, b, j.DatePath+"/"+ManifestFile, j.Manifest); err != nil {
		return fmt.Errorf("publish %s: manifest: %w", j.DatePath, err)
	}
	if err := sink.Put(ctx, b, j.DatePath+"/"+SuccessFile, nil); err != nil {
		return fmt.Errorf("publish %s: %w", j.DatePath, err)
	}
	return b.Delete(ctx, journalName(j.Dataset, j.RunID))
}

// publishParallel is how many moves or deletes of a publish run at once.
const publishParallel = 8

// removeOldRejects removes the rejects files of earlier runs of a date once
// a run has published it: the date's rejects are those of the run that made
// its snapshot, named by the manifest's run_id.
func removeOldRejects(ctx context.Context, b sink.Bucket, dir, keep string, log *slog.Logger) {
	old, err := listNames(ctx, b, dir, func(name string) bool { return name != keep })
	if err == nil {
		err = removeAll(ctx, b, old)
	}
	if err != nil {
		log.Warn("could not remove the rejects of earlier runs", "folder", dir, "err", err)
	}
}

func journalName(dataset, runID string) string {
	return journalDir + "/" + dataset + "/" + runID + ".json"
}

func writeJournal(ctx context.Context, b sink.Bucket, j journal) error {
	data, err := json.Marshal(j)
	if err != nil {
		return err
	}
	if err := sink.Put(ctx, b, journalName(j.Dataset, j.RunID), data); err != nil {
		return fmt.Errorf("publish %s: journal: %w", j.DatePath, err)
	}
	return nil
}

// recoverLake finishes or undoes the publishes that killed runs of ds left
// behind, and removes their staged files. Only one run may write a dataset
// of a lake at a time.
//
// A journal or staged files of a run still alive (see owner) are left alone;
// a live journal fails this run with ErrLakeBusy.
func recoverLake(ctx context.Context, b sink.Bucket, ds *schema.Dataset, self string, log *slog.Logger) error {
	journals, err := readJournals(ctx, b, ds)
	if err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	for _, j := range journals {
		if j.Owner.RunID != "" && j.Owner.alive() {
			return j.busy()
		}
		var err error
		switch j.Phase {
		case phaseReplacing:
			log.Warn("finishing the publish of an interrupted run", "stale_run", j.RunID, "partition", j.DatePath)
			err = finishReplace(ctx, b, j)
		default:
			log.Warn("undoing the publish of an interrupted run", "stale_run", j.RunID, "partition", j.DatePath)
			err = undoMove(ctx, b, j)
		}
		if err != nil {
			return fmt.Errorf("recover %s: %w", journalName(j.Dataset, j.RunID), err)
		}
	}
	stale, err := staleRuns(ctx, b, ds, self)
	for _, run := range stale {
		log.Info("removing the staged files of an interrupted run", "stale_run", run)
		err = errors.Join(err, removePrefix(ctx, b, stagingPrefix(ds, run)))
	}
	return err
}

// undoMove removes the files a run in phase "moving" may have moved in, and
// puts back the _SUCCESS of the date's previous contents.
func undoMove(ctx context.Context, b sink.Bucket, j journal) error {
	for _, n := range j.New {
		if err := b.Delete(ctx, n); err != nil {
			return err
		}
	}
	for _, o := range j.Old {
		if path.Base(o) == SuccessFile {
			if err := sink.Put(ctx, b, o, nil); err != nil {
				return err
			}
		}
	}
	return b.Delete(ctx, journalName(j.Dataset, j.RunID))
}

// removePrefix deletes every object below prefix.
func removePrefix(ctx context.Context, b sink.Bucket, prefix string) error {
	names, err := listNames(ctx, b, prefix, nil)
	return errors.Join(err, removeAll(ctx, b, names))
}

// listNames returns the names of the objects below prefix that keep
// accepts, or all of them when keep is nil.
func listNames(ctx context.Context, b sink.Bucket, prefix string, keep func(string) bool) ([]string, error) {
	var names []string
	err := b.List(ctx, prefix, func(o sink.Object) error {
		if keep == nil || keep(o.Name) {
			names = append(names, o.Name)
		}
		return nil
	})
	return names, err
}

// removeAll deletes the named objects; one already gone is not an error.
func removeAll(ctx context.Context, b sink.Bucket, names []string) error {
	var err error
	for _, n := range names {
		if derr := b.Delete(ctx, n); derr != nil && !errors.Is(derr, sink.ErrNotExist) {
			err = errors.Join(err, derr)
		}
	}
	return err
}
