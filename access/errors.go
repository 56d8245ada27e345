// Package access is the domain service of jitaccess: the rules for requesting, revoking and
// extending grants, reading credentials, approvals and the technicians' own tokens and
// extension sessions, on *Service taking an Actor. The admin operations (tenants,
// applications, groups, members, entitlements, staff, auditors, reports, policy) live in
// access/admin and are promoted through the embedded *admin.Service. Refusals are *Error
// values (defined in access/domain, aliased here); nothing here knows about HTTP.
package access

import (
	"github.com/jitaccess/jitaccess/access/admin"
	"github.com/jitaccess/jitaccess/access/domain"
)

// Actor is the member of staff a request acts for (domain.Actor).
type Actor = domain.Actor

// Kind says what sort of refusal an Error is (domain.Kind).
type Kind = domain.Kind

// Kinds of refusal.
const (
	Invalid     = domain.Invalid
	Forbidden   = domain.Forbidden
	NotFound    = domain.NotFound
	Conflict    = domain.Conflict
	Unavailable = domain.Unavailable
	Upstream    = domain.Upstream
)

// Error is a refusal the caller can act on (domain.Error).
type Error = domain.Error

// Input types of the admin operations, named by the front ends.
type (
	ApplicationPatch = admin.ApplicationPatch
	ConditionInput   = admin.ConditionInput
	EntitlementInput = admin.EntitlementInput
	AuditorScope     = admin.AuditorScope
	ReportRequest    = admin.ReportRequest
	Report           = admin.Report
)

// The constructors and mappers of refusals (package domain).
var (
	Refuse        = domain.Refuse
	FieldError    = domain.FieldError
	NotFoundError = domain.NotFoundError
	AsError       = domain.AsError
	RefError      = domain.RefError
	PolicyError   = domain.PolicyError

	ReportContentType = admin.ReportContentType
	ReportFilename    = admin.ReportFilename
)
