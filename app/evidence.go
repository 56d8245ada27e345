package app

import (
	"context"
	"fmt"
	"sync"

	historypb "go.temporal.io/api/history/v1"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/jitaccess/jitaccess/auditchain"
	"github.com/jitaccess/jitaccess/replay"
	"github.com/jitaccess/jitaccess/report"
	"github.com/jitaccess/jitaccess/retention"
	"github.com/jitaccess/jitaccess/siem"
)

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
	var wg sync.WaitGroup
	wg.Go(func() { _ = retention.Run(ctx, opts) })
	if len(dests) > 0 {
		wg.Go(func() { _ = siem.Run(ctx, a.Store, dests, siem.Options{Logger: a.Log.With("component", "siem")}) })
	}
	return wg.Wait, nil
}

func replayFetcher(a *App) retention.HistoryFetcher {
	return func(ctx context.Context, workflowID, runID string) (*historypb.History, bool, error) {
		return replay.FetchHistory(ctx, a.Temporal, workflowID, runID)
	}
}
