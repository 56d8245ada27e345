package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/jitaccess/jitaccess/workflows/approvalstage"
)

// extensionApprovalChange versions the extend handler: from version 1 an extension past the
// approved duration goes to the approvers (the approval stage again) instead of only being
// refused. Histories recorded before run on DefaultVersion and refuse it as they did.
const extensionApprovalChange = "extension-approval"

// Audit actions of an extension past the approved duration: sent to the approvers, and
// lapsed (denied, timed out, the grant ended first, or no longer allowed when approved).
const (
	ActionExtensionRequested = "grant.extension_requested"
	ActionExtensionLapsed    = "grant.extension_lapsed"
)

// requestExtension answers an extend update that renewal refused. An extension past the
// approved duration (and none pending) is recorded as pending and put before the approvers;
// the caller is still answered approval_required, saying so. Every other refusal is returned
// as it is.
func (g *grant) requestExtension(ctx workflow.Context, req ExtendRequest, chk ExtendCheck, key string, refusal error) error {
	var appErr *temporal.ApplicationError
	if !errors.As(refusal, &appErr) || appErr.Type() != ErrTypeApprovalRequired || g.st.PendingExtension != nil {
		return refusal
	}
	if workflow.GetVersion(ctx, extensionApprovalChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return refusal
	}
	p := &PendingExtension{Duration: req.Duration, By: chk.Actor.ID, RequestedAt: workflow.Now(ctx), Key: key}
	g.st.PendingExtension = p
	g.logger.Info("Extension sent to the approvers", "By", p.By, "Duration", p.Duration)
	g.setDetails(ctx)
	g.flush(ctx, g.recordOf(Record{Action: ActionExtensionRequested, Key: p.Request(), Actor: chk.Actor, Extension: p.Duration,
		Reason: appErr.Message()}), fmt.Sprintf("Record the extension by %s awaiting approval", p.Duration))

	params := approvalstage.ApprovalParams{GrantID: g.in.GrantID, RequesterID: g.in.TechnicianID, AskedBy: p.By, Request: p.Request(),
		ApprovalsNeeded: chk.ApprovalsNeeded, Timeout: chk.ApprovalTimeout}
	if params.ApprovalsNeeded < 1 {
		params.ApprovalsNeeded = g.plan.ApprovalsNeeded
	}
	if params.Timeout <= 0 {
		params.Timeout = g.plan.ApprovalTimeout
	}
	if params.Timeout <= 0 {
		params.Timeout = g.st.ExpiresAt.Sub(p.RequestedAt) // the grant's end lapses it anyway
	}
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	workflow.Go(dctx, func(ctx workflow.Context) { g.awaitExtensionApproval(ctx, params, *p) })
	return temporal.NewApplicationError(appErr.Message()+"; the extension was sent to the approvers", ErrTypeApprovalRequired)
}

// awaitExtensionApproval runs the approval stage for the pending extension while the grant
// stays active until its current expiry. Approved in time, the extension is checked again
// and applied like any other; otherwise it lapses and nothing changes.
func (g *grant) awaitExtensionApproval(ctx workflow.Context, params approvalstage.ApprovalParams, p PendingExtension) {
	out, err := approvalstage.Await(ctx, params, approvalstage.ApprovalHooks{
		Revoked: func() bool { return g.revoke != nil || g.st.Status != StatusActive },
	})
	var reason string
	switch {
	case err != nil:
		reason = "the approval could not be awaited: " + err.Error()
	case out.Decision == approvalstage.ApprovalApproved:
		_ = workflow.Await(ctx, func() bool { return !g.extending })
		if g.revoke != nil || g.st.Status != StatusActive {
			reason = "the grant ended before the extension was applied"
			break
		}
		g.extending = true
		defer func() { g.extending = false }()
		g.st.PendingExtension = nil
		req := ExtendRequest{Duration: p.Duration, By: p.By}
		chk, err := g.checkExtend(ctx, p.By, p.Duration)
		if err == nil {
			chk.ApprovedTotal = 0 // the approvers agreed to this extension
			err = renewal(g.st, workflow.Now(ctx), g.revoke != nil, req, chk)
		}
		if err == nil {
			g.applyExtension(ctx, req, chk.Actor, p.Key, out.Approvers)
			return
		}
		reason = "approved, but no longer allowed: " + rootMessage(err)
	case out.Decision == approvalstage.ApprovalRevoked:
		reason = "the grant ended before the extension was approved"
	default:
		reason = out.Reason
	}
	g.st.PendingExtension = nil
	g.lapsing = true
	defer func() { g.lapsing = false }()
	g.logger.Info("Extension lapsed", "Reason", reason)
	g.setDetails(ctx)
	g.flush(ctx, g.recordOf(Record{Action: ActionExtensionLapsed, Key: "lapsed:" + p.Key, Extension: p.Duration, Reason: reason}),
		"Record that the extension lapsed")
}
