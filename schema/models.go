package schema

import (
	"time"

	"github.com/uptrace/bun"
)

// The models below mirror the tables the migrations create. They are plain structs used by
// package store for queries; migrations never depend on them, so a model may evolve only
// together with a new migration.

// Tenant is a customer company of the MSP.
type Tenant struct {
	bun.BaseModel `bun:"table:tenants"`

	ID        string    `bun:"id,pk"`
	Name      string    `bun:"name,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// Technician is a member of the MSP's staff (role admin or technician).
type Technician struct {
	bun.BaseModel `bun:"table:technicians"`

	ID          string    `bun:"id,pk"`
	Email       string    `bun:"email,notnull"`
	DisplayName string    `bun:"display_name,notnull"`
	Role        string    `bun:"role,notnull"`
	CreatedAt   time.Time `bun:"created_at,notnull"`
	// EntraTenantID and EntraObjectID (the ID token's tid and oid) are linked at first
	// sign-in; from then on they, not the e-mail, identify the person.
	EntraTenantID string    `bun:"entra_tenant_id,nullzero"`
	EntraObjectID string    `bun:"entra_object_id,nullzero"`
	Active        bool      `bun:"active,notnull"`
	DeactivatedAt time.Time `bun:"deactivated_at,nullzero"`
}

// APIToken is a bearer token, stored only as its SHA-256 hash.
type APIToken struct {
	bun.BaseModel `bun:"table:api_tokens"`

	ID           string    `bun:"id,pk"`
	TechnicianID string    `bun:"technician_id,notnull"`
	Hash         string    `bun:"hash,notnull"`
	Name         string    `bun:"name,notnull"`
	Role         string    `bun:"role,notnull"` // empty: the holder's role
	Kind         string    `bun:"kind,notnull"` // empty: an API token; "extension": a browser extension session
	CreatedAt    time.Time `bun:"created_at,notnull"`
	LastUsedAt   time.Time `bun:"last_used_at,nullzero"`
	ExpiresAt    time.Time `bun:"expires_at,nullzero"`
	RevokedAt    time.Time `bun:"revoked_at,nullzero"`
}

// ExtensionCode is a one-time browser extension connect code, stored as its SHA-256 hash.
type ExtensionCode struct {
	bun.BaseModel `bun:"table:extension_codes"`

	CodeHash      string    `bun:"code_hash,pk"`
	TechnicianID  string    `bun:"technician_id,notnull"`
	ExtensionID   string    `bun:"extension_id,notnull"`
	CodeChallenge string    `bun:"code_challenge,notnull"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
	ExpiresAt     time.Time `bun:"expires_at,notnull"`
	UsedAt        time.Time `bun:"used_at,nullzero"`
}

// PortalSession is a signed-in browser, keyed by the SHA-256 of the cookie's value.
type PortalSession struct {
	bun.BaseModel `bun:"table:portal_sessions"`

	IDHash       string    `bun:"id_hash,pk"`
	TechnicianID string    `bun:"technician_id,notnull"`
	CSRFToken    string    `bun:"csrf_token,notnull"`
	CreatedAt    time.Time `bun:"created_at,notnull"`
	LastSeenAt   time.Time `bun:"last_seen_at,notnull"`
	ExpiresAt    time.Time `bun:"expires_at,notnull"`
	ClientIP     string    `bun:"client_ip,notnull"`
	UserAgent    string    `bun:"user_agent,notnull"`
}

// PortalLogin is a portal sign-in under way, keyed by the SHA-256 of its state; the PKCE
// verifier is sealed.
type PortalLogin struct {
	bun.BaseModel `bun:"table:portal_logins"`

	StateHash          string    `bun:"state_hash,pk"`
	Nonce              string    `bun:"nonce,notnull"`
	CodeVerifierSealed string    `bun:"code_verifier,notnull"`
	ReturnTo           string    `bun:"return_to,notnull"`
	CreatedAt          time.Time `bun:"created_at,notnull"`
	ExpiresAt          time.Time `bun:"expires_at,notnull"`
}

// TenantMember gives a technician access to a tenant; the tenant's members are exactly the
// members of its built-in group all-admins.
type TenantMember struct {
	bun.BaseModel `bun:"table:tenant_members"`

	TenantID     string    `bun:"tenant_id,pk"`
	TechnicianID string    `bun:"technician_id,pk"`
	CreatedAt    time.Time `bun:"created_at,notnull"`
}

// Group is a custom group of a tenant.
type Group struct {
	bun.BaseModel `bun:"table:groups"`

	ID        string    `bun:"id,pk"`
	TenantID  string    `bun:"tenant_id,notnull"`
	Name      string    `bun:"name,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// GroupMember puts a technician in a custom group.
type GroupMember struct {
	bun.BaseModel `bun:"table:group_members"`

	GroupID      string    `bun:"group_id,pk"`
	TechnicianID string    `bun:"technician_id,pk"`
	CreatedAt    time.Time `bun:"created_at,notnull"`
}

// Application is an Entra ID application: one customer Entra tenant to grant access in.
type Application struct {
	bun.BaseModel `bun:"table:applications"`

	ID             string        `bun:"id,pk"`
	TenantID       string        `bun:"tenant_id,notnull"`
	Name           string        `bun:"name,notnull"`
	Type           string        `bun:"type,notnull"`
	Credentials    string        `bun:"credentials,notnull"`
	AccessDuration time.Duration `bun:"access_duration,notnull"` // nanoseconds
	Domain         string        `bun:"domain,nullzero"`
	Roles          StringList    `bun:"roles,notnull"`
	Status         string        `bun:"status,notnull"`
	CreatedAt      time.Time     `bun:"created_at,notnull"`
	UpdatedAt      time.Time     `bun:"updated_at,notnull"`
	// SignInMethod is password | tap | password_and_tap (migration 06; empty on insert: the default).
	SignInMethod string `bun:"sign_in_method,nullzero,notnull,default:'password_and_tap'"`
	// RestrictedAdminUnit puts JIT accounts in a restricted-management administrative unit
	// (migration 11); AdminUnitID is that unit once created.
	RestrictedAdminUnit bool   `bun:"restricted_admin_unit,notnull,default:false"`
	AdminUnitID         string `bun:"admin_unit_id,notnull,default:''"`
}

// ApplicationAuthorization is the admin consent of an application: the sealed refresh token
// and who gave it.
type ApplicationAuthorization struct {
	bun.BaseModel `bun:"table:application_authorizations"`

	ApplicationID      string    `bun:"application_id,pk"`
	RefreshTokenSealed string    `bun:"refresh_token_sealed,notnull"`
	KeyID              string    `bun:"key_id,notnull"`
	Account            string    `bun:"account,notnull"`
	DisplayName        string    `bun:"display_name,notnull"`
	EntraTenantID      string    `bun:"entra_tenant_id,notnull"`
	AuthorizedAt       time.Time `bun:"authorized_at,notnull"`
	AuthorizedBy       string    `bun:"authorized_by,nullzero"`
	UpdatedAt          time.Time `bun:"updated_at,notnull"`
}

// OAuthState is one pending admin-consent sign-in: single use, short-lived.
type OAuthState struct {
	bun.BaseModel `bun:"table:oauth_states"`

	StateHash          string    `bun:"state_hash,pk"`
	ApplicationID      string    `bun:"application_id,notnull"`
	AdminID            string    `bun:"admin_id,notnull"`
	SessionHash        string    `bun:"session_hash,notnull"` // portal session that started it; "" through the API
	CodeVerifierSealed string    `bun:"code_verifier_sealed,notnull"`
	CreatedAt          time.Time `bun:"created_at,notnull"`
	ExpiresAt          time.Time `bun:"expires_at,notnull"`
	UsedAt             time.Time `bun:"used_at,nullzero"`
}

// Entitlement is a rule "IF group|technician THEN application".
// A rule on the built-in group has BuiltinGroup "all-admins" and no GroupID.
type Entitlement struct {
	bun.BaseModel `bun:"table:entitlements"`

	ID            string    `bun:"id,pk"`
	TenantID      string    `bun:"tenant_id,notnull"`
	Name          string    `bun:"name,notnull"`
	ConditionType string    `bun:"condition_type,notnull"`
	GroupID       string    `bun:"group_id,nullzero"`
	BuiltinGroup  string    `bun:"builtin_group,nullzero"`
	TechnicianID  string    `bun:"technician_id,nullzero"`
	ApplicationID string    `bun:"application_id,notnull"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
}

// Grant is the projection of one AccessRequest workflow run.
type Grant struct {
	bun.BaseModel `bun:"table:grants"`

	ID            string     `bun:"id,pk"`
	WorkflowID    string     `bun:"workflow_id,notnull"`
	RunID         string     `bun:"run_id,nullzero"`
	TenantID      string     `bun:"tenant_id,notnull"`
	ApplicationID string     `bun:"application_id,notnull"`
	TechnicianID  string     `bun:"technician_id,notnull"`
	Status        string     `bun:"status,notnull"`
	Justification string     `bun:"justification,notnull"`
	RequestedAt   time.Time  `bun:"requested_at,notnull"`
	ActivatedAt   time.Time  `bun:"activated_at,nullzero"`
	ExpiresAt     time.Time  `bun:"expires_at,nullzero"`
	EndedAt       time.Time  `bun:"ended_at,nullzero"`
	AccountUPN    string     `bun:"account_upn,nullzero"`
	AccountID     string     `bun:"account_id,nullzero"`
	Roles         StringList `bun:"roles,notnull"`
	Failure       string     `bun:"failure,nullzero"`
	RevokedBy     string     `bun:"revoked_by,nullzero"`
	UpdatedAt     time.Time  `bun:"updated_at,notnull"`
	// FirstRunID is the run chain that claimed the row; RequestedSeconds the duration asked
	// for; AccountLock the account name while the grant is live (unique).
	FirstRunID       string `bun:"first_run_id,nullzero"`
	RequestedSeconds int64  `bun:"requested_seconds,notnull"`
	AccountLock      string `bun:"account_lock,nullzero"`
	// PendingExtension*: an extension past the approved duration awaiting the approvers.
	PendingExtensionRequest string    `bun:"pending_extension_request,nullzero"`
	PendingExtensionSeconds int64     `bun:"pending_extension_seconds,nullzero"`
	PendingExtensionBy      string    `bun:"pending_extension_by,nullzero"`
	PendingExtensionAt      time.Time `bun:"pending_extension_at,nullzero"`
}

// GrantCredential holds the sealed managed password of a grant's account while it is usable.
type GrantCredential struct {
	bun.BaseModel `bun:"table:grant_credentials"`

	GrantID        string    `bun:"grant_id,pk"`
	UPN            string    `bun:"upn,notnull"`
	PasswordSealed string    `bun:"password_sealed,notnull"`
	KeyID          string    `bun:"key_id,notnull"`
	CreatedAt      time.Time `bun:"created_at,notnull"`
}

// AuditEvent is one entry of the audit log. It has no foreign keys on purpose: the log
// outlives whatever it talks about.
type AuditEvent struct {
	bun.BaseModel `bun:"table:audit_events"`

	ID        string    `bun:"id,pk"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	TenantID  string    `bun:"tenant_id,nullzero"`
	ActorID   string    `bun:"actor_id,notnull"`
	ActorKind string    `bun:"actor_kind,notnull"`
	Action    string    `bun:"action,notnull"`
	Target    string    `bun:"target,notnull"`
	Details   string    `bun:"details,notnull"` // JSON object
	// The chain (migration 09): position, links, and the Temporal run the event belongs to.
	Seq        int64  `bun:"seq,nullzero"`
	PrevHash   string `bun:"prev_hash,notnull"`
	Hash       string `bun:"hash,notnull"`
	WorkflowID string `bun:"workflow_id,notnull"`
	RunID      string `bun:"run_id,notnull"`
}

// AuditChainHead is the last link of an audit chain; writers lock it to append.
type AuditChainHead struct {
	bun.BaseModel `bun:"table:audit_chain_heads"`

	ChainID   string    `bun:"chain_id,pk"`
	Seq       int64     `bun:"seq,notnull"`
	Hash      string    `bun:"hash,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
}

// AuditCheckpoint is a signed seal over the chain up to Seq.
type AuditCheckpoint struct {
	bun.BaseModel `bun:"table:audit_checkpoints"`

	ChainID   string    `bun:"chain_id,pk"`
	Seq       int64     `bun:"seq,pk"`
	Hash      string    `bun:"hash,notnull"`
	Reason    string    `bun:"reason,notnull"`
	KeyID     string    `bun:"key_id,notnull"`
	Signature string    `bun:"signature,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// SIEMCursor is the last sequence number a SIEM destination acknowledged.
type SIEMCursor struct {
	bun.BaseModel `bun:"table:siem_cursors"`

	Destination string    `bun:"destination,pk"`
	Seq         int64     `bun:"seq,notnull"`
	UpdatedAt   time.Time `bun:"updated_at,notnull"`
}

// Report is a generated report kept for auditors; Content is base64.
type Report struct {
	bun.BaseModel `bun:"table:reports"`

	ID         string    `bun:"id,pk"`
	TenantID   string    `bun:"tenant_id,notnull"`
	PeriodFrom time.Time `bun:"period_from,notnull"`
	PeriodTo   time.Time `bun:"period_to,notnull"`
	Format     string    `bun:"format,notnull"`
	Content    string    `bun:"content,notnull"`
	SHA256     string    `bun:"sha256,notnull"`
	CreatedBy  string    `bun:"created_by,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
}

// AuditorTenant lets an auditor see a tenant ("*": every tenant).
type AuditorTenant struct {
	bun.BaseModel `bun:"table:auditor_tenants"`

	TechnicianID string    `bun:"technician_id,pk"`
	TenantID     string    `bun:"tenant_id,pk"`
	CreatedAt    time.Time `bun:"created_at,notnull"`
}
