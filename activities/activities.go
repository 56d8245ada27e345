// Package activities holds the side effects of the AccessRequest workflow: the database
// projection and audit log (through Store) and the customer's Entra directory (through
// Directory). Activities are methods on *Activities so the worker registers them once with
// their dependencies, in the style of Temporal's samples-go.
//
// Inputs and results are small structs that carry identifiers only. Passwords are generated
// inside EnsureAccount and DisableAccount, handed to the directory and the sealed credential
// store, and never returned, logged or put in an error, so they never reach workflow history.
package activities

import (
	"context"
	"log/slog"
	"time"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store"
)

// Activity type names as registered by the worker (method names of *Activities).
// Workflows refer to the methods themselves; these names are for tools and tests.
const (
	BeginGrantName       = "BeginGrant"
	CheckEntitlementName = "CheckEntitlement"
	RecordGrantName      = "RecordGrant"
	EnsureAccountName    = "EnsureAccount"
	AssignRolesName      = "AssignRoles"
	DisableAccountName   = "DisableAccount"
)

// Store is the part of *store.Store the activities need.
type Store interface {
	CheckEntitlement(ctx context.Context, tenantID, applicationID, technicianID string) (store.Entitlement, error)
	// RecordTransition writes the projection and its audit event (nil: none) atomically.
	RecordTransition(ctx context.Context, u store.GrantUpdate, event *store.AuditEvent) error
	// SaveCredential seals the password before it is written.
	SaveCredential(ctx context.Context, grantID, upn, password string) error
	DeleteCredential(ctx context.Context, grantID string) error
	// KnownAccountID is the object id an earlier grant of the same technician and application
	// recorded for the account upn, or "" when there is none.
	KnownAccountID(ctx context.Context, grantID, upn string) (string, error)
}

// Directory is the part of the Entra connector (*entra.Client) the activities need.
type Directory interface {
	EnsureAccount(ctx context.Context, applicationID string, spec directory.AccountSpec, password string) (directory.Account, error)
	AssignRoles(ctx context.Context, applicationID, objectID string, roleIDs []string) ([]string, error)
	DisableAccount(ctx context.Context, applicationID, objectID string, assignmentIDs []string, scramble string) error
}

// Activities carries the dependencies of every activity. The zero Now and Logger fall back
// to time.Now and slog.Default.
type Activities struct {
	Store     Store
	Directory Directory
	Now       func() time.Time
	Logger    *slog.Logger
}

func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Activities) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}
