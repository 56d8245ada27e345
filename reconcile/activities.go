package reconcile

import (
	"context"
)

// Activity type names (method names of *Activities).
const (
	ListApplicationsName = "ReconcileListApplications"
	SweepName            = "ReconcileSweep"
)

// Activities are the Reconcile workflow's activities; Register registers them.
type Activities struct {
	Sweeper *Sweeper
}

// ListApplicationsInput narrows a sweep to one tenant (empty: every tenant).
type ListApplicationsInput struct {
	TenantID string
}

// ReconcileListApplications lists the applications to sweep.
func (a *Activities) ReconcileListApplications(ctx context.Context, in ListApplicationsInput) ([]string, error) {
	return a.Sweeper.Store.ReconcileApplications(ctx, in.TenantID)
}

// ReconcileSweep sweeps one application. It heartbeats while it pages and waits out
// throttling, so a crashed worker is noticed within the heartbeat timeout.
func (a *Activities) ReconcileSweep(ctx context.Context, in SweepInput) (SweepResult, error) {
	return a.Sweeper.SweepApplication(ctx, in)
}
