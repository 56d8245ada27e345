package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/store"
)

// acts is used only to name activities (method values on a nil receiver); the worker
// registers the real *activities.Activities.
var acts *activities.Activities

// AccessRequest runs one grant:
//
//	pending → CheckEntitlement → denied
//	        → provisioning → EnsureAccount → AssignRoles → active
//	        → (timer | revoke) → revoking → DisableAccount → expired | revoked
//
// and compensates a provisioning that failed for good (disable → failed). Denied and failed
// grants are normal results; the workflow returns an error only if it cannot run at all.
func AccessRequest(ctx workflow.Context, in AccessRequestInput) (Result, error) {
	g := newGrant(ctx, in)
	if err := g.setHandlers(ctx); err != nil {
		return g.st, err
	}
	// Cleanup must run even when the workflow itself is cancelled.
	dctx, _ := workflow.NewDisconnectedContext(ctx)

	invalid := in.Duration <= 0 || in.Duration > g.maxDuration
	if !g.lean || invalid {
		// Lean runs record the request together with the entitlement check (BeginGrant).
		g.transition(dctx, store.StatusPending, g.requested())
	}
	if invalid {
		return g.finish(dctx, store.StatusFailed, activities.ActionFailed,
			fmt.Sprintf("invalid access duration %s (must be positive and at most %s)", in.Duration, g.maxDuration)), nil
	}

	ent, err := g.checkEntitlement(dctx)
	switch {
	case err != nil:
		return g.finish(dctx, store.StatusFailed, activities.ActionFailed, stepError("check entitlement", err).Error()), nil
	case !ent.Allowed:
		return g.finish(dctx, store.StatusDenied, activities.ActionDenied, ent.Reason), nil
	case g.revoke != nil:
		// Revoked before anything was provisioned: nothing to undo in the directory.
		return g.finish(dctx, store.StatusRevoked, activities.ActionRevoked, g.revoke.Reason), nil
	}

	touched, err := g.provision(ctx, dctx)
	if err != nil && ctx.Err() != nil && g.revoke == nil {
		// The workflow was cancelled during provisioning: treat it as a revoke.
		g.onRevoke(RevokeSignal{Reason: "workflow cancelled"})
	}
	failure := ""
	if err != nil && !(g.revoke != nil && temporal.IsCanceledError(err)) {
		failure = err.Error()
		g.logger.Warn("Provisioning failed for good; compensating", "Failure", failure)
	}
	if failure == "" && g.revoke == nil {
		g.activate(dctx)
		g.waitForEnd(ctx)
	}
	if touched {
		g.disable(dctx, failure)
	}
	// Update handlers write the projection too; let them finish first.
	_ = workflow.Await(dctx, func() bool { return workflow.AllHandlersFinished(dctx) })

	switch {
	case failure != "":
		return g.finish(dctx, store.StatusFailed, activities.ActionFailed, failure), nil
	case g.revoke != nil:
		return g.finish(dctx, store.StatusRevoked, activities.ActionRevoked, g.revoke.Reason), nil
	default:
		return g.finish(dctx, store.StatusExpired, activities.ActionExpired, ""), nil
	}
}

// grant is the workflow's state. Handlers and the main coroutine share it; Temporal runs
// one coroutine at a time, so no locking.
type grant struct {
	in          AccessRequestInput
	workflowID  string
	runID       string
	maxDuration time.Duration
	logger      log.Logger

	st            Status
	ent           activities.EntitlementResult
	assignmentIDs []string
	revoke        *RevokeSignal
	// cancelEnsure cancels the account creation when a revoke arrives during it.
	cancelEnsure workflow.CancelFunc
	// saIdentity records whether the identity search attributes were upserted.
	saIdentity bool
	// lean is fewerVisibilityWritesChange (version 1) in effect for this run.
	lean bool
}

// fewerVisibilityWritesChange, from version 1, implies the two earlier changes (grant id from
// the run id; a blocked disable made visible), records the request with the entitlement check
// in one local activity (BeginGrant), does not record the milliseconds of revoking of a plain
// expiry, and upserts search attributes only where an admin's search would change
// (searchedFor, an extension, a blocked disable).
// The API starts the run with the identity attributes and JitStatus=pending already.
// The Go SDK upserts TemporalChangeVersion for every GetVersion a run calls, so one change id
// instead of three takes a whole lifecycle from seven visibility writes to three
// (docs/performance.md).
const fewerVisibilityWritesChange = "fewer-visibility-writes"

func newGrant(ctx workflow.Context, in AccessRequestInput) *grant {
	info := workflow.GetInfo(ctx)
	lean := workflow.GetVersion(ctx, fewerVisibilityWritesChange, workflow.DefaultVersion, 1) == 1
	// grantIDFromRunChange derives the grant id from the run id: the API derives the same id
	// from the run Temporal hands it, so both agree even when the API's first write failed and
	// a retried request found the run started by the earlier one (whose input carried another id).
	if lean || workflow.GetVersion(ctx, grantIDFromRunChange, workflow.DefaultVersion, 1) == 1 {
		in.GrantID = GrantIDForRun(info.WorkflowExecution.RunID)
	}
	// A run started without the identity attributes (not by the API) gets them at once.
	_, started := workflow.GetTypedSearchAttributes(ctx).GetKeyword(TenantIDKey)
	maxDur := in.MaxDuration
	if maxDur <= 0 {
		maxDur = DefaultMaxDuration
	}
	requested := in.RequestedAt
	if requested.IsZero() {
		requested = workflow.Now(ctx)
	}
	return &grant{
		in:          in,
		workflowID:  info.WorkflowExecution.ID,
		runID:       info.WorkflowExecution.RunID,
		maxDuration: maxDur,
		logger:      log.With(workflow.GetLogger(ctx), "GrantID", in.GrantID),
		st:          Status{GrantID: in.GrantID, Status: store.StatusPending, RequestedAt: requested},
		lean:        lean,
		saIdentity:  lean && started,
	}
}

// setHandlers registers the status query, the extend update and the revoke signal.
func (g *grant) setHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, StatusQueryName, func() (Status, error) {
		return g.snapshot(), nil
	}); err != nil {
		return fmt.Errorf("set query handler: %w", err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ExtendUpdateName, g.extend,
		workflow.UpdateHandlerOptions{Validator: g.validateExtend}); err != nil {
		return fmt.Errorf("set update handler: %w", err)
	}
	revokes := workflow.GetSignalChannel(ctx, RevokeSignalName)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var s RevokeSignal
			if !revokes.Receive(ctx, &s) {
				return
			}
			g.onRevoke(s)
		}
	})
	return nil
}

// onRevoke keeps the first revocation; later ones change nothing. A revoke during account
// creation cancels it (waiting for an attempt in flight); role assignment is allowed to
// finish so the disable removes every assignment it made.
func (g *grant) onRevoke(s RevokeSignal) {
	if g.revoke != nil || isFinal(g.st.Status) || g.st.Status == store.StatusRevoking {
		g.logger.Info("Revoke ignored", "Status", g.st.Status, "By", s.By)
		return
	}
	if s.Reason == "" {
		s.Reason = "revoked"
	}
	g.revoke = &s
	g.logger.Info("Revoke received", "By", s.By, "Status", g.st.Status)
	if g.cancelEnsure != nil {
		g.cancelEnsure()
	}
}

// validateExtend accepts an extension of an active grant by a positive duration that keeps
// the total active time within MaxDuration. It must not change any state.
func (g *grant) validateExtend(ctx workflow.Context, req ExtendRequest) error {
	switch {
	case g.st.Status != store.StatusActive || g.revoke != nil || !workflow.Now(ctx).Before(g.st.ExpiresAt):
		return temporal.NewApplicationError(fmt.Sprintf("the grant is %s, not active", g.st.Status), ErrTypeNotActive)
	case req.Duration <= 0:
		return temporal.NewApplicationError(fmt.Sprintf("extension %s is not a positive duration", req.Duration), ErrTypeInvalidDuration)
	}
	total := g.st.ExpiresAt.Add(req.Duration).Sub(g.st.ActivatedAt)
	if total > g.maxDuration {
		return temporal.NewApplicationError(
			fmt.Sprintf("extending by %s would make %s of access, more than the maximum %s", req.Duration, total, g.maxDuration),
			ErrTypeDurationExceedsMaximum)
	}
	return nil
}

// extend moves expires_at by the requested duration; the main coroutine restarts its timer.
func (g *grant) extend(ctx workflow.Context, req ExtendRequest) (ExtendResult, error) {
	now := workflow.Now(ctx)
	g.st.ExpiresAt = g.st.ExpiresAt.Add(req.Duration)
	g.st.Extensions = append(g.st.Extensions, Extension{By: req.By, Duration: req.Duration, At: now, ExpiresAt: g.st.ExpiresAt})
	g.logger.Info("Grant extended", "By", req.By, "Duration", req.Duration, "ExpiresAt", g.st.ExpiresAt)
	g.upsertSearchAttributes(ctx)
	g.setDetails(ctx)
	g.record(ctx, activities.RecordGrantInput{
		Action: activities.ActionExtended, ActorID: req.By, ActorKind: req.ByKind, Extension: req.Duration,
	}, fmt.Sprintf("Record extension by %s until %s", req.Duration, formatTime(g.st.ExpiresAt)))
	return ExtendResult{ExpiresAt: g.st.ExpiresAt}, nil
}

// requested is the audit of the pending transition: the technician asked.
func (g *grant) requested() activities.RecordGrantInput {
	return activities.RecordGrantInput{Action: activities.ActionRequested, ActorID: g.in.TechnicianID, ActorKind: "technician"}
}

func (g *grant) checkEntitlement(ctx workflow.Context) (activities.EntitlementResult, error) {
	who := g.in.TechnicianEmail
	if who == "" {
		who = g.in.TechnicianID
	}
	summary := fmt.Sprintf("Check that %s may use application %s", who, g.in.ApplicationID)
	var ent activities.EntitlementResult
	var err error
	if g.lean {
		lctx := workflow.WithLocalActivityOptions(ctx, entitlementOptions(summary+" and record the request"))
		err = workflow.ExecuteLocalActivity(lctx, acts.BeginGrant, g.recordInput(g.requested())).Get(lctx, &ent)
	} else {
		lctx := workflow.WithLocalActivityOptions(ctx, entitlementOptions(summary))
		err = workflow.ExecuteLocalActivity(lctx, acts.CheckEntitlement, activities.CheckEntitlementInput{
			TenantID: g.in.TenantID, ApplicationID: g.in.ApplicationID, TechnicianID: g.in.TechnicianID,
		}).Get(lctx, &ent)
	}
	if err != nil {
		return ent, err
	}
	g.ent = ent
	if g.in.TechnicianEmail == "" {
		g.in.TechnicianEmail = ent.TechnicianEmail
	}
	return ent, nil
}

// provision creates or re-enables the account and assigns the roles. touched reports whether
// the directory may have been changed, i.e. whether a disable is needed afterwards.
// Projection writes use dctx, which survives cancellation of the workflow.
func (g *grant) provision(ctx, dctx workflow.Context) (touched bool, err error) {
	if g.lean {
		g.enter(dctx, store.StatusProvisioning) // BeginGrant recorded it
	} else {
		g.transition(dctx, store.StatusProvisioning, activities.RecordGrantInput{RuleID: g.ent.RuleID, RuleName: g.ent.RuleName})
	}

	ectx, cancel := workflow.WithCancel(ctx)
	g.cancelEnsure = cancel
	ectx = workflow.WithActivityOptions(ectx, provisionOptions(
		fmt.Sprintf("Create or re-enable account for %s in %s", g.in.TechnicianEmail, g.ent.Domain)))
	var acct activities.AccountResult
	err = workflow.ExecuteActivity(ectx, acts.EnsureAccount, activities.EnsureAccountInput{
		GrantID:               g.in.GrantID,
		ApplicationID:         g.in.ApplicationID,
		TechnicianEmail:       g.in.TechnicianEmail,
		TechnicianDisplayName: g.ent.TechnicianDisplayName,
		Domain:                g.ent.Domain,
	}).Get(ectx, &acct)
	g.cancelEnsure = nil
	cancel()
	if err != nil {
		// Errors raised before the directory was reached leave nothing to undo.
		return !untouched(err), stepError("create account", err)
	}
	g.st.AccountUPN, g.st.AccountID = acct.UPN, acct.ObjectID
	if g.revoke != nil {
		return true, nil
	}

	actx := workflow.WithActivityOptions(ctx, provisionOptions(
		fmt.Sprintf("Assign %d %s to %s", len(g.ent.Roles), plural(len(g.ent.Roles), "role", "roles"), acct.UPN)))
	var assigned activities.AssignRolesResult
	err = workflow.ExecuteActivity(actx, acts.AssignRoles, activities.AssignRolesInput{
		GrantID: g.in.GrantID, ApplicationID: g.in.ApplicationID, ObjectID: acct.ObjectID, RoleIDs: g.ent.Roles,
	}).Get(actx, &assigned)
	if err != nil {
		return true, stepError("assign roles", err)
	}
	g.assignmentIDs = assigned.AssignmentIDs
	g.st.Roles = g.ent.Roles
	return true, nil
}

// activate makes the grant active: expires_at counts from now, when the account is usable.
func (g *grant) activate(ctx workflow.Context) {
	now := workflow.Now(ctx)
	g.st.ActivatedAt = now
	g.st.ExpiresAt = now.Add(g.in.Duration)
	g.transition(ctx, store.StatusActive, activities.RecordGrantInput{Action: activities.ActionActivated})
}

// waitForEnd sleeps on a durable timer until expires_at, restarting it after an extension,
// and returns early on revoke or cancellation of the workflow.
func (g *grant) waitForEnd(ctx workflow.Context) {
	for g.revoke == nil {
		remaining := g.st.ExpiresAt.Sub(workflow.Now(ctx))
		if remaining <= 0 {
			return
		}
		extensions := len(g.st.Extensions)
		_, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
			Timeout:      remaining,
			TimerOptions: workflow.TimerOptions{Summary: "Access expires at " + formatTime(g.st.ExpiresAt)},
		}, func() bool { return g.revoke != nil || len(g.st.Extensions) != extensions })
		if err != nil {
			// The workflow was cancelled (e.g. from the Temporal UI): end access now.
			g.onRevoke(RevokeSignal{Reason: "workflow cancelled"})
			return
		}
	}
}

// disable runs DisableAccount until it succeeds, with status revoking meanwhile.
// failure is the provisioning failure being compensated, if any.
func (g *grant) disable(ctx workflow.Context, failure string) {
	// An extension still writing its projection must not land after "revoking".
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	rec := activities.RecordGrantInput{}
	rec.Failure = failure
	if g.revoke != nil {
		rec.Action, rec.ActorID, rec.ActorKind, rec.Reason = activities.ActionRevoke, g.revoke.By, g.revoke.ByKind, g.revoke.Reason
		rec.RevokedBy = g.revoke.By
		g.st.RevokedBy = g.revoke.By
	}
	g.st.Failure = failure
	if g.lean && g.revoke == nil && failure == "" {
		// A plain expiry: the disable takes milliseconds and nobody asked for anything, so the
		// projection goes from active straight to expired (one commit less on the path that
		// expiry lateness measures). A disable that is blocked records revoking then.
		g.enter(ctx, store.StatusRevoking)
	} else {
		g.transition(ctx, store.StatusRevoking, rec)
	}

	summary := "Disable account " + g.st.AccountUPN
	if g.st.AccountUPN == "" {
		summary = fmt.Sprintf("Disable any account made for %s in %s", g.in.TechnicianEmail, g.ent.Domain)
	}
	if n := len(g.assignmentIDs); n > 0 {
		summary += fmt.Sprintf(" and remove %d role %s", n, plural(n, "assignment", "assignments"))
	}
	// From disableBlockedVersion on, a disable refused for lost authorization comes back at
	// once so the workflow can say why the grant is stuck (older runs keep the old schedule).
	version := disableBlockedVersion
	if !g.lean {
		version = workflow.GetVersion(ctx, disableBlockedChangeID, workflow.DefaultVersion, disableBlockedVersion)
	}
	opts := disableOptions(summary)
	if version >= disableBlockedVersion {
		opts = disableOptionsReportingBlocked(summary)
	}
	dctx := workflow.WithActivityOptions(ctx, opts)
	in := activities.DisableAccountInput{
		GrantID:         g.in.GrantID,
		ApplicationID:   g.in.ApplicationID,
		ObjectID:        g.st.AccountID,
		UPN:             g.st.AccountUPN,
		AssignmentIDs:   g.assignmentIDs,
		TechnicianEmail: g.in.TechnicianEmail,
		Domain:          g.ent.Domain,
	}
	// The retry policy has no limit, so the activity only fails if a limit is imposed from
	// outside (the test environment caps attempts) or authorization is lost; even then,
	// never give up.
	blocked := false
	for {
		err := workflow.ExecuteActivity(dctx, acts.DisableAccount, in).Get(dctx, nil)
		if err == nil {
			if blocked {
				g.disableUnblocked(ctx)
			}
			return
		}
		if version >= disableBlockedVersion && !blocked && authorizationError(err) {
			blocked = true
			g.disableBlocked(ctx, stepError("disable account", err).Error())
		}
		g.logger.Error("DisableAccount failed; scheduling it again", "Error", err)
		_ = workflow.NewTimerWithOptions(dctx, time.Minute, workflow.TimerOptions{Summary: "Wait before disabling again"}).Get(dctx, nil)
	}
}

// Versioning of the disable loop: disableBlockedVersion records a disable blocked by lost
// authorization (see disableBlocked).
const (
	disableBlockedChangeID = "disable-blocked-visible"
	disableBlockedVersion  = workflow.Version(1)
)

// disableBlocked raises the alarm once when the account cannot be disabled because the
// tenant's authorization is gone: the reason goes into the projection's failure (visible in
// GET /v1/access-requests/{id}), the Temporal UI details and a grant.disable_blocked audit
// event. The status stays revoking; the loop keeps trying every minute.
func (g *grant) disableBlocked(ctx workflow.Context, reason string) {
	g.logger.Warn("Disable blocked until the application is authorized again", "Reason", reason)
	g.st.Failure = reason
	if g.lean {
		g.upsertSearchAttributes(ctx) // JitStatus=revoking stays true until an admin acts
	}
	g.setDetails(ctx)
	g.record(ctx, activities.RecordGrantInput{Action: activities.ActionDisableBlocked, Reason: reason},
		"Record that disabling is blocked")
}

// disableUnblocked replaces the blocked reason, which the projection cannot clear, with a
// note that the disable happened late (finish restores a compensated failure's own reason).
func (g *grant) disableUnblocked(ctx workflow.Context) {
	g.st.Failure = disabledLateNote
	g.setDetails(ctx)
}

// disabledLateNote stays on a grant whose disable waited for a re-authorization.
const disabledLateNote = "disabled late: authorization to the customer tenant was lost until an admin authorized the application again"

// authorizationError reports whether a DisableAccount failure is lost authorization.
func authorizationError(err error) bool {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		return false
	}
	return appErr.Type() == activities.ErrTypeAuthorizationLost || appErr.Type() == activities.ErrTypeNotAuthorized
}

// finish records the final status and returns the result.
func (g *grant) finish(ctx workflow.Context, status, action, reason string) Result {
	g.st.EndedAt = workflow.Now(ctx)
	rec := activities.RecordGrantInput{Action: action, Reason: reason}
	switch status {
	case store.StatusDenied, store.StatusFailed:
		g.st.Failure = reason
		rec.Failure = reason
		rec.RuleID, rec.RuleName = g.ent.RuleID, g.ent.RuleName
	case store.StatusRevoked:
		if g.revoke != nil {
			g.st.RevokedBy = g.revoke.By
			rec.RevokedBy, rec.ActorID, rec.ActorKind = g.revoke.By, g.revoke.By, g.revoke.ByKind
		}
	}
	g.transition(ctx, status, rec)
	return g.snapshot()
}

// transition moves the grant to status: search attributes, UI details, projection and audit.
func (g *grant) transition(ctx workflow.Context, status string, rec activities.RecordGrantInput) {
	g.enter(ctx, status)
	g.record(ctx, rec, "Record grant "+status)
}

// enter is transition without the projection write.
func (g *grant) enter(ctx workflow.Context, status string) {
	g.st.Status = status
	g.logger.Info("Grant status", "Status", status)
	if !g.lean || !g.saIdentity || g.searchedFor(status) {
		g.upsertSearchAttributes(ctx)
	}
	g.setDetails(ctx)
}

// searchedFor reports whether an admin searches for grants entering status (lean runs upsert
// only those): active, revoking when the grant was revoked early or is being compensated (a
// plain expiry's disable takes milliseconds; one running late shows as JitStatus="active"
// with JitExpiresAt in the past), and the end.
func (g *grant) searchedFor(status string) bool {
	switch {
	case status == store.StatusActive, isFinal(status):
		return true
	case status == store.StatusRevoking:
		return g.revoke != nil || g.st.Failure != ""
	}
	return false
}

// record writes the projection row (current state plus rec's audit fields) with a local
// activity. A write that keeps failing is logged, never fatal: the workflow is the truth.
func (g *grant) record(ctx workflow.Context, rec activities.RecordGrantInput, summary string) {
	rec = g.recordInput(rec)
	lctx := workflow.WithLocalActivityOptions(ctx, recordOptions(summary))
	if err := workflow.ExecuteLocalActivity(lctx, acts.RecordGrant, rec).Get(lctx, nil); err != nil {
		g.logger.Error("Grant projection not written", "Status", rec.Status, "Error", err)
	}
}

// recordInput completes rec with the grant's current state.
func (g *grant) recordInput(rec activities.RecordGrantInput) activities.RecordGrantInput {
	rec.GrantID = g.in.GrantID
	rec.WorkflowID, rec.RunID = g.workflowID, g.runID
	rec.TenantID, rec.ApplicationID, rec.TechnicianID = g.in.TenantID, g.in.ApplicationID, g.in.TechnicianID
	rec.Status = g.st.Status
	rec.Justification = g.in.Justification
	rec.RequestedAt = g.st.RequestedAt
	rec.ActivatedAt, rec.ExpiresAt, rec.EndedAt = g.st.ActivatedAt, g.st.ExpiresAt, g.st.EndedAt
	rec.AccountUPN, rec.AccountID = g.st.AccountUPN, g.st.AccountID
	rec.Roles = g.st.Roles
	if rec.Failure == "" {
		rec.Failure = g.st.Failure
	}
	if rec.RevokedBy == "" {
		rec.RevokedBy = g.st.RevokedBy
	}
	return rec
}

func (g *grant) upsertSearchAttributes(ctx workflow.Context) {
	var updates []temporal.SearchAttributeUpdate
	if !g.saIdentity {
		g.saIdentity = true
		updates = append(updates,
			TenantIDKey.ValueSet(g.in.TenantID),
			ApplicationIDKey.ValueSet(g.in.ApplicationID),
			TechnicianEmailKey.ValueSet(g.in.TechnicianEmail))
	}
	updates = append(updates, StatusKey.ValueSet(g.st.Status))
	if !g.st.ExpiresAt.IsZero() {
		updates = append(updates, ExpiresAtKey.ValueSet(g.st.ExpiresAt))
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		g.logger.Error("Search attributes not upserted", "Error", err)
	}
}

// setDetails shows the grant's state on the workflow's page in the Temporal UI.
func (g *grant) setDetails(ctx workflow.Context) {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** for %s", g.st.Status, g.in.TechnicianEmail)
	if g.st.AccountUPN != "" {
		fmt.Fprintf(&b, " as %s", g.st.AccountUPN)
	}
	if !g.st.ExpiresAt.IsZero() {
		fmt.Fprintf(&b, ", expires %s", formatTime(g.st.ExpiresAt))
	}
	if g.st.Failure != "" {
		fmt.Fprintf(&b, "\n\n%s", g.st.Failure)
	}
	workflow.SetCurrentDetails(ctx, b.String())
}

// snapshot copies the state so query callers never share slices with the workflow.
func (g *grant) snapshot() Status {
	s := g.st
	s.Roles = append([]string(nil), g.st.Roles...)
	s.Extensions = append([]Extension(nil), g.st.Extensions...)
	return s
}

func isFinal(status string) bool {
	switch status {
	case store.StatusExpired, store.StatusRevoked, store.StatusDenied, store.StatusFailed:
		return true
	}
	return false
}

// untouched reports whether an EnsureAccount failure happened before anything reached the
// directory: no token (authorization lost or never given) or no valid account name.
func untouched(err error) bool {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		return false
	}
	switch appErr.Type() {
	case activities.ErrTypeAuthorizationLost, activities.ErrTypeNotAuthorized, activities.ErrTypeInvalidAccount:
		return true
	}
	return false
}

// stepError names the step that failed and says why in words, without the activity
// error's scheduling details. Cancellation stays recognisable (temporal.IsCanceledError).
func stepError(step string, err error) error {
	if temporal.IsCanceledError(err) {
		return err
	}
	var appErr *temporal.ApplicationError
	var timeoutErr *temporal.TimeoutError
	switch {
	case errors.As(err, &appErr) && appErr.Type() == activities.ErrTypeAuthorizationLost:
		return fmt.Errorf("%s: authorization to the customer tenant was lost; an admin must authorize the application again", step)
	case errors.As(err, &appErr) && appErr.Type() == activities.ErrTypeNotAuthorized:
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

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
