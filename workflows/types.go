// Package workflows holds the AccessRequest workflow: one just-in-time grant of an Entra ID
// application to a technician, from the claim of the grant row the API created to the
// durable disabling of the account. The workflow is the source of truth of a grant's
// lifecycle; the grants table is its projection.
//
// This package owns the wire types of the lifecycle (what history records): the workflow
// input, the status, the activity inputs and results. Package activities maps them to
// storage rows. The workflow code is deterministic; changes to its command sequence go
// through workflow.GetVersion so recorded histories keep replaying.
package workflows

import (
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// Names other components use to reach the workflow.
const (
	WorkflowType     = "AccessRequest"
	TaskQueue        = "jit-access"
	RevokeSignalName = "revoke"
	ExtendUpdateName = "extend"
	StatusQueryName  = "status"
)

// Status is a grant's status (SPEC §4 and §10).
type Status string

// Grant statuses.
const (
	StatusPending           Status = "pending"
	StatusPendingApproval   Status = "pending_approval"
	StatusProvisioning      Status = "provisioning"
	StatusActive            Status = "active"
	StatusRevoking          Status = "revoking"
	StatusExpired           Status = "expired"
	StatusRevoked           Status = "revoked"
	StatusDenied            Status = "denied"
	StatusFailed            Status = "failed"
	StatusExpiredUnapproved Status = "expired_unapproved"
	// StatusTerminated: the run closed without its own cleanup and the reconciler finished it.
	StatusTerminated Status = "terminated"
)

// Statuses lists every status, live ones first.
func Statuses() []Status {
	return []Status{StatusPending, StatusPendingApproval, StatusProvisioning, StatusActive, StatusRevoking,
		StatusExpired, StatusRevoked, StatusDenied, StatusFailed, StatusExpiredUnapproved, StatusTerminated}
}

// FinalStatuses are the statuses a grant never leaves.
func FinalStatuses() []Status {
	return []Status{StatusExpired, StatusRevoked, StatusDenied, StatusFailed, StatusExpiredUnapproved, StatusTerminated}
}

// Final reports whether a grant in s has ended for good.
func (s Status) Final() bool { return slices.Contains(FinalStatuses(), s) }

// Application error types of the extend update, for the API to map to HTTP.
const (
	// ErrTypeNotActive: the grant is not active (409).
	ErrTypeNotActive = "GrantNotActive"
	// ErrTypeInvalidDuration: the extension is not a positive duration (400).
	ErrTypeInvalidDuration = "InvalidDuration"
	// ErrTypeExtensionTooShort: the extension is below the lease's minimum step (400).
	ErrTypeExtensionTooShort = "ExtensionTooShort"
	// ErrTypeDurationExceedsMaximum: the step or the total active time would pass a maximum
	// (400 duration_exceeds_maximum).
	ErrTypeDurationExceedsMaximum = "DurationExceedsMaximum"
	// ErrTypeExtensionLimit: the grant has been extended the maximum number of times (409).
	ErrTypeExtensionLimit = "ExtensionLimitReached"
	// ErrTypeApprovalRequired: the extension passes the duration the approvers agreed to
	// (409 approval_required).
	ErrTypeApprovalRequired = "ApprovalRequired"
	// ErrTypeNotEntitled: membership or entitlement is gone (403 not_entitled).
	ErrTypeNotEntitled = "NotEntitled"
	// ErrTypeActorUnverified: the database does not know the actor as the grant's technician
	// or an admin (403).
	ErrTypeActorUnverified = "ActorUnverified"
)

// WorkflowID is the id of the grant workflow of a technician for an application. Temporal
// allows one running workflow per id, hence at most one live grant per pair.
func WorkflowID(tenantID, applicationID, technicianID string) string {
	return "access/" + tenantID + "/" + applicationID + "/" + technicianID
}

// AccessRequestInput starts a grant. It names the grant row the API created and nothing
// that decides the grant: duration, account and roles are read from the database.
type AccessRequestInput struct {
	GrantID       string
	TenantID      string
	ApplicationID string
	TechnicianID  string
	// Carry is set only by the workflow itself when it continues as new.
	Carry *Carry `json:",omitempty"`
}

// Carry is the state a run hands to its continuation.
type Carry struct {
	Plan          Plan
	State         State
	AssignmentIDs []string
	AppliedKeys   []string // update ids of applied extensions
	Outbox        []Record // projection writes not yet committed
}

// StartOptions are the options the API starts a grant with: the derived workflow id, the task
// queue (empty: TaskQueue), the initial search attributes. A live run of the same id makes
// the start fail (WorkflowExecutionAlreadyStarted): the API then returns that run's grant.
func StartOptions(in AccessRequestInput, taskQueue string) client.StartWorkflowOptions {
	if taskQueue == "" {
		taskQueue = TaskQueue
	}
	return client.StartWorkflowOptions{
		ID:                       WorkflowID(in.TenantID, in.ApplicationID, in.TechnicianID),
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		// Without it the SDK answers a start of a running id with that run, as if started.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes:                    SearchAttributes(in.TenantID, in.ApplicationID),
		// With a worker in this process (jitaccess dev) the first workflow task comes back
		// in the start response; without one it is ignored.
		EnableEagerStart: true,
		StaticSummary:    "Access grant " + in.GrantID + " to " + in.ApplicationID,
	}
}

// RevokeSignal asks to end a grant now. It is honoured in any state, whoever sent it; By is
// verified against the database and recorded as verified or not.
type RevokeSignal struct {
	By     string // technician id of whoever revoked (owner or admin)
	ByKind string // claimed kind ("admin" or "technician"); the database decides
	Reason string
}

// ExtendRequest is the argument of the extend update. The update id is its idempotency key.
type ExtendRequest struct {
	Duration time.Duration
	By       string // technician id of the owner or an admin
	ByKind   string
	// Key is the caller's idempotency key: the client sends it as the Update id, so a retried
	// request is applied once. Never in the history.
	Key string `json:"-"`
}

// ExtendResult is the outcome of an accepted extension.
type ExtendResult struct {
	ExpiresAt time.Time
	// The grant's Temporary Access Pass after the extension (zero when none), and why it ends
	// before ExpiresAt when it does.
	TAPExpiresAt time.Time `json:",omitempty"`
	TAPNote      string    `json:",omitempty"`
}

// Extension is one accepted extension of a grant.
type Extension struct {
	By        string
	Duration  time.Duration
	At        time.Time
	ExpiresAt time.Time // the new expiry
	Key       string    // update id
	// ApprovedBy: the approvers who let it pass the approved duration (see PendingExtension).
	ApprovedBy []string `json:",omitempty"`
}

// PendingExtension is an extension past the duration the approvers agreed to, waiting for
// them. The grant stays active until its current expiry meanwhile.
type PendingExtension struct {
	Duration    time.Duration
	By          string // who asked (verified by CheckExtend)
	RequestedAt time.Time
	Key         string // the extend update's id; names the approval request
}

// Request names the approval request of the extension (ApprovalParams.Request).
func (p PendingExtension) Request() string { return "extension:" + p.Key }

// State is the answer of the status query and, once the grant is over, its result.
type State struct {
	GrantID     string
	Status      Status
	RequestedAt time.Time
	ActivatedAt time.Time
	ExpiresAt   time.Time
	EndedAt     time.Time
	AccountUPN  string
	AccountID   string
	Roles       []string // role template ids
	Failure     string   // why the grant was denied or failed, or why its disable is late
	RevokedBy   string
	Extensions  []Extension
	// PendingExtension: an extension waiting for the approvers (nil when none).
	PendingExtension *PendingExtension `json:",omitempty"`
	// Refused is set when the run was refused before touching anything (no grant row of
	// its own): the grant's row, if any, is not this run's to write.
	Refused string `json:",omitempty"`
}

// Result is the final State of a grant.
type Result = State
