// Package activities holds the side effects of the AccessRequest workflow: the database
// (through Store) and the customer's Entra directory (through Directory). It maps the
// workflow's wire types (package workflows) to storage rows. Activities are methods on
// *Activities so the worker registers them once with their dependencies.
//
// Passwords are generated inside EnsureAccount and DisableAccount, handed to the directory
// and the sealed credential store, and never returned, logged or put in an error, so they
// never reach workflow history.
package activities

import (
	"context"
	"log/slog"
	"time"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/policy"
	"github.com/jitaccess/jitaccess/store"
)

// Store is the part of *store.Store the activities need.
type Store interface {
	Grant(ctx context.Context, id string) (store.Grant, error)
	CheckEntitlement(ctx context.Context, tenantID, applicationID, technicianID string) (store.Entitlement, error)
	// BeginGrant claims the grant for its run chain, locks its account and records its first
	// status with its event, in one transaction (store.Begin).
	BeginGrant(ctx context.Context, b store.Begin) error
	GrantActor(ctx context.Context, grantID, actorID string) (kind string, ok bool, err error)
	// RecordTransition writes the projection and its audit event (nil: none) atomically.
	RecordTransition(ctx context.Context, u store.GrantUpdate, event *store.AuditEvent) error
	// SaveCredential seals the password before it is written.
	SaveCredential(ctx context.Context, grantID, upn, password string) error
	DeleteCredential(ctx context.Context, grantID string) error
	// KnownAccountID is the object id an earlier grant of the same technician and application
	// recorded for the account upn, or "" when there is none.
	KnownAccountID(ctx context.Context, grantID, upn string) (string, error)
	// ApplicationPolicy is the application's effective policy (the saved one or the default).
	ApplicationPolicy(ctx context.Context, applicationID string) (p policy.Policy, saved bool, err error)
}

// Directory is the part of the Entra connector (*entra.Client) the activities need.
type Directory interface {
	EnsureAccount(ctx context.Context, applicationID string, spec directory.AccountSpec, password string) (directory.Account, error)
	AssignRoles(ctx context.Context, applicationID, objectID string, roleIDs []string) ([]string, error)
	ListAssignments(ctx context.Context, applicationID, objectID string) ([]directory.RoleAssignment, error)
	DisableAccount(ctx context.Context, applicationID, objectID string, assignmentIDs []string, scramble string) error
}

// Metrics receives what the activities count; nil counts nothing. worker.Metrics implements it.
type Metrics interface {
	// Transition: a grant entered status (a projection write committed).
	Transition(status string)
	// Refused: a run was refused before touching anything.
	Refused()
	// Extended: an extension was recorded.
	Extended()
	// DirectoryOutcome: a directory call for the application ended with outcome ("ok" or an
	// error type).
	DirectoryOutcome(applicationID, outcome string)
	// DisableBlocked: a disable is blocked until the application is authorized again.
	DisableBlocked()
	// ExpiryLateness: an expired grant's account was disabled this long after expires_at.
	ExpiryLateness(time.Duration)
}

// Activities carries the dependencies of every activity. MaxAccessDuration is the global
// maximum of a grant's total active time (JIT_MAX_ACCESS_DURATION; zero:
// workflows.DefaultMaxTotal). The zero Now and Logger fall back to time.Now and slog.Default.
type Activities struct {
	Store             Store
	Directory         Directory
	Metrics           Metrics
	Notifier          Notifier
	MaxAccessDuration time.Duration
	Now               func() time.Time
	Logger            *slog.Logger
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

func (a *Activities) metrics() Metrics {
	if a.Metrics != nil {
		return a.Metrics
	}
	return noMetrics{}
}

type noMetrics struct{}

func (noMetrics) Transition(string)               {}
func (noMetrics) Refused()                        {}
func (noMetrics) Extended()                       {}
func (noMetrics) DirectoryOutcome(string, string) {}
func (noMetrics) DisableBlocked()                 {}
func (noMetrics) ExpiryLateness(time.Duration)    {}
