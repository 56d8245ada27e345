package access

import (
	"context"

	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows/approvalstage"
)

// Approvals decides pending requests (*approvals.Service): the approver's right from the
// database, then the workflow's approve or deny Update.
type Approvals interface {
	Queue(ctx context.Context, approverID string) ([]store.Grant, error)
	Decide(ctx context.Context, grantID, approverID string, approve bool, comment string) (approvalstage.ApprovalState, error)
}

// ApprovalQueue lists the requests the actor may decide (GET /v1/approvals).
func (s *Service) ApprovalQueue(ctx context.Context, a Actor) ([]store.Grant, error) {
	if s.deps.Approvals == nil {
		return nil, Refuse(Unavailable, "approvals_unavailable", "Approvals are not configured on this server.")
	}
	return s.deps.Approvals.Queue(ctx, a.ID)
}

// DecideApproval approves or denies a pending request as the actor. Refusals:
// self_approval and not_approver (403), not_pending_approval (409), not_found.
func (s *Service) DecideApproval(ctx context.Context, a Actor, grantID string, approve bool, comment string) (approvalstage.ApprovalState, error) {
	if s.deps.Approvals == nil {
		return approvalstage.ApprovalState{}, Refuse(Unavailable, "approvals_unavailable", "Approvals are not configured on this server.")
	}
	st, err := s.deps.Approvals.Decide(ctx, grantID, a.ID, approve, comment)
	if err == nil {
		return st, nil
	}
	if e := PolicyError(err); e != nil {
		return st, e
	}
	if ref := RefError(err); ref != err {
		return st, ref
	}
	return st, s.workflowError(ctx, a, "decide approval", err)
}
