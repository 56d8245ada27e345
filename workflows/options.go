package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/store"
)

// Timeouts and retry policies, set in one place. Functions rather than variables so that no
// caller can change them for every workflow of the process.

// entitlementOptions: the entitlement check is a local activity (a database read).
// A database outage shorter than two minutes does not fail the grant.
func entitlementOptions(summary string) workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: 2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    200 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    10 * time.Second,
		},
		Summary: summary,
	}
}

// recordOptions: projection writes are local activities. They are retried for a minute;
// after that the workflow goes on (it is the source of truth) and logs the gap, so a
// database outage can never keep an account from being disabled.
func recordOptions(summary string) workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    200 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    10 * time.Second,
		},
		Summary: summary,
	}
}

// provisionOptions: EnsureAccount and AssignRoles call Graph. The retry schedule rides out
// Entra's replication delay after a user is created (tens of seconds, up to ~2 minutes) and
// throttling (the activity asks for Retry-After through NextRetryDelay); errors waiting
// cannot fix fail at once. WaitForCancellation makes a revoke wait for an attempt in flight,
// so nothing is still creating the account while it is being disabled.
func provisionOptions(summary string) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: 10 * time.Minute,
		WaitForCancellation:    true,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        20 * time.Second,
			NonRetryableErrorTypes: activities.NonRetryableErrorTypes(),
		},
		Summary: summary,
	}
}

// disableOptions: disabling is retried without limit until it succeeds; an attempt that
// cannot succeed (authorization lost) waits for an admin, at most a minute between attempts.
// An attempt is one Graph $batch (throttling waits at most Config.ThrottleWait inside it) and
// one database delete, normally well under a second; the start-to-close timeout is what an
// attempt lost with its worker costs before Temporal retries it, so it is kept short (it was a
// minute: docs/reliability.md, docs/performance.md).
func disableOptions(summary string) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		WaitForCancellation: true,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			MaximumAttempts:    0, // unlimited
		},
		Summary: summary,
	}
}

// disableOptionsReportingBlocked is disableOptions where lost authorization ends the attempt
// series at once: the workflow records why the grant is stuck and schedules the disable
// again every minute itself (the same pace as before).
func disableOptionsReportingBlocked(summary string) workflow.ActivityOptions {
	o := disableOptions(summary)
	o.RetryPolicy.NonRetryableErrorTypes = []string{activities.ErrTypeAuthorizationLost, activities.ErrTypeNotAuthorized}
	return o
}

// grantIDFromRunChange names the workflow change that derives the grant id from the run id.
const grantIDFromRunChange = "grant-id-from-run"

// GrantIDForRun is the grant id of a workflow run: "grt_" and 16 base32 characters of the
// run id's SHA-256, the same shape as store.NewID's ids.
func GrantIDForRun(runID string) string {
	return store.DerivedID("grt", "grant:"+runID)
}
