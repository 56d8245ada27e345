// Package directory holds the plain types and typed errors that describe a customer's
// Microsoft Entra directory as jitaccess sees it: the consenting admin, domains, built-in
// roles and the technicians' just-in-time accounts.
//
// It deliberately has no network code and does not import msgraph-sdk-go, so that the
// workflow, activities, store and API packages can speak about a tenant without linking the
// Graph SDK. The connector in package entra produces these values; consumers define their
// own small interfaces over them.
package directory

import (
	"errors"
	"fmt"
	"time"
)

// Consent is what an admin's sign-in and consent yielded.
// RefreshToken is a secret: callers seal it before it is stored and never log it.
type Consent struct {
	RefreshToken  string
	Account       string // user principal name of the consenting admin
	DisplayName   string // display name of the customer's organization (tenant)
	EntraTenantID string
}

// Domain is a domain of the customer's tenant (Graph resource type domain).
type Domain struct {
	ID                 string // the FQDN
	AuthenticationType string // "Managed" or "Federated"
	IsVerified         bool
	IsDefault          bool
	IsInitial          bool
}

// Managed reports whether Entra itself authenticates users of the domain.
// Federated domains delegate sign-in to another IdP, where a cloud-only password is useless.
func (d Domain) Managed() bool { return d.AuthenticationType == "Managed" }

// Supported reports whether technician accounts may be provisioned in the domain:
// Graph refuses users in unverified domains, and federated domains cannot use our password.
func (d Domain) Supported() bool { return d.Managed() && d.IsVerified }

// Role is a built-in Entra directory role. ID is the role template id, which for built-in
// roles equals the role definition id.
type Role struct {
	ID          string
	DisplayName string
	Description string
}

// AccountSpec describes the just-in-time account of one technician in one tenant.
type AccountSpec struct {
	UPN          string
	DisplayName  string
	MailNickname string
	// ObjectID, when known from an earlier grant, lets the connector re-enable the account
	// by id in one round trip; a stale id (the account was deleted) falls back to creating.
	ObjectID string
}

// RoleAssignment is a directory role assigned to a principal. RoleID is the role
// definition id (the template id for built-in roles); DirectoryScopeID "/" is tenant-wide.
type RoleAssignment struct {
	ID               string
	RoleID           string
	PrincipalID      string
	DirectoryScopeID string
}

// Account is a provisioned account. Created is false when an existing account was re-enabled.
type Account struct {
	ObjectID string
	UPN      string
	Created  bool
}

// ErrAuthorizationLost means the stored consent no longer works (refresh token revoked,
// expired or consent withdrawn). Waiting does not help; an admin must authorize again.
var ErrAuthorizationLost = errors.New("authorization to the tenant was lost; an admin must authorize the application again")

// ErrNotAuthorized means the application has never been authorized.
var ErrNotAuthorized = errors.New("the application is not authorized")

// ErrNotFound means the directory object does not exist.
var ErrNotFound = errors.New("directory object not found")

// ThrottledError is Graph's 429 (or 503) that outlived the client's own retries.
// Retryable after RetryAfter.
type ThrottledError struct {
	Op         string
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%s: throttled by Microsoft Graph, retry after %s", e.Op, e.RetryAfter)
}

// ReplicationLagError means an object created moments ago is not yet visible to another
// part of Entra (Graph answers Request_ResourceNotFound for tens of seconds after a user
// is created). Retryable.
type ReplicationLagError struct {
	Op       string
	ObjectID string
}

func (e *ReplicationLagError) Error() string {
	return fmt.Sprintf("%s: object %s is not yet visible (Entra replication delay)", e.Op, e.ObjectID)
}

// GraphError is any other error answered by Microsoft Graph. It names the operation, Graph's
// error code and request id, and never contains a token or a password.
type GraphError struct {
	Op        string
	Status    int
	Code      string
	Message   string
	RequestID string
}

func (e *GraphError) Error() string {
	return fmt.Sprintf("%s: Graph answered %d %s: %s (request-id %s)", e.Op, e.Status, e.Code, e.Message, e.RequestID)
}
