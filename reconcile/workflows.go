package reconcile

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// WorkflowType is the Reconcile workflow's registered name.
const WorkflowType = "Reconcile"

// maxFindingsInResult bounds the findings a run returns (the audit log has them all).
const maxFindingsInResult = 100

// parallelApplications is how many applications are swept at once: each is its own tenant's
// budget, so they do not compete for Graph's limits.
const parallelApplications = 4

// Input of a Reconcile run. The Schedule starts it with the zero value.
type Input struct {
	TenantID string
	DryRun   bool
}

// Result of a Reconcile run. It carries identifiers and counts only.
type Result struct {
	Applications int
	Grants       int
	Accounts     int
	ByKind       map[string]int
	Findings     []Finding // the first maxFindingsInResult
	Errors       []string  // applications whose sweep failed
}

// Reconcile sweeps every application (of Input.TenantID), a few at a time. An application
// whose sweep fails is reported in Result.Errors and retried by the next run.
func Reconcile(ctx workflow.Context, in Input) (Result, error) {
	var acts *Activities
	lctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5},
	})
	var apps []string
	if err := workflow.ExecuteActivity(lctx, acts.ReconcileListApplications, ListApplicationsInput{TenantID: in.TenantID}).Get(ctx, &apps); err != nil {
		return Result{}, fmt.Errorf("list applications: %w", err)
	}
	sctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Hour,
		HeartbeatTimeout:    30 * time.Second, // a sweep heartbeats at least every 5 s while it waits
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumAttempts: 3},
	})
	sweepID := workflow.GetInfo(ctx).WorkflowExecution.RunID
	res := Result{Applications: len(apps), ByKind: map[string]int{}}
	for start := 0; start < len(apps); start += parallelApplications {
		chunk := apps[start:min(start+parallelApplications, len(apps))]
		futures := make([]workflow.Future, len(chunk))
		for i, app := range chunk {
			futures[i] = workflow.ExecuteActivity(sctx, acts.ReconcileSweep, SweepInput{ApplicationID: app, DryRun: in.DryRun, SweepID: sweepID})
		}
		for i, f := range futures {
			var r SweepResult
			if err := f.Get(ctx, &r); err != nil {
				res.Errors = append(res.Errors, fmt.Sprintf("application %s: %v", chunk[i], err))
				continue
			}
			res.Grants += r.Grants
			res.Accounts += r.Accounts
			for _, fd := range r.Findings {
				res.ByKind[fd.Kind]++
				if len(res.Findings) < maxFindingsInResult {
					res.Findings = append(res.Findings, fd)
				}
			}
		}
	}
	return res, nil
}
