package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/jitaccess/jitaccess/directory"
)

// EnsureAccountInput names the technician whose account to create or re-enable, and where.
type EnsureAccountInput struct {
	GrantID               string
	ApplicationID         string
	TechnicianEmail       string
	TechnicianDisplayName string
	Domain                string
}

// AccountResult identifies the account. It never carries the password.
type AccountResult struct {
	ObjectID string
	UPN      string
	Created  bool // false when an existing account was re-enabled
}

// EnsureAccount creates the technician's account, or resets its password and enables it,
// with a fresh password generated here, and stores that password sealed for the grant.
// Retrying after a partial success is safe: the connector finds the account by UPN and a
// new password replaces the old one in both places.
func (a *Activities) EnsureAccount(ctx context.Context, in EnsureAccountInput) (AccountResult, error) {
	spec, err := directory.NewAccountSpec(in.TechnicianEmail, in.TechnicianDisplayName, in.Domain)
	if err != nil {
		return AccountResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("account name for %s in %s: %v", in.TechnicianEmail, in.Domain, err), ErrTypeInvalidAccount, nil)
	}
	// An account an earlier grant made is re-enabled by its id: one Graph round trip less.
	// Without the hint (a failed lookup included) the connector finds it by name.
	if id, err := a.Store.KnownAccountID(ctx, in.GrantID, spec.UPN); err == nil {
		spec.ObjectID = id
	} else {
		a.logger().WarnContext(ctx, "earlier account id not read; finding the account by name", "grant_id", in.GrantID, "error", err)
	}
	password := directory.NewPassword()
	start := a.now()
	acct, err := a.Directory.EnsureAccount(ctx, in.ApplicationID, spec, password)
	if err != nil {
		return AccountResult{}, directoryError("ensure account "+spec.UPN, err, false)
	}
	if err := a.Store.SaveCredential(ctx, in.GrantID, acct.UPN, password); err != nil {
		return AccountResult{}, fmt.Errorf("save credential of grant %s: %w", in.GrantID, err)
	}
	a.logger().InfoContext(ctx, "account ready",
		"grant_id", in.GrantID, "application_id", in.ApplicationID,
		"upn", acct.UPN, "object_id", acct.ObjectID, "created", acct.Created,
		"elapsed", a.now().Sub(start))
	return AccountResult{ObjectID: acct.ObjectID, UPN: acct.UPN, Created: acct.Created}, nil
}

// AssignRolesInput names the account and the role template ids to assign.
type AssignRolesInput struct {
	GrantID       string
	ApplicationID string
	ObjectID      string
	RoleIDs       []string
}

// AssignRolesResult lists the role assignments the grant made, for DisableAccount to remove.
type AssignRolesResult struct {
	AssignmentIDs []string
}

// AssignRoles assigns the application's roles to the account. The connector is idempotent,
// so a retry after a partial success returns every assignment id.
func (a *Activities) AssignRoles(ctx context.Context, in AssignRolesInput) (AssignRolesResult, error) {
	ids, err := a.Directory.AssignRoles(ctx, in.ApplicationID, in.ObjectID, in.RoleIDs)
	if err != nil {
		return AssignRolesResult{}, directoryError(fmt.Sprintf("assign %d roles to %s", len(in.RoleIDs), in.ObjectID), err, false)
	}
	a.logger().InfoContext(ctx, "roles assigned",
		"grant_id", in.GrantID, "application_id", in.ApplicationID, "object_id", in.ObjectID, "assignments", len(ids))
	return AssignRolesResult{AssignmentIDs: ids}, nil
}

// DisableAccountInput names the account to disable. When the account's object id is not
// known (provisioning failed before EnsureAccount answered), UPN, or else TechnicianEmail
// and Domain, name it: Graph accepts a UPN wherever it accepts an object id.
type DisableAccountInput struct {
	GrantID         string
	ApplicationID   string
	ObjectID        string
	UPN             string
	AssignmentIDs   []string
	TechnicianEmail string
	Domain          string
}

// DisableAccount disables the account, signs it out, replaces its password with one nobody
// ever sees and removes the grant's role assignments, then deletes the stored credential.
// Every error is retryable: the workflow retries until the account is disabled.
func (a *Activities) DisableAccount(ctx context.Context, in DisableAccountInput) error {
	ref := in.ObjectID
	if ref == "" {
		ref = in.UPN
	}
	if ref == "" && in.TechnicianEmail != "" && in.Domain != "" {
		upn, err := directory.BuildUPN(in.TechnicianEmail, in.Domain)
		if err != nil {
			// The account could never have been created under an invalid name.
			a.logger().WarnContext(ctx, "no account name to disable", "grant_id", in.GrantID, "error", err)
		}
		ref = upn
	}
	if ref != "" {
		err := a.Directory.DisableAccount(ctx, in.ApplicationID, ref, in.AssignmentIDs, directory.NewPassword())
		switch {
		case errors.Is(err, directory.ErrNotFound):
			// Nothing exists under that name, so nothing is enabled.
			a.logger().InfoContext(ctx, "account to disable does not exist", "grant_id", in.GrantID, "account", ref)
		case err != nil:
			return directoryError("disable account "+ref, err, true)
		}
	}
	if err := a.Store.DeleteCredential(ctx, in.GrantID); err != nil {
		return fmt.Errorf("delete credential of grant %s: %w", in.GrantID, err)
	}
	a.logger().InfoContext(ctx, "account disabled",
		"grant_id", in.GrantID, "application_id", in.ApplicationID, "account", ref, "assignments_removed", len(in.AssignmentIDs))
	return nil
}
