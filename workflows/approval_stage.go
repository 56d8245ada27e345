package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/jitaccess/jitaccess/workflows/approvalstage"
)

// approval is the pending_approval stage, entered only when the grant's policy requires an
// approval (Plan.ApprovalRequired), before any Entra call. It returns "" when the grant may
// go on (approved, or revoked: begin ends it with nothing to undo), or the final status
// (denied, expired_unapproved) and why.
func (g *grant) approval(ctx workflow.Context) (Status, string) {
	out, err := approvalstage.Await(ctx, approvalstage.ApprovalParams{
		GrantID: g.in.GrantID, RequesterID: g.in.TechnicianID,
		ApprovalsNeeded: g.plan.ApprovalsNeeded, Timeout: g.plan.ApprovalTimeout,
	}, approvalstage.ApprovalHooks{Revoked: func() bool { return g.revoke != nil }})
	switch {
	case err != nil:
		// The workflow was cancelled while waiting: nothing was provisioned.
		g.onRevoke(RevokeSignal{Reason: "workflow cancelled"})
		return "", ""
	case out.Decision == approvalstage.ApprovalDenied:
		return StatusDenied, out.Reason
	case out.Decision == approvalstage.ApprovalTimedOut:
		return StatusExpiredUnapproved, out.Reason
	}
	return "", ""
}
