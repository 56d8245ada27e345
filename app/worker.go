package app

import (
	"context"
	"fmt"
	"time"

	sdkworker "go.temporal.io/sdk/worker"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/notify"
	"github.com/jitaccess/jitaccess/reconcile"
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
	pub := a.Publisher()
	acts := &activities.Activities{Store: a.Store, Directory: a.Entra, MaxAccessDuration: a.Cfg.MaxAccessDuration,
		Now: time.Now, Logger: a.Log.With("component", "activities"), Notifier: pub}
	w := worker.New(a.Temporal, acts, worker.Options{TaskQueue: a.Cfg.TaskQueue, Registerer: a.Registry, Logger: a.Log,
		Deployment: a.Cfg.WorkerDeployment, BuildID: a.Cfg.WorkerBuildID})
	reconcile.Register(w, &reconcile.Activities{Sweeper: a.reconciler(pub)})
	if err := reconcile.EnsureSchedule(ctx, a.Temporal, a.Cfg.ReconcileInterval, a.Cfg.TaskQueue); err != nil {
		// Grants still expire without it; `jitaccess reconcile` still sweeps on demand.
		a.Log.Error("reconciler schedule not ensured", "schedule_id", reconcile.ScheduleID, "error", err)
	}
	waitEvidence, err := a.startEvidence(ctx, w)
	if err != nil {
		return err
	}
	waitNotify := a.startNotifications(ctx, pub)
	if a.Cfg.ProfileDir != "" {
		go func() {
			if err := worker.DumpProfiles(ctx, a.Cfg.ProfileDir, worker.ProfileEvery, a.Log); err != nil {
				a.Log.Error("worker profiles off", "error", err)
			}
		}()
	}
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	a.Log.Info("worker started", "task_queue", a.Cfg.TaskQueue, "temporal", a.Cfg.TemporalAddress)
	<-ctx.Done()
	w.Stop()
	waitEvidence()
	waitNotify()
	a.Log.Info("worker stopped")
	return nil
}

// Reconciler is the sweep `jitaccess reconcile` runs.
func (a *App) Reconciler() *reconcile.Sweeper { return a.reconciler(a.Publisher()) }

// reconciler is the sweep announcing drift through pub (the worker's one publisher).
func (a *App) reconciler(pub *notify.Publisher) *reconcile.Sweeper {
	return &reconcile.Sweeper{Store: a.Store, Directory: a.Entra, Runs: a.Temporal,
		Metrics: reconcile.NewMetrics(a.Registry), Logger: a.Log.With("component", "reconcile"), Notifier: pub}
}
