// Package signinwire holds the wire types of the AccessRequest workflow's sign-in steps:
// the activity names, inputs and results of preparing an account and issuing, renewing and
// deleting its Temporary Access Pass (registered on *activities.SignIn). Histories carry
// these names and shapes; they must not change.
package signinwire

import "time"

// Activity type names, registered by package worker on the methods of *activities.SignIn.
const (
	PrepareAccountActivity = "PrepareAccount"
	IssueTAPActivity       = "IssueTAP"
	DeleteTAPActivity      = "DeleteTAP"
	// RenewTAPActivity issues a new Temporary Access Pass when an extension outlives the grant's.
	RenewTAPActivity = "RenewTAP"
)

// PrepareAccountInput names the grant's account before EnsureAccount. KeepRoleIDs are the role
// template ids the grant is about to assign (their tenant-wide assignments are kept).
type PrepareAccountInput struct {
	GrantID       string
	ApplicationID string
	UPN           string
	KeepRoleIDs   []string
}

// PrepareAccountResult says what cleaning removed from an account jitaccess made earlier.
type PrepareAccountResult struct {
	ObjectID           string // "" when no account exists yet (EnsureAccount creates it)
	RemovedMethods     []RemovedMethod
	RemovedAssignments []RemovedAssignment
	SessionsRevoked    bool
}

// RemovedMethod is an authentication method removed before enable.
type RemovedMethod struct {
	ID   string
	Type string
}

// RemovedAssignment is a directory role assignment removed before enable.
type RemovedAssignment struct {
	ID     string
	RoleID string
}

// IssueTAPInput names the grant's account and when its access ends.
type IssueTAPInput struct {
	GrantID       string
	ApplicationID string
	ObjectID      string
	ExpiresAt     time.Time
}

// IssueTAPResult describes the issued pass without the pass itself.
type IssueTAPResult struct {
	Issued         bool // false when the application's sign_in_method is password
	TAPID          string
	ExpiresAt      time.Time
	CappedByPolicy bool // the tenant's maximum lifetime ends the pass before the grant
}

// DeleteTAPInput names the grant's account.
type DeleteTAPInput struct {
	GrantID       string
	ApplicationID string
	ObjectID      string
}

// RenewTAPInput names the grant's account and its new end.
type RenewTAPInput struct {
	GrantID       string
	ApplicationID string
	ObjectID      string
	ExpiresAt     time.Time
}

// RenewTAPResult says what happened to the pass, without the pass.
type RenewTAPResult struct {
	Renewed        bool      // a new pass replaced the old one
	OldTAPID       string    // the pass it replaced
	TAPID          string    // the pass now on record ("" when none)
	ExpiresAt      time.Time // its end (zero when none)
	CappedByPolicy bool      // it still ends before the grant: the tenant's maximum lifetime
}
