package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// The lease of a grant: how long it lives, how it is renewed, how it is revoked. Everything
// here is a rule; the durations it bounds come from the database (Plan, ExtendCheck).
const (
	// MinExtension is the smallest accepted extension step.
	MinExtension = 5 * time.Minute
	// MaxExtensions is how often one grant may be extended.
	MaxExtensions = 5
	// DefaultMaxTotal bounds the total active time when the database names no maximum.
	DefaultMaxTotal = 24 * time.Hour
	// HistoryLimit: a run continues as new past this many events (or when the server
	// suggests it), well below the server's warning at 10,240.
	HistoryLimit = 2000
)

// renewal decides an extension of the lease: active, no extension waiting for approval, by a
// verified actor, still entitled, a step of at least MinExtension and at most the
// application's duration, at most MaxExtensions times, a total active time within the global
// maximum, and within the approved duration (plus the extensions approvers let pass it).
func renewal(st State, now time.Time, revoking bool, req ExtendRequest, chk ExtendCheck) error {
	switch {
	case st.Status != StatusActive || revoking || !now.Before(st.ExpiresAt):
		return temporal.NewApplicationError(fmt.Sprintf("the grant is %s, not active", st.Status), ErrTypeNotActive)
	case st.PendingExtension != nil:
		return temporal.NewApplicationError(fmt.Sprintf("an extension by %s is already awaiting approval", st.PendingExtension.Duration),
			ErrTypeApprovalRequired)
	case req.Duration <= 0:
		return temporal.NewApplicationError(fmt.Sprintf("extension %s is not a positive duration", req.Duration), ErrTypeInvalidDuration)
	case req.Duration < MinExtension:
		return temporal.NewApplicationError(fmt.Sprintf("extension %s is shorter than the minimum %s", req.Duration, MinExtension), ErrTypeExtensionTooShort)
	case len(st.Extensions) >= MaxExtensions:
		return temporal.NewApplicationError(fmt.Sprintf("the grant was already extended %d times, the maximum", len(st.Extensions)), ErrTypeExtensionLimit)
	case !chk.Actor.Verified:
		return temporal.NewApplicationError("the requester is not the grant's technician or an admin", ErrTypeActorUnverified)
	case !chk.Entitled:
		return temporal.NewApplicationError("no longer entitled: "+chk.Reason, ErrTypeNotEntitled)
	case chk.MaxStep > 0 && req.Duration > chk.MaxStep:
		return temporal.NewApplicationError(
			fmt.Sprintf("extension %s is more than the %s this application allows", req.Duration, chk.MaxStep), ErrTypeDurationExceedsMaximum)
	}
	maxTotal := chk.MaxTotal
	if maxTotal <= 0 {
		maxTotal = DefaultMaxTotal
	}
	if total := st.ExpiresAt.Add(req.Duration).Sub(st.ActivatedAt); total > maxTotal {
		return temporal.NewApplicationError(
			fmt.Sprintf("extending by %s would make %s of access, more than the maximum %s", req.Duration, total, maxTotal),
			ErrTypeDurationExceedsMaximum)
	}
	approved := chk.ApprovedTotal
	for _, e := range st.Extensions {
		if len(e.ApprovedBy) > 0 {
			approved += e.Duration
		}
	}
	if total := st.ExpiresAt.Add(req.Duration).Sub(st.ActivatedAt); chk.ApprovedTotal > 0 && total > approved {
		return temporal.NewApplicationError(
			fmt.Sprintf("the grant was approved for %s; extending it to %s needs a new approved request", approved, total),
			ErrTypeApprovalRequired)
	}
	return nil
}

// revocation lists the steps that end a lease. Required steps are retried until they succeed
// (by the server, without history growth); best-effort steps may be lost without weakening
// the promise that nothing stays privileged.
var revocation = []struct {
	Step     string
	Required bool
}{
	{"delete its Temporary Access Pass", false},
	{"disable the account (accountEnabled=false)", true},
	{"revoke its sign-in sessions", true},
	{"replace its password with one nobody sees", true},
	{"remove every directory role assignment of the account", true},
	{"delete the stored credential", true},
	{"write the final projection and audit event", true},
	{"update search attributes and UI details", false},
}

// RevocationSteps describes the revocation for documentation and tools.
func RevocationSteps() (required, bestEffort []string) {
	for _, s := range revocation {
		if s.Required {
			required = append(required, s.Step)
		} else {
			bestEffort = append(bestEffort, s.Step)
		}
	}
	return required, bestEffort
}

// Activity options: timeouts and retry policies of each step, in one place.

// deleteTAPTimeout bounds the best-effort deletion of a grant's Temporary Access Pass, which
// comes before the disable and must not hold it up.
const deleteTAPTimeout = 20 * time.Second

// heartbeat is the HeartbeatTimeout of every directory activity: a cancel or a lost worker
// is seen within it.
const heartbeat = 10 * time.Second

// dbOptions: database steps that must decide before the grant goes on (claim, actor and
// extension checks) are local activities retried for two minutes.
func dbOptions(summary string) workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: 2 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second},
		Summary:                summary,
	}
}

// claimOptions: nothing is touched before the claim, so it waits out a database outage of up
// to a day (then the run ends refused, and the row stays pending for the reconciler).
func claimOptions(summary string) workflow.LocalActivityOptions {
	o := dbOptions(summary)
	o.ScheduleToCloseTimeout = 24 * time.Hour
	o.RetryPolicy.MaximumInterval = time.Minute
	return o
}

// recordOptions: a projection write is tried for a minute as a local activity; what is not
// written stays in the outbox and goes with the next write (see flush).
func recordOptions(summary string) workflow.LocalActivityOptions {
	o := dbOptions(summary)
	o.ScheduleToCloseTimeout = time.Minute
	return o
}

// drainOptions: the last write of a run is retried by the server until it succeeds.
func drainOptions(summary string) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
		Summary:             summary,
	}
}

// provisionOptions: EnsureAccount and AssignRoles ride out replication delay and throttling
// for ten minutes; errors waiting cannot fix fail at once. WaitForCancellation makes a revoke
// wait for the attempt in flight (which sees the cancel through its heartbeat).
func provisionOptions(summary string) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:       heartbeat,
		WaitForCancellation:    true,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 20 * time.Second,
			NonRetryableErrorTypes: NonRetryableProvisioningErrors()},
		Summary: summary,
	}
}

// disableOptions: the disable is retried by the server without limit, at most a minute apart,
// so a blocked disable costs no history.
func disableOptions(summary string) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		HeartbeatTimeout:    heartbeat,
		WaitForCancellation: true,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
		Summary:             summary,
	}
}
