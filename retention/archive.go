package retention

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/jitaccess/jitaccess/store"
)

// HistoryFetcher reads a run's history (replay.FetchHistory over a Temporal client).
type HistoryFetcher func(ctx context.Context, workflowID, runID string) (h *historypb.History, running bool, err error)

// Archiver writes the history of every closed grant to Dir as JSON, in the form `temporal
// workflow show --output json` writes and `jitaccess replay --history-file` reads:
// <Dir>/<tenant>/<escaped workflow id>/<run id>.json. A file once written is not rewritten.
type Archiver struct {
	Dir    string
	Fetch  HistoryFetcher
	Grants interface {
		GrantsEndedSince(ctx context.Context, since time.Time, limit int) ([]store.Grant, error)
	}
	// Lookback is how far back ended grants are looked at each time: at least the namespace
	// retention (default 30 days).
	Lookback time.Duration
	Now      func() time.Time
}

// Path is where the history of a grant's run is archived.
func (a *Archiver) Path(g store.Grant) string {
	return filepath.Join(a.Dir, url.PathEscape(g.TenantID), url.PathEscape(g.WorkflowID), url.PathEscape(g.RunID)+".json")
}

// ArchiveClosed writes the histories not archived yet and returns how many it wrote.
func (a *Archiver) ArchiveClosed(ctx context.Context) (int, error) {
	lookback := a.Lookback
	if lookback <= 0 {
		lookback = 30 * 24 * time.Hour
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	since, written := now().Add(-lookback), 0
	for {
		grants, err := a.Grants.GrantsEndedSince(ctx, since, 500)
		if err != nil {
			return written, err
		}
		for _, g := range grants {
			ok, err := a.archive(ctx, g)
			if err != nil {
				return written, err
			}
			if ok {
				written++
			}
		}
		if len(grants) < 500 {
			return written, nil
		}
		since = grants[len(grants)-1].EndedAt.Add(time.Microsecond)
	}
}

func (a *Archiver) archive(ctx context.Context, g store.Grant) (bool, error) {
	if g.WorkflowID == "" || g.RunID == "" {
		return false, nil
	}
	path := a.Path(g)
	if _, err := os.Stat(path); err == nil {
		return false, nil
	}
	h, running, err := a.Fetch(ctx, g.WorkflowID, g.RunID)
	if err != nil {
		return false, fmt.Errorf("archive history of grant %s: %w", g.ID, err)
	}
	if running {
		return false, nil // the run closes later (a reconciler may still finish it)
	}
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		return false, fmt.Errorf("archive history of grant %s: %w", g.ID, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return false, fmt.Errorf("archive history: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o640); err != nil {
		return false, fmt.Errorf("archive history: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return false, fmt.Errorf("archive history: %w", err)
	}
	return true, nil
}
