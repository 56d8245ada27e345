package store

import "time"

// Grant statuses. The Temporal workflow is the source of truth; the grants table is its projection.
const (
	StatusPending      = "pending"
	StatusProvisioning = "provisioning"
	StatusActive       = "active"
	StatusRevoking     = "revoking"
	StatusExpired      = "expired"
	StatusRevoked      = "revoked"
	StatusDenied       = "denied"
	StatusFailed       = "failed"
)

// ApplicationConfig is what a grant needs to know of an Entra ID application.
type ApplicationConfig struct {
	ID             string
	TenantID       string
	Name           string
	Status         string // unauthorized | authorized | ready
	Domain         string
	Roles          []string // role template ids
	AccessDuration time.Duration
}

// Technician is a member of the MSP's staff.
type Technician struct {
	ID          string
	Email       string
	DisplayName string
	Role        string // technician | admin
	CreatedAt   time.Time
}

// Entitlement is the authoritative answer to "may this technician request this application".
type Entitlement struct {
	Allowed     bool
	Member      bool // the technician belongs to the application's tenant
	RuleID      string
	RuleName    string
	Reason      string // a human sentence when not allowed
	Application ApplicationConfig
	Technician  Technician
}

// GrantUpdate writes the projection of one grant. Zero values leave a column unchanged,
// except Status, which is always written.
type GrantUpdate struct {
	GrantID       string
	WorkflowID    string
	RunID         string
	TenantID      string
	ApplicationID string
	TechnicianID  string
	Status        string
	Justification string
	RequestedAt   time.Time
	ActivatedAt   time.Time
	ExpiresAt     time.Time
	EndedAt       time.Time
	AccountUPN    string
	AccountID     string
	Roles         []string
	Failure       string
	RevokedBy     string
}

// AuditEvent is one entry of the audit log.
// ID and CreatedAt are set by RecordAudit when empty.
type AuditEvent struct {
	ID        string
	CreatedAt time.Time
	TenantID  string
	ActorID   string // technician id, or "system"
	ActorKind string // admin | technician | system
	Action    string // e.g. "grant.requested", "grant.denied", "credentials.read"
	Target    string // id of the object acted on
	Details   map[string]any
	// WorkflowID and RunID tie the event to a replayable Temporal history, when it has one.
	WorkflowID string
	RunID      string
	// Seq and Hash are its place in the chain (set by the store; ignored on insert).
	Seq  int64
	Hash string
}
