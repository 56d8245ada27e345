package directory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// AccountMarker is the employeeType jitaccess writes on every account it creates. It is one
// half of the adoption rule (CheckAdoption): the other is the object id recorded at creation.
const AccountMarker = "jitaccess"

// ErrAccountConflict means an account with the technician's user principal name exists but
// was not created by jitaccess (no object id on record, another object id, or no marker).
// It is never enabled or given roles (SPEC code account_conflict).
var ErrAccountConflict = errors.New("an account with this user principal name exists and was not created by jitaccess")

// ErrTAPPolicyDisabled means the tenant's Temporary Access Pass policy is off, or does not
// target the account (SPEC code tap_policy_disabled).
var ErrTAPPolicyDisabled = errors.New("the tenant's Temporary Access Pass policy is disabled or does not include this account; " +
	"enable it in Entra admin center > Protection > Authentication methods > Policies > Temporary Access Pass")

// TenantMismatchError means Graph would act in another Entra tenant than the pinned one: a
// consent from another tenant, or a token whose tid is not the tenant a grant was made in
// (SPEC code tenant_mismatch). Not retryable.
type TenantMismatchError struct {
	Pinned string // the Entra tenant id the application (or grant) is pinned to
	Got    string // the tenant id that was offered
}

func (e *TenantMismatchError) Error() string {
	return fmt.Sprintf("Entra tenant mismatch: the application is pinned to tenant %s, but this is tenant %s", e.Pinned, e.Got)
}

// AccountInfo is what the adoption rule reads of an existing account.
type AccountInfo struct {
	ObjectID       string
	UPN            string
	EmployeeType   string
	AccountEnabled bool
}

// CheckAdoption decides whether jitaccess may enable an existing account: only when it has
// the object id jitaccess recorded when it created it and still carries AccountMarker.
// Anything else is ErrAccountConflict naming the UPN.
func CheckAdoption(existing AccountInfo, recordedObjectID string) error {
	switch {
	case recordedObjectID == "":
		return fmt.Errorf("%s: %w (no object id on record)", existing.UPN, ErrAccountConflict)
	case !strings.EqualFold(existing.ObjectID, recordedObjectID):
		return fmt.Errorf("%s: %w (object id %s, jitaccess created %s)", existing.UPN, ErrAccountConflict, existing.ObjectID, recordedObjectID)
	case existing.EmployeeType != AccountMarker:
		return fmt.Errorf("%s: %w (the jitaccess marker was removed)", existing.UPN, ErrAccountConflict)
	}
	return nil
}

// TAPPolicy is the tenant's Temporary Access Pass method policy as far as jitaccess needs it.
type TAPPolicy struct {
	Enabled         bool
	DefaultLifetime time.Duration
	MinLifetime     time.Duration
	MaxLifetime     time.Duration
	UsableOnce      bool // every TAP is one-time
	AllUsers        bool // the policy targets all users (else only some groups)
}

// Lifetime is the TAP lifetime for a grant lasting want: want rounded up to a minute and
// clamped into the policy's range. capped reports that the policy made it shorter than want.
func (p TAPPolicy) Lifetime(want time.Duration) (lifetime time.Duration, capped bool) {
	l := want.Round(time.Minute)
	if l < want {
		l += time.Minute
	}
	if l < p.MinLifetime {
		l = p.MinLifetime
	}
	if p.MaxLifetime > 0 && l > p.MaxLifetime {
		return p.MaxLifetime, true
	}
	return l, false
}

// TAP is an issued Temporary Access Pass. Pass is a secret: seal it, never log it.
type TAP struct {
	ID         string
	Pass       string
	StartsAt   time.Time
	ExpiresAt  time.Time
	UsableOnce bool
}

// String omits the pass, so that a TAP printed by mistake reveals nothing.
func (t TAP) String() string {
	return fmt.Sprintf("TAP %s valid %s–%s", t.ID, t.StartsAt.Format(time.RFC3339), t.ExpiresAt.Format(time.RFC3339))
}

// LogValue omits the pass from structured logs.
func (t TAP) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", t.ID), slog.Time("expires_at", t.ExpiresAt))
}

// AuthMethod is a registered authentication method of a user: Type is Graph's short name
// (phone, email, fido2, microsoftAuthenticator, softwareOath, temporaryAccessPass,
// windowsHelloForBusiness, platformCredential, password…).
type AuthMethod struct {
	ID   string
	Type string
}

// Cleanup is what cleaning an account before it is enabled removed, for the audit log.
type Cleanup struct {
	RemovedMethods     []AuthMethod
	RemovedAssignments []RoleAssignment
	SessionsRevoked    bool
}

type tenantKey struct{}

// WithTenant binds the directory calls made with ctx to the Entra tenant id recorded on a
// grant: the connector refuses (*TenantMismatchError, nothing sent) to act with a token of any
// other tenant, so a re-pointed application can never make "not found" in the wrong tenant
// look like a finished disable.
func WithTenant(ctx context.Context, entraTenantID string) context.Context {
	return context.WithValue(ctx, tenantKey{}, strings.ToLower(strings.TrimSpace(entraTenantID)))
}

// TenantOf returns the tenant ctx is bound to by WithTenant, or "".
func TenantOf(ctx context.Context) string {
	t, _ := ctx.Value(tenantKey{}).(string)
	return t
}
