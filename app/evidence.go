package app

import (
	"context"
	"fmt"
	"sync"
	"time"

	historypb "go.temporal.io/api/history/v1"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/jitaccess/jitaccess/auditchain"
	"github.com/jitaccess/jitaccess/replay"
	"github.com/jitaccess/jitaccess/report"
	"github.com/jitaccess/jitaccess/retention"
	"github.com/jitaccess/jitaccess/siem"
	"github.com/jitaccess/jitaccess/store"
)

// leaderRetry is how often a worker not running the SIEM export or the retention loop checks
// whether the worker that does is still there.
const leaderRetry = 15 * time.Second

// startEvidence registers the monthly report workflow on w (before it starts), ensures its
// schedule, and runs the SIEM export and the retention loop (seal, purge, archive) until ctx
// ends; wait blocks until they have stopped.
func (a *App) startEvidence(ctx context.Context, w sdkworker.Worker) (wait func(), err error) {
	report.Register(w, &report.Monthly{Store: a.Store})
	if err := report.EnsureReportSchedule(ctx, a.Temporal, a.Cfg.TaskQueue); err != nil {
		return nil, err
	}
	keys, err := auditchain.NewKeys(a.Cfg.EncryptionKey, a.Cfg.PreviousKeys...)
	if err != nil {
		return nil, fmt.Errorf("JIT_ENCRYPTION_KEY: %w", err)
	}
	dests, err := siem.Destinations(a.Cfg)
	if err != nil {
		return nil, err
	}
	opts := retention.Options{Store: a.Store, Keys: keys, CheckpointInterval: a.Cfg.AuditCheckpointInterval,
		Retention: a.Cfg.AuditRetention, Logger: a.Log.With("component", "retention")}
	if a.Cfg.HistoryArchiveDir != "" {
		opts.Archiver = &retention.Archiver{Dir: a.Cfg.HistoryArchiveDir, Grants: a.Store, Fetch: replayFetcher(a)}
	}
	// Once per deployment, however many workers: the worker holding the job's lock runs it,
	// another takes over when that worker goes.
	var wg sync.WaitGroup
	wg.Go(func() {
		_ = a.Store.WhileLeader(ctx, store.LeaderRetention, leaderRetry, opts.Logger, func(ctx context.Context) { _ = retention.Run(ctx, opts) })
	})
	if len(dests) > 0 {
		log := a.Log.With("component", "siem")
		wg.Go(func() {
			_ = a.Store.WhileLeader(ctx, store.LeaderSIEM, leaderRetry, log, func(ctx context.Context) {
				_ = siem.Run(ctx, a.Store, dests, siem.Options{Logger: log})
			})
		})
	}
	return wg.Wait, nil
}

func replayFetcher(a *App) retention.HistoryFetcher {
	return func(ctx context.Context, workflowID, runID string) (*historypb.History, bool, error) {
		return replay.FetchHistory(ctx, a.Temporal, workflowID, runID)
	}
}
