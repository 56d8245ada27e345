package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// AccessRequest runs one grant:
//
//	claim the row the API created (BeginGrant) → refused | denied
//	  → [pending_approval → approved | denied | expired_unapproved]
//	  → provisioning: EnsureAccount → AssignRoles → active
//	  → (timer | revoke, extensions renew the lease) → revoking: DisableAccount → expired | revoked
//
// A provisioning that fails for good is compensated (disable → failed). Refused, denied and
// failed grants are normal results; the workflow returns an error only to continue as new.
func AccessRequest(ctx workflow.Context, in AccessRequestInput) (Result, error) {
	g := newGrant(ctx, in)
	if err := g.setHandlers(ctx); err != nil {
		return g.st, err
	}
	// Cleanup must run even when the workflow itself is cancelled.
	dctx, _ := workflow.NewDisconnectedContext(ctx)

	if in.Carry == nil {
		if g.begin(ctx, dctx) {
			return g.snapshot(), nil
		}
	} else if workflow.GetInfo(ctx).ContinuedExecutionRunID == "" {
		// Only the workflow continues itself: a start that carries state is forged.
		return g.refuse(dctx, "a new run may not carry a grant's state"), nil
	}
	if g.st.Status == StatusActive {
		if err := g.waitForEnd(ctx); err != nil {
			return g.snapshot(), err
		}
	}
	return g.end(dctx), nil
}

// grant is the workflow's state. Handlers and the main coroutine share it; Temporal runs one
// coroutine at a time, so no locking.
type grant struct {
	in         AccessRequestInput
	workflowID string
	runID      string
	logger     log.Logger

	st            State
	plan          Plan
	assignmentIDs []string
	appliedKeys   []string
	outbox        []Record
	touched       bool   // the directory may have been changed: a disable is needed
	failure       string // provisioning failed for good

	revoke      *RevokeSignal
	revokeActor *Actor // set once the revoke's sender is verified
	// cancelProvision cancels provisioning when a revoke arrives during it.
	cancelProvision workflow.CancelFunc
	extending       bool
	lapsing         bool // an extension request's lapse is being recorded
}

func newGrant(ctx workflow.Context, in AccessRequestInput) *grant {
	info := workflow.GetInfo(ctx)
	g := &grant{
		in:         in,
		workflowID: info.WorkflowExecution.ID,
		runID:      info.WorkflowExecution.RunID,
		logger:     log.With(workflow.GetLogger(ctx), "GrantID", in.GrantID),
		st:         State{GrantID: in.GrantID, Status: StatusPending},
	}
	if c := in.Carry; c != nil {
		g.plan, g.st = c.Plan, c.State
		g.assignmentIDs, g.appliedKeys, g.outbox = c.AssignmentIDs, c.AppliedKeys, c.Outbox
		g.touched = true
	}
	return g
}

// begin claims the grant and provisions it. done reports that the grant ended here.
func (g *grant) begin(ctx, dctx workflow.Context) (done bool) {
	info := workflow.GetInfo(ctx)
	lctx := workflow.WithLocalActivityOptions(dctx, claimOptions("Claim grant "+g.in.GrantID+" and load it from the database"))
	err := workflow.ExecuteLocalActivity(lctx, BeginGrantActivity, BeginInput{
		GrantID: g.in.GrantID, TenantID: g.in.TenantID, ApplicationID: g.in.ApplicationID, TechnicianID: g.in.TechnicianID,
		WorkflowID: g.workflowID, RunID: g.runID, FirstRunID: info.FirstRunID,
	}).Get(lctx, &g.plan)
	switch {
	case err != nil:
		// The database could not say: nothing was claimed, nothing touched.
		g.refuse(dctx, stepError("claim grant", err).Error())
		return true
	case g.plan.Refused:
		g.st.Status, g.st.Refused = "", g.plan.Reason
		g.logger.Warn("Run refused", "Reason", g.plan.Reason)
		return true
	}
	g.st.RequestedAt = g.plan.RequestedAt
	if g.plan.Denied {
		g.finish(dctx, StatusDenied, ActionDenied, g.plan.Reason)
		return true
	}
	if g.plan.ApprovalRequired {
		g.enter(dctx, StatusPendingApproval) // BeginGrant recorded it
		if status, reason := g.approval(ctx); status != "" {
			g.finish(dctx, status, actionOf(status), reason)
			return true
		}
	}
	if g.revoke != nil {
		// Revoked before anything was provisioned: nothing to undo in the directory.
		g.finish(dctx, StatusRevoked, ActionRevoked, g.revoke.Reason)
		return true
	}
	g.provision(ctx, dctx)
	if g.failure == "" && g.revoke == nil {
		g.activate(dctx)
	}
	return false
}

// refuse ends a run that has no grant of its own: an audit event, no projection write.
func (g *grant) refuse(ctx workflow.Context, reason string) Result {
	g.st.Status, g.st.Refused = "", reason
	g.logger.Warn("Run refused", "Reason", reason)
	g.flush(ctx, Record{GrantID: g.in.GrantID, TenantID: g.in.TenantID, ApplicationID: g.in.ApplicationID,
		TechnicianID: g.in.TechnicianID, WorkflowID: g.workflowID, RunID: g.runID, Action: ActionRefused, Reason: reason},
		"Record that run was refused")
	g.drain(ctx)
	return g.snapshot()
}

// provision creates or re-enables the account and assigns the roles. A revoke cancels it.
func (g *grant) provision(ctx, dctx workflow.Context) {
	g.enter(dctx, StatusProvisioning) // BeginGrant recorded it
	pctx, cancel := workflow.WithCancel(ctx)
	g.cancelProvision = cancel
	defer func() { g.cancelProvision = nil; cancel() }()

	if !g.prepare(ctx, pctx) || g.revoke != nil {
		return
	}
	ectx := workflow.WithActivityOptions(pctx, provisionOptions(
		fmt.Sprintf("Create or re-enable account %s", g.plan.AccountUPN)))
	var acct AccountResult
	err := workflow.ExecuteActivity(ectx, EnsureAccountActivity, EnsureAccountInput{
		GrantID: g.in.GrantID, ApplicationID: g.in.ApplicationID, TechnicianEmail: g.plan.TechnicianEmail,
		TechnicianDisplayName: g.plan.TechnicianDisplayName, Domain: g.plan.Domain,
	}).Get(ectx, &acct)
	if err != nil {
		g.touched = !untouched(err)
		g.provisionFailed(ctx, stepError("create account", err))
		return
	}
	g.touched = true
	g.st.AccountUPN, g.st.AccountID = acct.UPN, acct.ObjectID
	if g.revoke != nil || !g.issueTAP(ctx, pctx) || g.revoke != nil {
		return
	}
	actx := workflow.WithActivityOptions(pctx, provisionOptions(
		fmt.Sprintf("Assign %d %s to %s", len(g.plan.Roles), Plural(len(g.plan.Roles), "role", "roles"), acct.UPN)))
	var assigned AssignRolesResult
	err = workflow.ExecuteActivity(actx, AssignRolesActivity, AssignRolesInput{
		GrantID: g.in.GrantID, ApplicationID: g.in.ApplicationID, ObjectID: acct.ObjectID, RoleIDs: g.plan.Roles,
	}).Get(actx, &assigned)
	if err != nil {
		g.provisionFailed(ctx, stepError("assign roles", err))
		return
	}
	g.assignmentIDs = assigned.AssignmentIDs
	g.st.Roles = g.plan.Roles
}

// provisionFailed tells a revoke or a cancelled workflow (which end revoked) from a failure.
func (g *grant) provisionFailed(ctx workflow.Context, err error) {
	if ctx.Err() != nil && g.revoke == nil {
		g.onRevoke(RevokeSignal{Reason: "workflow cancelled"})
	}
	if g.revoke != nil && temporal.IsCanceledError(err) {
		return
	}
	g.failure = err.Error()
	g.logger.Warn("Provisioning failed for good; compensating", "Failure", g.failure)
}

// activate makes the grant active: expires_at counts from now, when the account is usable.
func (g *grant) activate(ctx workflow.Context) {
	now := workflow.Now(ctx)
	g.st.ActivatedAt = now
	g.st.ExpiresAt = now.Add(g.plan.Duration)
	g.transition(ctx, StatusActive, Record{Action: ActionActivated, Key: "activated"})
}

// waitForEnd sleeps on a durable timer until expires_at, restarting it after an extension,
// and returns early on revoke or cancellation. Before the history gets long it continues as
// new (the error to return).
func (g *grant) waitForEnd(ctx workflow.Context) error {
	for g.revoke == nil {
		remaining := g.st.ExpiresAt.Sub(workflow.Now(ctx))
		if remaining <= 0 {
			return nil
		}
		// An extension awaiting approval stays in this run (its stage adds a few events).
		if info := workflow.GetInfo(ctx); g.st.PendingExtension == nil &&
			(info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() > HistoryLimit) {
			return g.continueAsNew(ctx)
		}
		extensions := len(g.st.Extensions)
		_, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
			Timeout:      remaining,
			TimerOptions: workflow.TimerOptions{Summary: "Access expires at " + formatTime(g.st.ExpiresAt)},
		}, func() bool { return g.revoke != nil || len(g.st.Extensions) != extensions })
		if err != nil {
			// The workflow was cancelled (e.g. from the Temporal UI): end access now.
			g.onRevoke(RevokeSignal{Reason: "workflow cancelled"})
			return nil
		}
	}
	return nil
}

// continueAsNew hands the active grant to a fresh run once no handler is running.
func (g *grant) continueAsNew(ctx workflow.Context) error {
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	g.logger.Info("Continuing as new", "HistoryLength", workflow.GetInfo(ctx).GetCurrentHistoryLength())
	in := g.in
	in.Carry = &Carry{Plan: g.plan, State: g.snapshot(), AssignmentIDs: g.assignmentIDs,
		AppliedKeys: g.appliedKeys, Outbox: g.outbox}
	return workflow.NewContinueAsNewError(ctx, WorkflowType, in)
}

// end disables what the grant touched and records the final status.
func (g *grant) end(ctx workflow.Context) Result {
	if g.touched {
		g.disable(ctx)
	}
	// Update handlers write the projection too, and so does a lapsing extension request; let
	// them finish first.
	_ = workflow.Await(ctx, func() bool {
		return workflow.AllHandlersFinished(ctx) && g.st.PendingExtension == nil && !g.lapsing
	})
	switch {
	case g.failure != "":
		return g.finish(ctx, StatusFailed, ActionFailed, g.failure)
	case g.revoke != nil:
		return g.finish(ctx, StatusRevoked, ActionRevoked, g.revoke.Reason)
	default:
		return g.finish(ctx, StatusExpired, ActionExpired, "")
	}
}

// disable runs DisableAccount until it succeeds (the server retries it, without limit), with
// status revoking meanwhile. A blocked attempt records itself (grant.disable_blocked).
func (g *grant) disable(ctx workflow.Context) {
	// An extension still writing its projection must not land after "revoking".
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	rec := Record{Key: "revoking", Failure: g.failure}
	if g.revoke != nil {
		_ = workflow.Await(ctx, func() bool { return g.revokeActor != nil })
		rec.Action, rec.Actor, rec.Reason = ActionRevoke, *g.revokeActor, g.revoke.Reason
		rec.RevokedBy = g.revokeActor.ID
		g.st.RevokedBy = g.revokeActor.ID
	}
	g.st.Failure = g.failure
	g.transition(ctx, StatusRevoking, rec)

	summary := "Disable account " + g.st.AccountUPN
	if g.st.AccountUPN == "" {
		summary = "Disable any account " + g.plan.AccountUPN
	}
	dctx := workflow.WithActivityOptions(ctx, disableOptions(summary+" and remove every role assignment"))
	in := DisableAccountInput{GrantID: g.in.GrantID, TenantID: g.in.TenantID, ApplicationID: g.in.ApplicationID,
		ObjectID: g.st.AccountID, UPN: g.st.AccountUPN, AssignmentIDs: g.assignmentIDs}
	if in.UPN == "" {
		in.UPN = g.plan.AccountUPN
	}
	var tap workflow.Future
	switch {
	case !g.hasTAP():
	case workflow.GetVersion(ctx, tapBesideDisableChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion:
		g.deleteTAP(ctx)
	default:
		tap = g.startDeleteTAP(ctx)
	}
	var res DisableAccountResult
	for {
		// The retry policy has no limit; only a limit imposed from outside (a test
		// environment) ends the attempts, and then the disable is scheduled again.
		err := workflow.ExecuteActivity(dctx, DisableAccountActivity, in).Get(dctx, &res)
		if err == nil {
			break
		}
		g.logger.Error("DisableAccount gave up; scheduling it again", "Error", err)
	}
	g.awaitDeleteTAP(ctx, tap)
	if res.WasBlocked && g.failure == "" {
		g.st.Failure = disabledLateNote
	}
	g.setDetails(ctx)
}

// disabledLateNote stays on a grant whose disable waited for a re-authorization.
const disabledLateNote = "disabled late: authorization to the customer tenant was lost until an admin authorized the application again"

// finish records the final status, writes every record still pending and returns the result.
func (g *grant) finish(ctx workflow.Context, status Status, action, reason string) Result {
	g.st.EndedAt = workflow.Now(ctx)
	rec := Record{Action: action, Key: "final", Reason: reason, ReleaseAccount: true}
	switch status {
	case StatusDenied, StatusFailed, StatusExpiredUnapproved:
		g.st.Failure = reason
		rec.Failure = reason
		rec.RuleID, rec.RuleName = g.plan.RuleID, g.plan.RuleName
	case StatusRevoked:
		if g.revokeActor != nil {
			rec.Actor = *g.revokeActor
		}
	}
	g.transition(ctx, status, rec)
	g.drain(ctx)
	return g.snapshot()
}

func actionOf(s Status) string {
	switch s {
	case StatusDenied:
		return ActionDenied
	case StatusRevoked:
		return ActionRevoked
	}
	return "grant." + string(s)
}

// untouched reports whether an EnsureAccount failure happened before anything reached the
// directory: no token (authorization lost or never given) or no valid account name.
func untouched(err error) bool {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		return false
	}
	switch appErr.Type() {
	case ErrTypeAuthorizationLost, ErrTypeNotAuthorized, ErrTypeInvalidAccount:
		return true
	}
	return false
}

// stepError names the step that failed and says why in words, without the activity error's
// scheduling details. Cancellation stays recognisable (temporal.IsCanceledError).
func stepError(step string, err error) error {
	if temporal.IsCanceledError(err) {
		return err
	}
	var appErr *temporal.ApplicationError
	var timeoutErr *temporal.TimeoutError
	switch {
	case errors.As(err, &appErr) && appErr.Type() == ErrTypeAuthorizationLost:
		return fmt.Errorf("%s: authorization to the customer tenant was lost; an admin must authorize the application again", step)
	case errors.As(err, &appErr) && appErr.Type() == ErrTypeAccountConflict:
		return fmt.Errorf("%s: account_conflict: %s", step, appErr.Error())
	case errors.As(err, &appErr) && appErr.Type() == ErrTypeTAPPolicyDisabled:
		return fmt.Errorf("%s: tap_policy_disabled: %s", step, appErr.Error())
	case errors.As(err, &appErr) && appErr.Type() == ErrTypeNotAuthorized:
		return fmt.Errorf("%s: the application is not authorized in the customer tenant", step)
	case errors.As(err, &timeoutErr):
		if cause := errors.Unwrap(timeoutErr); cause != nil {
			return fmt.Errorf("%s: gave up retrying (%s timeout); last error: %s", step, timeoutErr.TimeoutType(), rootMessage(cause))
		}
		return fmt.Errorf("%s: gave up retrying (%s timeout)", step, timeoutErr.TimeoutType())
	case appErr != nil:
		return fmt.Errorf("%s: %s", step, appErr.Error())
	}
	return fmt.Errorf("%s: %s", step, rootMessage(err))
}

// rootMessage is the message of the innermost error.
func rootMessage(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
