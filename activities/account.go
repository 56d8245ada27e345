package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// heartbeatEvery is well inside the workflow's HeartbeatTimeout (10 s).
const heartbeatEvery = 3 * time.Second

// heartbeat records details every heartbeatEvery until stop is called, so that a cancel
// reaches the attempt (through ctx) and a lost worker is noticed in seconds. The first record
// waits a period too: the SDK sends a first heartbeat synchronously, a server round trip and a
// write of the workflow's state, which an attempt that ends in milliseconds does not need.
func heartbeat(ctx context.Context, details any) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx, details)
			}
		}
	}()
	return func() { close(done) }
}

// EnsureAccount creates the technician's account, or resets its password and enables it,
// with a fresh password generated here, and stores that password sealed for the grant.
// Retrying after a partial success is safe: the connector finds the account by UPN and a
// new password replaces the old one in both places.
func (a *Activities) EnsureAccount(ctx context.Context, in workflows.EnsureAccountInput) (workflows.AccountResult, error) {
	spec, err := directory.NewAccountSpec(in.TechnicianEmail, in.TechnicianDisplayName, in.Domain)
	if err != nil {
		return workflows.AccountResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("account name for %s in %s: %v", in.TechnicianEmail, in.Domain, err), ErrTypeInvalidAccount, nil)
	}
	defer heartbeat(ctx, nil)()
	// An account an earlier grant made is re-enabled by its id: one Graph round trip less.
	if id, err := a.Store.KnownAccountID(ctx, in.GrantID, spec.UPN); err == nil {
		spec.ObjectID = id
	} else {
		a.logger().WarnContext(ctx, "earlier account id not read; finding the account by name", "grant_id", in.GrantID, "error", err)
	}
	password := directory.NewPassword()
	start := a.now()
	acct, err := a.Directory.EnsureAccount(ctx, in.ApplicationID, spec, password)
	err = directoryError("ensure account "+spec.UPN, err, false)
	a.metrics().DirectoryOutcome(in.ApplicationID, Outcome(err))
	if err != nil {
		return workflows.AccountResult{}, err
	}
	if err := a.placeInRestrictedUnit(ctx, in.ApplicationID, acct.ObjectID); err != nil {
		return workflows.AccountResult{}, err
	}
	if err := a.Store.SaveCredential(ctx, in.GrantID, acct.UPN, password); err != nil {
		return workflows.AccountResult{}, fmt.Errorf("save credential of grant %s: %w", in.GrantID, err)
	}
	a.logger().InfoContext(ctx, "account ready",
		"grant_id", in.GrantID, "application_id", in.ApplicationID,
		"upn", acct.UPN, "object_id", acct.ObjectID, "created", acct.Created, "elapsed", a.now().Sub(start))
	return workflows.AccountResult{ObjectID: acct.ObjectID, UPN: acct.UPN, Created: acct.Created}, nil
}

// AssignRoles assigns the application's roles to the account. The connector is idempotent,
// so a retry after a partial success returns every assignment id.
func (a *Activities) AssignRoles(ctx context.Context, in workflows.AssignRolesInput) (workflows.AssignRolesResult, error) {
	defer heartbeat(ctx, nil)()
	ids, err := a.Directory.AssignRoles(ctx, in.ApplicationID, in.ObjectID, in.RoleIDs)
	err = directoryError(fmt.Sprintf("assign %d roles to %s", len(in.RoleIDs), in.ObjectID), err, false)
	a.metrics().DirectoryOutcome(in.ApplicationID, Outcome(err))
	if err != nil {
		return workflows.AssignRolesResult{}, err
	}
	a.logger().InfoContext(ctx, "roles assigned",
		"grant_id", in.GrantID, "application_id", in.ApplicationID, "object_id", in.ObjectID, "assignments", len(ids))
	return workflows.AssignRolesResult{AssignmentIDs: ids}, nil
}

// disableProgress is DisableAccount's heartbeat: it survives a failed attempt, so the
// blocked state is recorded by the first blocked attempt only.
type disableProgress struct {
	Blocked bool
}

// DisableAccount disables the account, signs it out, replaces its password with one nobody
// ever sees and removes every directory role assignment it holds (those the grant remembers
// and those the directory lists), then deletes the stored credential. Every error is
// retryable: the server retries until the account is disabled. An attempt refused for lost
// authorization records the grant as blocked (projection failure and grant.disable_blocked),
// once for the whole series.
func (a *Activities) DisableAccount(ctx context.Context, in workflows.DisableAccountInput) (workflows.DisableAccountResult, error) {
	var prog disableProgress
	if activity.IsActivity(ctx) && activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &prog)
	}
	stop := heartbeat(ctx, prog)
	defer func() { stop() }()

	ref := in.ObjectID
	if ref == "" {
		ref = in.UPN
	}
	ids := slices.Clone(in.AssignmentIDs)
	var err error
	if in.ObjectID != "" {
		var listed []directory.RoleAssignment
		listed, err = a.Directory.ListAssignments(ctx, in.ApplicationID, in.ObjectID)
		for _, ra := range listed {
			if !slices.Contains(ids, ra.ID) {
				ids = append(ids, ra.ID)
			}
		}
		if errors.Is(err, directory.ErrNotFound) {
			err = nil
		}
	}
	if err == nil && ref != "" {
		err = a.Directory.DisableAccount(ctx, in.ApplicationID, ref, ids, directory.NewPassword())
		if errors.Is(err, directory.ErrNotFound) {
			// Nothing exists under that name, so nothing is enabled.
			a.logger().InfoContext(ctx, "account to disable does not exist", "grant_id", in.GrantID, "account", ref)
			err = nil
		}
	}
	err = directoryError("disable account "+ref, err, true)
	a.metrics().DirectoryOutcome(in.ApplicationID, Outcome(err))
	if err != nil {
		if t := Outcome(err); (t == ErrTypeAuthorizationLost || t == ErrTypeNotAuthorized) && !prog.Blocked {
			if rerr := a.recordBlocked(ctx, in, err); rerr != nil {
				return workflows.DisableAccountResult{}, rerr // retried: the next attempt records it
			}
			prog.Blocked = true
			stop()
			if activity.IsActivity(ctx) {
				activity.RecordHeartbeat(ctx, prog) // now: the next attempt must know
			}
			stop = heartbeat(ctx, prog)
		}
		return workflows.DisableAccountResult{}, err
	}
	if err := a.Store.DeleteCredential(ctx, in.GrantID); err != nil {
		return workflows.DisableAccountResult{}, fmt.Errorf("delete credential of grant %s: %w", in.GrantID, err)
	}
	a.logger().InfoContext(ctx, "account disabled",
		"grant_id", in.GrantID, "application_id", in.ApplicationID, "account", ref, "assignments_removed", len(ids))
	return workflows.DisableAccountResult{WasBlocked: prog.Blocked, AssignmentsRemoved: len(ids)}, nil
}

// recordBlocked makes a blocked disable visible: the reason in the projection (status
// revoking) and a grant.disable_blocked audit event.
func (a *Activities) recordBlocked(ctx context.Context, in workflows.DisableAccountInput, cause error) error {
	reason := "disable account: authorization to the customer tenant was lost; an admin must authorize the application again"
	workflowID, runID := "", ""
	if activity.IsActivity(ctx) {
		workflowID, runID = activity.GetInfo(ctx).WorkflowExecution.ID, activity.GetInfo(ctx).WorkflowExecution.RunID
	}
	rec := workflows.Record{GrantID: in.GrantID, WorkflowID: workflowID, RunID: runID, TenantID: in.TenantID, ApplicationID: in.ApplicationID,
		Status: workflows.StatusRevoking, Failure: reason, Action: workflows.ActionDisableBlocked, Key: "blocked", Reason: reason}
	event := auditEvent(rec)
	if err := a.Store.RecordTransition(ctx, updateOf(rec), &event); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("record blocked disable of grant %s: %w", in.GrantID, err)
	}
	if n, ok := notificationOf(rec); ok {
		if err := a.publish(ctx, n); err != nil {
			return err
		}
	}
	a.logger().WarnContext(ctx, "disable blocked until the application is authorized again", "grant_id", in.GrantID, "error", cause)
	a.metrics().DisableBlocked()
	return nil
}
