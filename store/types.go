package store

import "time"

// ApplicationConfig is what a grant needs to know of an Entra ID application.
type ApplicationConfig struct {
	ID             string
	TenantID       string
	Name           string
	Status         string // unauthorized | authorized | ready
	Domain         string
	Roles          []string // role template ids
	AccessDuration time.Duration
	SignInMethod   string // password | tap | password_and_tap
}

// Technician is a member of the MSP's staff.
type Technician struct {
	ID          string
	Email       string
	DisplayName string
	Role        string // technician | admin
	CreatedAt   time.Time
	// Active is false once the person is deactivated: no sign-in, no token, no grant.
	Active        bool
	DeactivatedAt time.Time
	// EntraTenantID and EntraObjectID identify the person once linked at first sign-in.
	EntraTenantID string
	EntraObjectID string
}

// Token is an API token's record (never the token itself, which is shown once).
type Token struct {
	ID           string
	TechnicianID string
	Name         string
	Role         string // empty: the holder's role; "technician" narrows an admin's token
	Kind         string // empty: an API token; TokenKindExtension: a browser extension session
	CreatedAt    time.Time
	LastUsedAt   time.Time
	ExpiresAt    time.Time // zero: no expiry
	RevokedAt    time.Time
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
