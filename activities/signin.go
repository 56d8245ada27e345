package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
	"github.com/jitaccess/jitaccess/workflows/signinwire"
)

// Activities of issue #16 (MFA-ready sign-in, no adoption, clean before enable) and of the
// tenant pinning of issue #15. They live on their own struct so that the worker registers
// them beside *Activities; every Graph call they make is bound to the grant's Entra tenant.

// Error types of the sign-in activities (non-retryable while provisioning).
const (
	// ErrTypeAccountConflict: an account with the UPN exists that jitaccess did not create
	// (SPEC code account_conflict); it is left untouched.
	ErrTypeAccountConflict = workflows.ErrTypeAccountConflict
	// ErrTypeTAPPolicyDisabled: the tenant's Temporary Access Pass policy is off or does not
	// include the account (SPEC code tap_policy_disabled).
	ErrTypeTAPPolicyDisabled = workflows.ErrTypeTAPPolicyDisabled
	// ErrTypeTenantMismatch: the application now authorizes another Entra tenant than the one
	// the grant was made in (SPEC code tenant_mismatch). Retried without end when disabling.
	ErrTypeTenantMismatch = workflows.ErrTypeTenantMismatch
)

// SignInStore is the part of *store.Store the sign-in activities need.
type SignInStore interface {
	KnownAccountID(ctx context.Context, grantID, upn string) (string, error)
	PinGrantTenant(ctx context.Context, grantID string) (string, error)
	SignInMethod(ctx context.Context, applicationID string) (string, error)
	SaveTAP(ctx context.Context, grantID string, tap directory.TAP) error
	TAPID(ctx context.Context, grantID string) (string, error)
	ForgetTAP(ctx context.Context, grantID string) error
	TAPExpiry(ctx context.Context, grantID string) (time.Time, bool, error)
}

// SignInDirectory is the part of *entra.Client the sign-in activities need.
type SignInDirectory interface {
	CheckAdoption(ctx context.Context, applicationID, upn, recordedObjectID string) error
	CleanAccount(ctx context.Context, applicationID, objectID string, keepRoleIDs []string) (directory.Cleanup, error)
	IssueTAP(ctx context.Context, applicationID, objectID string, lifetime time.Duration) (directory.TAP, error)
	DeleteTAP(ctx context.Context, applicationID, objectID, tapID string) error
}

// SignIn carries the dependencies of the sign-in activities.
type SignIn struct {
	Store     SignInStore
	Directory SignInDirectory
	Now       func() time.Time
	Logger    *slog.Logger
}

func (a *SignIn) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *SignIn) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}

// pinned binds ctx to the Entra tenant recorded on the grant (recorded now if it was not).
func (a *SignIn) pinned(ctx context.Context, grantID string) (context.Context, error) {
	tid, err := a.Store.PinGrantTenant(ctx, grantID)
	if err != nil {
		return ctx, fmt.Errorf("read the Entra tenant of grant %s: %w", grantID, err)
	}
	if tid == "" {
		return ctx, nil
	}
	return directory.WithTenant(ctx, tid), nil
}

// signInError maps the sign-in errors, then defers to directoryError.
func signInError(op string, err error, mustFinish bool) error {
	var tm *directory.TenantMismatchError
	msg := fmt.Sprintf("%s: %v", op, err)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, directory.ErrAccountConflict):
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeAccountConflict, nil)
	case errors.Is(err, directory.ErrTAPPolicyDisabled):
		return temporal.NewNonRetryableApplicationError(msg+
			"; the technician gets no Temporary Access Pass until an admin enables the policy or sets the application's sign_in_method to password",
			ErrTypeTAPPolicyDisabled, nil)
	case errors.As(err, &tm) && mustFinish:
		return temporal.NewApplicationErrorWithOptions(msg, ErrTypeTenantMismatch,
			temporal.ApplicationErrorOptions{NextRetryDelay: authorizationLostRetryDelay})
	case errors.As(err, &tm):
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeTenantMismatch, nil)
	}
	return directoryError(op, err, mustFinish)
}

// PrepareAccountInput names the grant's account before EnsureAccount. KeepRoleIDs are the role
// template ids the grant is about to assign (their tenant-wide assignments are kept).
type PrepareAccountInput = signinwire.PrepareAccountInput

// PrepareAccountResult says what was found and removed, for the workflow's audit events.
type PrepareAccountResult struct {
	ObjectID           string // "" when no account exists yet (EnsureAccount creates it)
	RemovedMethods     []directory.AuthMethod
	RemovedAssignments []directory.RoleAssignment
	SessionsRevoked    bool
}

// PrepareAccount refuses adoption and cleans before enable: an existing account with the UPN
// is used only when jitaccess recorded its object id and its creation marker is still there
// (else ErrTypeAccountConflict, non-retryable, nothing touched); such an account loses every
// authentication method except the password, every role assignment outside KeepRoleIDs, and
// its sign-in sessions. Idempotent.
func (a *SignIn) PrepareAccount(ctx context.Context, in PrepareAccountInput) (PrepareAccountResult, error) {
	ctx, err := a.pinned(ctx, in.GrantID)
	if err != nil {
		return PrepareAccountResult{}, err
	}
	known, err := a.Store.KnownAccountID(ctx, in.GrantID, in.UPN)
	if err != nil {
		return PrepareAccountResult{}, fmt.Errorf("read the recorded account of grant %s: %w", in.GrantID, err)
	}
	if known == "" {
		// Nothing on record: an account under this name is not ours (or there is none yet).
		if err := a.Directory.CheckAdoption(ctx, in.ApplicationID, in.UPN, ""); err != nil {
			return PrepareAccountResult{}, signInError("check account "+in.UPN, err, false)
		}
		return PrepareAccountResult{}, nil
	}
	// With restricted_admin_unit on, the calling principal needs its roles at the unit's scope
	// before it can clean a member (a new authorizing admin gets them here).
	if _, _, err := ensureRestrictedUnit(ctx, a.Store, a.Directory, in.ApplicationID); err != nil {
		return PrepareAccountResult{}, err
	}
	// CleanAccount checks the recorded account still carries the marker before removing anything.
	c, err := a.Directory.CleanAccount(ctx, in.ApplicationID, known, in.KeepRoleIDs)
	if errors.Is(err, directory.ErrNotFound) {
		return PrepareAccountResult{}, nil // deleted since it was checked: EnsureAccount creates it
	}
	if err != nil {
		return PrepareAccountResult{}, signInError("clean account "+in.UPN, err, false)
	}
	a.logger().InfoContext(ctx, "account cleaned before enable", "grant_id", in.GrantID, "object_id", known,
		"methods_removed", len(c.RemovedMethods), "assignments_removed", len(c.RemovedAssignments))
	return PrepareAccountResult{ObjectID: known, RemovedMethods: c.RemovedMethods, RemovedAssignments: c.RemovedAssignments,
		SessionsRevoked: c.SessionsRevoked}, nil
}

// IssueTAPInput names the grant's account and when the grant ends.
type IssueTAPInput = signinwire.IssueTAPInput

// IssueTAPResult describes the issued pass without the pass itself.
type IssueTAPResult = signinwire.IssueTAPResult

// IssueTAP issues a Temporary Access Pass covering the grant (capped by the tenant's policy)
// when the application's sign_in_method asks for one, and seals it beside the password (after
// EnsureAccount, which saves the credential row). A policy that is off is
// ErrTypeTAPPolicyDisabled, non-retryable: never a silently missing pass.
func (a *SignIn) IssueTAP(ctx context.Context, in IssueTAPInput) (IssueTAPResult, error) {
	method, err := a.Store.SignInMethod(ctx, in.ApplicationID)
	if err != nil {
		return IssueTAPResult{}, fmt.Errorf("read the sign-in method of %s: %w", in.ApplicationID, err)
	}
	if !store.UsesTAP(method) {
		return IssueTAPResult{}, nil
	}
	ctx, err = a.pinned(ctx, in.GrantID)
	if err != nil {
		return IssueTAPResult{}, err
	}
	lifetime := in.ExpiresAt.Sub(a.now())
	if lifetime < time.Minute {
		lifetime = time.Minute
	}
	tap, err := a.Directory.IssueTAP(ctx, in.ApplicationID, in.ObjectID, lifetime)
	if err != nil {
		return IssueTAPResult{}, signInError("issue a Temporary Access Pass for "+in.ObjectID, err, false)
	}
	if err := a.Store.SaveTAP(ctx, in.GrantID, tap); err != nil {
		return IssueTAPResult{}, fmt.Errorf("save the Temporary Access Pass of grant %s: %w", in.GrantID, err)
	}
	res := IssueTAPResult{Issued: true, TAPID: tap.ID, ExpiresAt: tap.ExpiresAt, CappedByPolicy: tap.ExpiresAt.Before(in.ExpiresAt.Add(-time.Minute))}
	a.logger().InfoContext(ctx, "temporary access pass issued", "grant_id", in.GrantID, "tap", tap, "capped", res.CappedByPolicy)
	return res, nil
}

// DeleteTAPInput names the grant's account.
type DeleteTAPInput = signinwire.DeleteTAPInput

// DeleteTAP deletes the grant's Temporary Access Pass (every TAP of the account when its id
// is not on record) at revoke or expiry, beside DisableAccount (before it, in histories
// recorded before tap-delete-beside-disable). The workflow tries it briefly
// (the disable must not wait); a tenant mismatch is never reported as done.
func (a *SignIn) DeleteTAP(ctx context.Context, in DeleteTAPInput) error {
	if in.ObjectID == "" {
		return nil // no account was made, so no pass
	}
	ctx, err := a.pinned(ctx, in.GrantID)
	if err != nil {
		return err
	}
	id, err := a.Store.TAPID(ctx, in.GrantID)
	if err != nil {
		return err
	}
	err = a.Directory.DeleteTAP(ctx, in.ApplicationID, in.ObjectID, id)
	if errors.Is(err, directory.ErrNotFound) {
		err = nil // the account is gone from the pinned tenant, and its passes with it
	}
	if err != nil {
		return signInError("delete the Temporary Access Pass of "+in.ObjectID, err, true)
	}
	// Its id stays on record until now, whichever of this and the disable ends first.
	if err := a.Store.ForgetTAP(ctx, in.GrantID); err != nil {
		return fmt.Errorf("forget the Temporary Access Pass of grant %s: %w", in.GrantID, err)
	}
	return nil
}
