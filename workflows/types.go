// Package workflows holds the AccessRequest workflow: one just-in-time grant of an Entra ID
// application to a technician, from the entitlement check to the durable disabling of the
// account. The workflow is the source of truth of a grant; the grants table is its projection.
//
// The workflow code is deterministic (workflow.Now, workflow.Go, no map iteration) and thin:
// every side effect is an activity of package activities. Changes to the command sequence
// must go through workflow.GetVersion so recorded histories keep replaying.
package workflows

import (
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

	// DefaultMaxDuration bounds the total active time of a grant when the input names none
	// (JIT_MAX_ACCESS_DURATION's default).
	DefaultMaxDuration = 24 * time.Hour
)

// Application error types of the extend update's validator, for the API to map to HTTP.
const (
	// ErrTypeNotActive: the grant is not active (409).
	ErrTypeNotActive = "GrantNotActive"
	// ErrTypeInvalidDuration: the extension is not a positive duration (400).
	ErrTypeInvalidDuration = "InvalidDuration"
	// ErrTypeDurationExceedsMaximum: the total active time would pass MaxDuration (400 duration_exceeds_maximum).
	ErrTypeDurationExceedsMaximum = "DurationExceedsMaximum"
)

// WorkflowID is the id of the grant workflow of a technician for an application. Temporal
// allows one running workflow per id, hence at most one live grant per pair.
func WorkflowID(tenantID, applicationID, technicianID string) string {
	return "access/" + tenantID + "/" + applicationID + "/" + technicianID
}

// AccessRequestInput starts a grant. It carries no secret.
type AccessRequestInput struct {
	GrantID         string
	TenantID        string
	ApplicationID   string
	TechnicianID    string
	TechnicianEmail string
	Justification   string
	// Duration of access once the account is usable.
	Duration time.Duration
	// MaxDuration bounds the total active time including extensions (0: DefaultMaxDuration).
	MaxDuration time.Duration
	RequestedAt time.Time
}

// StartOptions are the options the API starts a grant with: the derived workflow id (a
// repeated request finds the running grant instead of starting a second one), the task
// queue (empty: TaskQueue), the initial search attributes and eager start.
func StartOptions(in AccessRequestInput, taskQueue string) client.StartWorkflowOptions {
	if taskQueue == "" {
		taskQueue = TaskQueue
	}
	return client.StartWorkflowOptions{
		ID:                       WorkflowID(in.TenantID, in.ApplicationID, in.TechnicianID),
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes:    SearchAttributes(in.TenantID, in.ApplicationID, in.TechnicianEmail),
		// When this process also runs a worker on the queue (jitaccess dev), the first
		// workflow task comes back in the start response instead of through matching: one
		// round trip less before provisioning begins. Without a local worker it is ignored.
		EnableEagerStart: true,
		StaticSummary:    "Access for " + in.TechnicianEmail + " to " + in.ApplicationID,
	}
}

// RevokeSignal asks to end a grant now. It is accepted in any state.
type RevokeSignal struct {
	By     string // technician id of whoever revoked (owner or admin)
	ByKind string // "admin" or "technician" (audit log); empty: technician
	Reason string
}

// ExtendRequest is the argument of the extend update.
type ExtendRequest struct {
	Duration time.Duration
	By       string // technician id of the owner
	ByKind   string // "admin" or "technician"; empty: technician
}

// ExtendResult is the outcome of an accepted extension.
type ExtendResult struct {
	ExpiresAt time.Time
}

// Extension is one accepted extension of a grant.
type Extension struct {
	By        string
	Duration  time.Duration
	At        time.Time
	ExpiresAt time.Time // the new expiry
}

// Status is the answer of the status query and, once the grant is over, its result.
type Status struct {
	GrantID     string
	Status      string // store.Status*: pending, provisioning, active, revoking, expired, revoked, denied, failed
	RequestedAt time.Time
	ActivatedAt time.Time
	ExpiresAt   time.Time
	EndedAt     time.Time
	AccountUPN  string
	AccountID   string
	Roles       []string // role template ids
	Failure     string   // why the grant was denied or failed
	RevokedBy   string
	Extensions  []Extension
}

// Result is the final Status of a grant.
type Result = Status
