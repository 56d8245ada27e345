package workflows

import "time"

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

// GrantNotification is a grant event for notify.Publisher (called by the activities, the
// approval stage and the reconciler): identifiers only; the publisher reads the rest from the
// database.
type GrantNotification struct {
	Event   string // Notify*
	GrantID string
	// Key makes the event id with GrantID and Event: the same key publishes once.
	Key     string
	ActorID string
	Comment string
	Reason  string
}
