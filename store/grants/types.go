package grants

import "time"

// GrantUpdate writes the projection of one grant. Zero values leave a column unchanged,
// except Status, which is always written. Identity columns (tenant, application,
// technician, request) are the API's and never change.
type GrantUpdate struct {
	GrantID     string
	RunID       string
	Status      string
	ActivatedAt time.Time
	ExpiresAt   time.Time
	EndedAt     time.Time
	AccountUPN  string
	AccountID   string
	Roles       []string
	Failure     string
	RevokedBy   string
	// ReleaseAccount frees the account for another grant (implied by a final status).
	ReleaseAccount bool
	// PendingExtension is the grant's extension awaiting approval; nil clears it.
	PendingExtension *PendingExtension
}

// PendingExtension is an extension past the approved duration, waiting for the approvers.
type PendingExtension struct {
	Duration    time.Duration
	By          string
	RequestedAt time.Time
	// Request names the approval request (approve/deny decide it): "extension:<update id>".
	Request string
}
