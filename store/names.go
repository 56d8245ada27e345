package store

import (
	"context"

	"github.com/jitaccess/jitaccess/store/evidence"
	"github.com/jitaccess/jitaccess/store/governance"
	"github.com/jitaccess/jitaccess/store/grants"
	"github.com/jitaccess/jitaccess/store/identity"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
	"github.com/jitaccess/jitaccess/store/leader"
	"github.com/jitaccess/jitaccess/store/tenancy"
)

// From internal/sqlstore, shared by every domain: errors, paging, audit events, grant statuses, ids.
type (
	AuditEvent = sqlstore.AuditEvent
	Page       = sqlstore.Page
)

const (
	ActorAdmin      = sqlstore.ActorAdmin
	ActorTechnician = sqlstore.ActorTechnician
	ActorSystem     = sqlstore.ActorSystem
	DefaultLimit    = sqlstore.DefaultLimit
	MaxLimit        = sqlstore.MaxLimit
)

var (
	ErrNotFound  = sqlstore.ErrNotFound
	ErrConflict  = sqlstore.ErrConflict
	ErrInUse     = sqlstore.ErrInUse
	ErrBadCursor = sqlstore.ErrBadCursor
)

// NewID makes an entity id "<prefix>_<16 lowercase base32 chars>" carrying 80 random bits.
func NewID(prefix string) string { return sqlstore.NewID(prefix) }

// DerivedID is an id in NewID's shape that is the same every time for the same key.
func DerivedID(prefix, key string) string { return sqlstore.DerivedID(prefix, key) }

// TerminalStatuses are the statuses a grant never leaves.
func TerminalStatuses() []string { return sqlstore.TerminalStatuses() }

// CheckClaim says whether a run chain's claim may run the grant (ErrClaimRefused with the
// reason when not).
func CheckClaim(g Grant, c Claim) error { return grants.CheckClaim(g, c) }

// IsTerminal reports whether a grant in status has ended for good.
func IsTerminal(status string) bool { return sqlstore.IsTerminal(status) }

// IsValidStatus reports whether status is one of the grant statuses.
func IsValidStatus(status string) bool { return sqlstore.IsValidStatus(status) }

// From identity: staff, tokens, sessions, sign-ins.
type (
	ExtensionCode  = identity.ExtensionCode
	OAuthState     = identity.OAuthState
	Session        = identity.Session
	PortalLogin    = identity.PortalLogin
	SignInIdentity = identity.SignInIdentity
	NewToken       = identity.NewToken
	Technician     = identity.Technician
	Token          = identity.Token
)

const (
	AllTenants         = identity.AllTenants
	RoleAdmin          = identity.RoleAdmin
	RoleTechnician     = identity.RoleTechnician
	RoleAuditor        = identity.RoleAuditor
	TokenKindExtension = identity.TokenKindExtension
)

var (
	ErrExtensionCode    = identity.ErrExtensionCode
	ErrInvalidState     = identity.ErrInvalidState
	ErrStateUnknown     = identity.ErrStateUnknown
	ErrStateUsed        = identity.ErrStateUsed
	ErrStateExpired     = identity.ErrStateExpired
	ErrTooManySignIns   = identity.ErrTooManySignIns
	ErrInactive         = identity.ErrInactive
	ErrIdentityMismatch = identity.ErrIdentityMismatch
	ErrUnauthenticated  = identity.ErrUnauthenticated
)

// RandomToken is a random opaque token (session ids, OAuth states).
func RandomToken() string { return identity.RandomToken() }

// NormalizeEmail is an e-mail address as stored: trimmed, lower case.
func NormalizeEmail(email string) string { return identity.NormalizeEmail(email) }

// From tenancy: tenants, applications, groups, entitlement rules.
type (
	RestrictedUnitEnsurer = tenancy.RestrictedUnitEnsurer
	Application           = tenancy.Application
	Authorization         = tenancy.Authorization
	ApplicationPatch      = tenancy.ApplicationPatch
	NewApplication        = tenancy.NewApplication
	EntitledApplication   = tenancy.EntitledApplication
	Rule                  = tenancy.Rule
	ErrInvalidReference   = tenancy.ErrInvalidReference
	Group                 = tenancy.Group
	TAPPolicyReader       = tenancy.TAPPolicyReader
	Tenant                = tenancy.Tenant
	ApplicationConfig     = tenancy.ApplicationConfig
	Entitlement           = tenancy.Entitlement
)

const (
	AppUnauthorized       = tenancy.AppUnauthorized
	AppAuthorized         = tenancy.AppAuthorized
	AppReady              = tenancy.AppReady
	DefaultAccessDuration = tenancy.DefaultAccessDuration
	ConditionGroup        = tenancy.ConditionGroup
	ConditionTechnician   = tenancy.ConditionTechnician
	AllAdminsGroupID      = tenancy.AllAdminsGroupID
	AllAdminsGroupName    = tenancy.AllAdminsGroupName
	SignInPassword        = tenancy.SignInPassword
	SignInTAP             = tenancy.SignInTAP
	SignInPasswordAndTAP  = tenancy.SignInPasswordAndTAP
	DefaultSignInMethod   = tenancy.DefaultSignInMethod
)

var (
	ErrBuiltinGroup        = tenancy.ErrBuiltinGroup
	ErrInvalidSignInMethod = tenancy.ErrInvalidSignInMethod
)

// UsesTAP reports whether the sign-in method issues a Temporary Access Pass.
func UsesTAP(method string) bool { return tenancy.UsesTAP(method) }

// CheckTAPPolicy refuses a method issuing a TAP when the tenant's TAP policy is off.
func CheckTAPPolicy(ctx context.Context, policy TAPPolicyReader, applicationID, method string) error {
	return tenancy.CheckTAPPolicy(ctx, policy, applicationID, method)
}

// From grants: the grants' projection and credentials.
type (
	PendingGrant     = grants.PendingGrant
	Claim            = grants.Claim
	Expiring         = grants.Expiring
	Grant            = grants.Grant
	GrantFilter      = grants.GrantFilter
	CreatedAccount   = grants.CreatedAccount
	GrantTAP         = grants.GrantTAP
	GrantUpdate      = grants.GrantUpdate
	PendingExtension = grants.PendingExtension
	Begin            = grants.Begin
)

const (
	StatusTerminated = grants.StatusTerminated
)

var (
	ErrClaimRefused = grants.ErrClaimRefused
	ErrAccountInUse = grants.ErrAccountInUse
)

// From governance: approvals, policies, notifications.
type (
	Approval            = governance.Approval
	ApprovalDecision    = governance.ApprovalDecision
	Destination         = governance.Destination
	DestinationSettings = governance.DestinationSettings
	DestinationSecrets  = governance.DestinationSecrets
	NewDestination      = governance.NewDestination
	OutboxEvent         = governance.OutboxEvent
	Delivery            = governance.Delivery
)

const (
	DecisionApproved      = governance.DecisionApproved
	DecisionDenied        = governance.DecisionDenied
	StatusPendingApproval = governance.StatusPendingApproval
	StatusActive          = governance.StatusActive
	ActionApprovalGranted = governance.ActionApprovalGranted
	ActionApprovalDenied  = governance.ActionApprovalDenied
	DestinationWebhook    = governance.DestinationWebhook
	DestinationTeams      = governance.DestinationTeams
	DestinationSlack      = governance.DestinationSlack
	DestinationEmail      = governance.DestinationEmail
	DeliveryPending       = governance.DeliveryPending
	DeliveryDelivered     = governance.DeliveryDelivered
	DeliveryFailed        = governance.DeliveryFailed
)

// From evidence: the audit trail, reports, retention.
type (
	AuditFilter = evidence.AuditFilter
	KeptReport  = evidence.KeptReport
	Purged      = evidence.Purged
)

// From leader: jobs run once per deployment.
const (
	LeaderSIEM      = leader.LeaderSIEM
	LeaderRetention = leader.LeaderRetention
)
