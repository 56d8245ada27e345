// Package approvals holds the activity of the AccessRequest workflow's approval stage: it
// re-checks the approver's right in the database and records the decision (approval row
// and audit event) before the workflow counts it.
package approvals

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/jitaccess/jitaccess/policy"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
	"github.com/jitaccess/jitaccess/workflows/approvalstage"
)

// Store is the part of *store.Store the activity needs.
type Store interface {
	// RecordApproval checks the approver's right and records the decision atomically; a
	// second decision of the same approver returns the first with recorded false.
	RecordApproval(ctx context.Context, d store.ApprovalDecision) (store.Approval, bool, error)
}

// Notifier queues grant events (notify.Publisher); nil queues nothing.
type Notifier interface {
	PublishGrantEvent(ctx context.Context, n workflows.GrantNotification) (int, error)
}

// Activities are registered on the worker beside the lifecycle's activities.
type Activities struct {
	Store    Store
	Notifier Notifier
}

// RecordApprovalDecision is the activity approvalstage.RecordApprovalDecisionActivity.
func (a *Activities) RecordApprovalDecision(ctx context.Context, in approvalstage.RecordApprovalDecisionInput) (approvalstage.RecordApprovalDecisionResult, error) {
	decision := store.DecisionApproved
	if in.Decision == approvalstage.ApprovalDenied {
		decision = store.DecisionDenied
	}
	rec, recorded, err := a.Store.RecordApproval(ctx, store.ApprovalDecision{GrantID: in.GrantID, ApproverID: in.ApproverID,
		Decision: decision, Comment: in.Comment, Request: in.Request})
	if err != nil {
		return approvalstage.RecordApprovalDecisionResult{}, refusal(err)
	}
	out := approvalstage.RecordApprovalDecisionResult{Recorded: recorded, Decision: approvalstage.ApprovalApproved}
	if rec.Decision == store.DecisionDenied {
		out.Decision = approvalstage.ApprovalDenied
	}
	// An approval is announced here, with its approver and comment; a denial ends the grant
	// and is announced by its final record. An approved extension is announced as extended.
	if out.Decision == approvalstage.ApprovalApproved && in.Request == "" && a.Notifier != nil {
		if _, err := a.Notifier.PublishGrantEvent(ctx, workflows.GrantNotification{Event: workflows.NotifyApproved,
			GrantID: in.GrantID, Key: in.ApproverID, ActorID: in.ApproverID, Comment: rec.Comment}); err != nil {
			return approvalstage.RecordApprovalDecisionResult{}, fmt.Errorf("queue the approved notification: %w", err)
		}
	}
	return out, nil
}

// refusal makes the policy's refusals (and an unknown grant or approver) final; other
// errors (the database) stay retryable.
func refusal(err error) error {
	if e, ok := policy.AsError(err); ok {
		typ := approvalstage.ErrTypeNotApprover
		switch e.Code {
		case policy.CodeSelfApproval:
			typ = approvalstage.ErrTypeSelfApproval
		case policy.CodeNotPendingApproval:
			typ = approvalstage.ErrTypeNotPendingApproval
		}
		return temporal.NewNonRetryableApplicationError(e.Message, typ, nil)
	}
	if errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError(err.Error(), approvalstage.ErrTypeNotApprover, nil)
	}
	return fmt.Errorf("record approval decision: %w", err)
}
