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
}
