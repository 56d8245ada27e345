package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/jitaccess/jitaccess/workflows/signinwire"
)

// Audit actions of the sign-in steps.
const (
	// ActionAccountConflict: an account with the grant's UPN exists that jitaccess did not
	// create; it was left untouched and the grant failed.
	ActionAccountConflict = "grant.account_conflict"
	// ActionAccountCleaned: one authentication method, role assignment or the sign-in sessions
	// of the grant's account were removed before it was enabled again.
	ActionAccountCleaned = "account.cleaned"
)

// prepare refuses adoption and cleans an account jitaccess made before it is enabled again
// (PrepareAccount). ok is false when provisioning must stop (g.failure or a revoke says why).
func (g *grant) prepare(ctx, pctx workflow.Context) (ok bool) {
	actx := workflow.WithActivityOptions(pctx, provisionOptions(
		fmt.Sprintf("Check and clean account %s before enabling it", g.plan.AccountUPN)))
	var res signinwire.PrepareAccountResult
	err := workflow.ExecuteActivity(actx, signinwire.PrepareAccountActivity, signinwire.PrepareAccountInput{
		GrantID: g.in.GrantID, ApplicationID: g.in.ApplicationID, UPN: g.plan.AccountUPN, KeepRoleIDs: g.plan.Roles,
	}).Get(actx, &res)
	if err != nil {
		// Nothing was changed in the directory: no disable follows.
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.Type() == ErrTypeAccountConflict {
			g.outbox = append(g.outbox, g.recordOf(Record{Action: ActionAccountConflict, Key: "account_conflict",
				Reason: "account_conflict: " + g.plan.AccountUPN + " exists and was not created by jitaccess; it was left untouched"}))
		}
		g.provisionFailed(ctx, stepError("check account", err))
		return false
	}
	if res.ObjectID == "" {
		return true
	}
	g.touched = true // cleaned: the account is ours, and a disable ends the grant either way
	clean := func(key, reason string) {
		g.outbox = append(g.outbox, g.recordOf(Record{Action: ActionAccountCleaned, Key: "cleaned-" + key, Reason: reason}))
	}
	for _, m := range res.RemovedMethods {
		clean("method-"+m.ID, fmt.Sprintf("removed authentication method %s (%s) from %s", m.ID, m.Type, g.plan.AccountUPN))
	}
	for _, a := range res.RemovedAssignments {
		clean("assignment-"+a.ID, fmt.Sprintf("removed role assignment %s (role %s) from %s", a.ID, a.RoleID, g.plan.AccountUPN))
	}
	if res.SessionsRevoked {
		clean("sessions", "revoked the sign-in sessions of "+g.plan.AccountUPN)
	}
	return true
}

// issueTAP issues the Temporary Access Pass when the application's sign-in method has one.
// A policy that is off fails the grant (tap_policy_disabled), never silently.
func (g *grant) issueTAP(ctx, pctx workflow.Context) (ok bool) {
	if !g.plan.UsesTAP() {
		return true
	}
	actx := workflow.WithActivityOptions(pctx, provisionOptions("Issue a Temporary Access Pass to "+g.st.AccountUPN))
	var res signinwire.IssueTAPResult
	err := workflow.ExecuteActivity(actx, signinwire.IssueTAPActivity, signinwire.IssueTAPInput{
		GrantID: g.in.GrantID, ApplicationID: g.in.ApplicationID, ObjectID: g.st.AccountID,
		ExpiresAt: workflow.Now(ctx).Add(g.plan.Duration),
	}).Get(actx, &res)
	if err != nil {
		g.provisionFailed(ctx, stepError("issue Temporary Access Pass", err))
		return false
	}
	return true
}

// tapBesideDisableChange versions the disable: from version 1 the pass is deleted beside
// DisableAccount (both scheduled in one workflow task) instead of before it, so the account is
// disabled one activity sooner. Histories recorded before run on DefaultVersion.
const tapBesideDisableChange = "tap-delete-beside-disable"

// deleteTAP deletes the grant's Temporary Access Pass and waits for it (the order before
// tapBesideDisableChange).
func (g *grant) deleteTAP(ctx workflow.Context) {
	g.awaitDeleteTAP(ctx, g.startDeleteTAP(ctx))
}

// startDeleteTAP starts deleting the grant's Temporary Access Pass (best effort: the
// disabled account cannot sign in with it, and the next grant's cleaning removes it); nil
// when the grant has none.
func (g *grant) startDeleteTAP(ctx workflow.Context) workflow.Future {
	if !g.hasTAP() {
		return nil
	}
	o := disableOptions("Delete the Temporary Access Pass of " + g.st.AccountUPN)
	// Never delays the disable: errors waiting cannot fix (authorization lost) end it at once.
	o.ScheduleToCloseTimeout = deleteTAPTimeout
	o.RetryPolicy.NonRetryableErrorTypes = NonRetryableProvisioningErrors()
	actx := workflow.WithActivityOptions(ctx, o)
	return workflow.ExecuteActivity(actx, signinwire.DeleteTAPActivity, signinwire.DeleteTAPInput{
		GrantID: g.in.GrantID, ApplicationID: g.in.ApplicationID, ObjectID: g.st.AccountID,
	})
}

// hasTAP: the grant's application issues passes and the account exists.
func (g *grant) hasTAP() bool { return g.plan.UsesTAP() && g.st.AccountID != "" }

func (g *grant) awaitDeleteTAP(ctx workflow.Context, f workflow.Future) {
	if f == nil {
		return
	}
	if err := f.Get(ctx, nil); err != nil {
		g.logger.Warn("Temporary Access Pass not deleted; the account is disabled anyway", "Error", err)
	}
}
