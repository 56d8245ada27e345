package reconcile_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/jitaccess/jitaccess/reconcile"
)

// The workflow sweeps every application with one sweep id (its run id), sums what the
// sweeps found, and reports an application whose sweep failed without failing the run.
func TestReconcileWorkflow(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	// The machine is shared and loaded: a starved workflow goroutine is not a deadlock.
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: time.Minute})
	acts := &reconcile.Activities{}
	env.RegisterActivity(acts)
	apps := []string{"app_a", "app_b", "app_c", "app_d", "app_e"}
	env.OnActivity(acts.ReconcileListApplications, mock.Anything, reconcile.ListApplicationsInput{TenantID: "tnt_1"}).Return(apps, nil)
	var sweepIDs []string
	env.OnActivity(acts.ReconcileSweep, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in reconcile.SweepInput) (reconcile.SweepResult, error) {
			sweepIDs = append(sweepIDs, in.SweepID)
			if !in.DryRun {
				return reconcile.SweepResult{}, errors.New("dry run expected")
			}
			if in.ApplicationID == "app_c" {
				return reconcile.SweepResult{}, errors.New("authorization lost")
			}
			return reconcile.SweepResult{ApplicationID: in.ApplicationID, Grants: 1, Accounts: 2,
				Findings: []reconcile.Finding{{Kind: reconcile.KindExtraRoles, ApplicationID: in.ApplicationID}}}, nil
		})
	env.ExecuteWorkflow(reconcile.Reconcile, reconcile.Input{TenantID: "tnt_1", DryRun: true})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res reconcile.Result
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 5, res.Applications)
	require.Equal(t, 4, res.Grants)
	require.Equal(t, 8, res.Accounts)
	require.Equal(t, map[string]int{reconcile.KindExtraRoles: 4}, res.ByKind)
	require.Len(t, res.Findings, 4)
	require.Len(t, res.Errors, 1)
	require.Contains(t, res.Errors[0], "app_c")
	require.NotEmpty(t, sweepIDs)
	for _, id := range sweepIDs {
		require.Equal(t, sweepIDs[0], id, "one sweep id per run")
	}
}
