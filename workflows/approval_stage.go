package workflows

import "go.temporal.io/sdk/workflow"

// approval is the pending_approval stage, entered only when the grant's policy requires an
// approval (Plan.ApprovalRequired). It returns "" when the grant may go on, or the final
// status (denied, expired_unapproved) and why. The approvals feature replaces the body with
// its awaitApproval; until then no policy requires one.
func (g *grant) approval(ctx workflow.Context) (Status, string) {
	return "", ""
}
