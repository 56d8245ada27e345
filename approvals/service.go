package approvals

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/jitaccess/jitaccess/notify"
	"github.com/jitaccess/jitaccess/policy"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows/approvalstage"
)

// Temporal is the part of client.Client the service needs.
type Temporal interface {
	UpdateWorkflow(ctx context.Context, options client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error)
}

// ServiceStore is the part of *store.Store the service needs.
type ServiceStore interface {
	Grant(ctx context.Context, id string) (store.Grant, error)
	CheckApprover(ctx context.Context, grantID, approverID string) error
	TechnicianByEmail(ctx context.Context, email string) (store.Technician, error)
	PendingApprovals(ctx context.Context, approverID string) ([]store.Grant, error)
	Approvals(ctx context.Context, grantID string) ([]store.Approval, error)
}

// Service is the approve/deny rules every front end uses (API, portal, Slack): the
// approver's right from the database first, then the workflow's Update, whose validator
// and activity check again.
type Service struct {
	Store    ServiceStore
	Temporal Temporal
}

// Queue lists the requests approverID may decide (GET /v1/approvals).
func (s *Service) Queue(ctx context.Context, approverID string) ([]store.Grant, error) {
	return s.Store.PendingApprovals(ctx, approverID)
}

// Decide approves or denies grantID as approverID (POST /v1/access-requests/{id}/approve
// and /deny). Refusals are *policy.Error: self_approval and not_approver (403),
// not_pending_approval (409); an unknown grant is store.ErrNotFound.
func (s *Service) Decide(ctx context.Context, grantID, approverID string, approve bool, comment string) (approvalstage.ApprovalState, error) {
	g, err := s.Store.Grant(ctx, grantID)
	if err != nil {
		return approvalstage.ApprovalState{}, err
	}
	if err := s.Store.CheckApprover(ctx, grantID, approverID); err != nil {
		return approvalstage.ApprovalState{}, err
	}
	// A grant waits for approval, or an active grant's extension does.
	request := ""
	switch {
	case g.Status == store.StatusActive && g.PendingExtension != nil:
		request = g.PendingExtension.Request
	case g.Status != store.StatusPendingApproval:
		return approvalstage.ApprovalState{}, &policy.Error{Code: policy.CodeNotPendingApproval,
			Message: fmt.Sprintf("the request is %s, not waiting for approval", g.Status)}
	}
	name := approvalstage.ApproveUpdateName
	if !approve {
		name = approvalstage.DenyUpdateName
	}
	updateID := name + "/" + grantID + "/" + approverID
	if request != "" {
		updateID = name + "/" + grantID + "/" + request + "/" + approverID
	}
	h, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		// One update per approver, request and decision: a double click is the same update.
		UpdateID:   updateID,
		WorkflowID: g.WorkflowID,
		UpdateName: name,
		Args: []any{approvalstage.ApprovalDecisionRequest{GrantID: grantID, ApproverID: approverID, Comment: comment,
			Request: request}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var st approvalstage.ApprovalState
	if err == nil {
		err = h.Get(ctx, &st)
	}
	if err != nil {
		return approvalstage.ApprovalState{}, updateError(err)
	}
	return st, nil
}

// DecideAs is Decide for Slack: the Slack user's linked staff e-mail decides.
func (s *Service) DecideAs(ctx context.Context, d notify.Decision) error {
	t, err := s.Store.TechnicianByEmail(ctx, d.ApproverEmail)
	if err != nil {
		return &policy.Error{Code: policy.CodeNotApprover, Message: "no member of staff has the linked e-mail"}
	}
	_, err = s.Decide(ctx, d.GrantID, t.ID, d.Approve, d.Comment)
	return err
}

// SlackDecider adapts the service to notify.Decider.
func (s *Service) SlackDecider() notify.Decider { return deciderFunc(s.DecideAs) }

type deciderFunc func(ctx context.Context, d notify.Decision) error

func (f deciderFunc) Decide(ctx context.Context, d notify.Decision) error { return f(ctx, d) }

// updateError maps the update's refusals to the policy's codes.
func updateError(err error) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		switch appErr.Type() {
		case approvalstage.ErrTypeSelfApproval:
			return &policy.Error{Code: policy.CodeSelfApproval, Message: appErr.Message()}
		case approvalstage.ErrTypeNotApprover:
			return &policy.Error{Code: policy.CodeNotApprover, Message: appErr.Message()}
		case approvalstage.ErrTypeNotPendingApproval:
			return &policy.Error{Code: policy.CodeNotPendingApproval, Message: appErr.Message()}
		}
	}
	return fmt.Errorf("send decision to the workflow: %w", err)
}
