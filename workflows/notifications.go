package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// PublishGrantEventActivity puts a grant event in the notification outbox (registered from
// notify.Publisher). Delivery happens outside the workflow.
const PublishGrantEventActivity = "PublishGrantEvent"

// Grant events a destination can subscribe to (CloudEvents type jitaccess.grant.<event>).
const (
	NotifyRequested      = "requested"
	NotifyApprovalNeeded = "approval_needed"
	NotifyApproved       = "approved"
	NotifyDenied         = "denied"
	NotifyActive         = "active"
	NotifyExpiringSoon   = "expiring_soon"
	NotifyExtended       = "extended"
	NotifyRevoked        = "revoked"
	NotifyExpired        = "expired"
	NotifyFailed         = "failed"
	NotifyDisableBlocked = "disable_blocked"
	NotifyDrift          = "drift"
)

// DefaultExpiringSoonLead is how long before expiry expiring_soon is published.
const DefaultExpiringSoonLead = 15 * time.Minute

// GrantNotification is the input of PublishGrantEventActivity: identifiers only; the
// publisher reads the rest from the database.
type GrantNotification struct {
	Event   string // Notify*
	GrantID string
	// Key makes the event id with GrantID and Event: the same key publishes once.
	Key     string
	ActorID string
	Comment string
	Reason  string
}

// publishOptions: an outbox insert; retried for ten minutes, then given up (logged): a
// notification is never worth failing or holding a grant for.
func publishOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: 10 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
		Summary: "Queue notification",
	}
}

// notifier publishes grant events without making the grant wait: each publish runs in its
// own coroutine; flush waits for those still running before the workflow returns.
type notifier struct {
	pending int
}

// publish queues n; it never blocks the caller (e.g. a disable).
func (nt *notifier) publish(ctx workflow.Context, n GrantNotification) {
	nt.pending++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { nt.pending-- }()
		actx := workflow.WithActivityOptions(ctx, publishOptions())
		if err := workflow.ExecuteActivity(actx, PublishGrantEventActivity, n).Get(actx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("Notification not queued", "Event", n.Event, "Error", err)
		}
	})
}

// flush waits, at most timeout, for queued publishes to finish (call before returning).
func (nt *notifier) flush(ctx workflow.Context, timeout time.Duration) {
	_, _ = workflow.AwaitWithTimeout(ctx, timeout, func() bool { return nt.pending == 0 })
}
