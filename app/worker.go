package app

import (
	"context"
	"time"

	sdkworker "go.temporal.io/sdk/worker"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/worker"
)

// ConfigureProcess applies the SDK's process-wide settings; call it once, before any worker
// of the process starts. The sticky cache keeps recently run workflows in memory: the SDK's
// default of 10,000 made worker memory grow ~70-80 KiB per sleeping grant (docs/performance.md),
// while a grant that wakes after eviction is simply replayed from its short history.
func ConfigureProcess(cfg config.Config) {
	sdkworker.SetStickyWorkflowCacheSize(cfg.WorkerCacheSize)
}

// RunWorker blocks until ctx ends, then stops the worker gracefully: in-flight activities
// finish within the stop timeout; anything cut short is retried by Temporal elsewhere.
func (a *App) RunWorker(ctx context.Context) error {
	acts := &activities.Activities{Store: a.Store, Directory: a.Entra, MaxAccessDuration: a.Cfg.MaxAccessDuration,
		Now: time.Now, Logger: a.Log.With("component", "activities")}
	a.Log.Info("worker starting", "task_queue", a.Cfg.TaskQueue, "temporal", a.Cfg.TemporalAddress)
	err := worker.Run(ctx, a.Temporal, acts, worker.Options{TaskQueue: a.Cfg.TaskQueue, Registerer: a.Registry, Logger: a.Log})
	a.Log.Info("worker stopped")
	return err
}
