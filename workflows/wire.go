package workflows

import "time"

// Activity type names, registered by package worker on the methods of *activities.Activities.
const (
	BeginGrantActivity     = "BeginGrant"
	RecordGrantActivity    = "RecordGrant"
	VerifyActorActivity    = "VerifyActor"
	CheckExtendActivity    = "CheckExtend"
	EnsureAccountActivity  = "EnsureAccount"
	AssignRolesActivity    = "AssignRoles"
	DisableAccountActivity = "DisableAccount"
)

// BeginInput claims the grant row for this run. Resume: a continuation re-checks its claim
// only (no entitlement decision, no write).
type BeginInput struct {
	GrantID       string
	TenantID      string
	ApplicationID string
	TechnicianID  string
	WorkflowID    string
	RunID         string
	FirstRunID    string
	Resume        bool
}

// Plan is what the database decided for a grant. Refused: the run has no grant of its own
// (no row, another run's row, or a row that does not match the input). Denied: the request
// is the run's but may not be granted (Reason says why).
type Plan struct {
	Refused bool
	Denied  bool
	Reason  string

	RuleID      string
	RuleName    string
	RequestedAt time.Time
	// Duration of access once the account is usable: the requested duration bounded by the
	// application's duration and the global maximum.
	Duration time.Duration
	// MaxStep bounds one extension (the application's duration); MaxTotal the whole active
	// time (the global maximum).
	MaxStep  time.Duration
	MaxTotal time.Duration
	// ApprovalRequired sends the grant through pending_approval before any Entra call.
	ApprovalRequired bool
	ApprovalsNeeded  int           `json:",omitempty"` // distinct approvers
	ApprovalTimeout  time.Duration `json:",omitempty"` // then expired_unapproved

	TechnicianEmail       string
	TechnicianDisplayName string
	Domain                string
	AccountUPN            string
	Roles                 []string
	// SignInMethod is the application's: password | tap | password_and_tap.
	SignInMethod string
}

// UsesTAP reports whether the grant's account gets a Temporary Access Pass.
func (p Plan) UsesTAP() bool { return p.SignInMethod == "tap" || p.SignInMethod == "password_and_tap" }

// Actor is who asked for a signal or an update, as the database knows them.
type Actor struct {
	ID       string
	Kind     string // admin | technician | system
	Verified bool
}

// Record is one projection write of a grant and the audit event it is (Action empty: none).
// Key makes the audit event's id: the same transition recorded twice is logged once.
type Record struct {
	GrantID       string
	WorkflowID    string
	RunID         string
	TenantID      string
	ApplicationID string
	TechnicianID  string
	Status        Status
	ActivatedAt   time.Time
	ExpiresAt     time.Time
	EndedAt       time.Time
	AccountUPN    string
	AccountID     string
	Roles         []string
	Failure       string
	RevokedBy     string
	// ReleaseAccount frees the account for another grant (the grant's account is disabled).
	ReleaseAccount bool

	Action    string
	Key       string
	Actor     Actor
	Reason    string
	RuleID    string
	RuleName  string
	Extension time.Duration
	// PendingExtension is the grant's extension waiting for approval, nil when none.
	PendingExtension *PendingExtension `json:",omitempty"`
}

// Audit actions recorded by the workflow.
const (
	ActionRequested = "grant.requested"
	ActionRefused   = "grant.refused"
	ActionDenied    = "grant.denied"
	ActionActivated = "grant.activated"
	ActionExtended  = "grant.extended"
	ActionRevoke    = "grant.revoke_requested"
	ActionExpired   = "grant.expired"
	ActionRevoked   = "grant.revoked"
	ActionFailed    = "grant.failed"
	// ActionDisableBlocked: the account cannot be disabled until an admin authorizes the
	// application again (the grant stays revoking). Recorded by DisableAccount itself.
	ActionDisableBlocked = "grant.disable_blocked"
)

// VerifyActorInput asks whether ActorID may act on the grant (its technician or an admin).
type VerifyActorInput struct {
	GrantID string
	ActorID string
}

// CheckExtendInput asks whether the grant may be extended now by ActorID.
type CheckExtendInput struct {
	GrantID string
	ActorID string
}

// ExtendCheck is the database's answer: the actor, and whether membership and entitlement
// still hold (Reason when not), with the current bounds.
type ExtendCheck struct {
	Actor    Actor
	Entitled bool
	Reason   string
	MaxStep  time.Duration
	MaxTotal time.Duration
	// ApprovedTotal, when the application's policy requires approval, is the active time
	// the approvers agreed to: an extension past it is refused (ErrTypeApprovalRequired).
	// Zero (every check recorded before it existed): no such bound.
	ApprovedTotal time.Duration
	// The policy's approval stage, for an extension past ApprovedTotal.
	ApprovalsNeeded int           `json:",omitempty"`
	ApprovalTimeout time.Duration `json:",omitempty"`
}

// EnsureAccountInput names the technician whose account to create or re-enable, and where.
type EnsureAccountInput struct {
	GrantID               string
	ApplicationID         string
	TechnicianEmail       string
	TechnicianDisplayName string
	Domain                string
}

// AccountResult identifies the account. It never carries the password.
type AccountResult struct {
	ObjectID string
	UPN      string
	Created  bool // false when an existing account was re-enabled
}

// AssignRolesInput names the account and the role template ids to assign.
type AssignRolesInput struct {
	GrantID       string
	ApplicationID string
	ObjectID      string
	RoleIDs       []string
}

// AssignRolesResult lists the role assignments the grant made.
type AssignRolesResult struct {
	AssignmentIDs []string
}

// DisableAccountInput names the account to disable: ObjectID, or else UPN. AssignmentIDs are
// the ones the grant remembers; every other assignment of the account is removed too.
type DisableAccountInput struct {
	GrantID       string
	TenantID      string
	ApplicationID string
	ObjectID      string
	UPN           string
	AssignmentIDs []string
}

// DisableAccountResult reports what the disable did.
type DisableAccountResult struct {
	// WasBlocked: an earlier attempt was refused for lost authorization (recorded as
	// grant.disable_blocked); the account was disabled late.
	WasBlocked         bool
	AssignmentsRemoved int
}

// Application error types the activities return; the workflow lists the non-retryable ones
// in its retry policies and matches on them to explain a failure.
const (
	// ErrTypeAuthorizationLost: the tenant's consent no longer works; an admin must authorize again.
	ErrTypeAuthorizationLost = "AuthorizationLost"
	// ErrTypeNotAuthorized: the application was never authorized.
	ErrTypeNotAuthorized = "NotAuthorized"
	// ErrTypeGraphRejected: Graph refused the request with a 4xx other than 429.
	ErrTypeGraphRejected = "GraphRejected"
	// ErrTypeThrottled: Graph answered 429/503; retried after its Retry-After.
	ErrTypeThrottled = "Throttled"
	// ErrTypeReplicationLag: a user created moments ago is not yet visible; retried.
	ErrTypeReplicationLag = "ReplicationLag"
	// ErrTypeGraphUnavailable: Graph answered 5xx; retried.
	ErrTypeGraphUnavailable = "GraphUnavailable"
	// ErrTypeInvalidAccount: the technician's e-mail or the domain cannot make a valid UPN.
	ErrTypeInvalidAccount = "InvalidAccount"
	// ErrTypeAccountConflict: an account with the UPN exists that jitaccess did not create.
	ErrTypeAccountConflict = "AccountConflict"
	// ErrTypeTAPPolicyDisabled: the tenant's Temporary Access Pass policy is off.
	ErrTypeTAPPolicyDisabled = "TAPPolicyDisabled"
	// ErrTypeTenantMismatch: the application now authorizes another Entra tenant.
	ErrTypeTenantMismatch = "TenantMismatch"
)

// NonRetryableProvisioningErrors are the error types a provisioning step must not retry.
func NonRetryableProvisioningErrors() []string {
	return []string{ErrTypeAuthorizationLost, ErrTypeNotAuthorized, ErrTypeGraphRejected, ErrTypeInvalidAccount,
		ErrTypeAccountConflict, ErrTypeTAPPolicyDisabled, ErrTypeTenantMismatch}
}
