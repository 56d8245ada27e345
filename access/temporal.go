package access

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/jitaccess/jitaccess/workflows"
)

// The Temporal adapter of Workflows: the one file that knows how grants are started,
// signalled and updated in Temporal.

// Workflows is what the domain needs of the grant workflows. NewTemporalWorkflows implements
// it on a Temporal client; refusals the caller can act on are *Error.
type Workflows interface {
	// Start starts the grant workflow of in (whose grant row exists) and returns its ids.
	// A live run of the same (tenant, application, technician) is ErrGrantRunning, with
	// that run's ids.
	Start(ctx context.Context, in workflows.AccessRequestInput) (workflowID, runID string, err error)
	// Revoke asks the run to end the grant now.
	Revoke(ctx context.Context, workflowID, runID string, sig workflows.RevokeSignal) error
	// Extend moves the expiry of an active grant; the workflow's validator decides.
	Extend(ctx context.Context, workflowID, runID string, req workflows.ExtendRequest) (workflows.ExtendResult, error)
	// WaitClosed returns once the run has closed (however it ended).
	WaitClosed(ctx context.Context, workflowID, runID string) error
}

// ErrGrantRunning: a run of the grant's workflow id is live already.
var ErrGrantRunning = errors.New("a grant of this technician for this application is live")

// ErrWorkflowsUnavailable wraps failures to reach the workflow engine.
var ErrWorkflowsUnavailable = errors.New("the workflow engine is unavailable")

// NewTemporalWorkflows implements Workflows with a Temporal client; taskQueue empty means
// workflows.TaskQueue.
func NewTemporalWorkflows(c client.Client, taskQueue string) Workflows {
	return &temporalWorkflows{c: c, taskQueue: taskQueue}
}

type temporalWorkflows struct {
	c         client.Client
	taskQueue string
}

func (w *temporalWorkflows) Start(ctx context.Context, in workflows.AccessRequestInput) (string, string, error) {
	run, err := w.c.ExecuteWorkflow(ctx, workflows.StartOptions(in, w.taskQueue), workflows.WorkflowType, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return workflows.WorkflowID(in.TenantID, in.ApplicationID, in.TechnicianID), started.RunId, ErrGrantRunning
	}
	if err != nil {
		return "", "", engineError("start workflow "+workflows.WorkflowID(in.TenantID, in.ApplicationID, in.TechnicianID), err)
	}
	return run.GetID(), run.GetRunID(), nil
}

func (w *temporalWorkflows) Revoke(ctx context.Context, workflowID, runID string, sig workflows.RevokeSignal) error {
	err := w.c.SignalWorkflow(ctx, workflowID, runID, workflows.RevokeSignalName, sig)
	if isNotRunning(err) {
		return &Error{Kind: Conflict, Code: "grant_ended", Message: "The grant has already ended."}
	}
	if err != nil {
		return engineError("signal revoke to "+workflowID+"/"+runID, err)
	}
	return nil
}

func (w *temporalWorkflows) Extend(ctx context.Context, workflowID, runID string, req workflows.ExtendRequest) (workflows.ExtendResult, error) {
	var res workflows.ExtendResult
	updateID := ""
	if req.Key != "" {
		// Temporal applies an Update id once per run: a retried extend is not applied twice.
		updateID = "extend:" + req.Key
	}
	h, err := w.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID:     updateID,
		WorkflowID:   workflowID,
		RunID:        runID,
		UpdateName:   workflows.ExtendUpdateName,
		Args:         []any{req},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, &res)
	}
	if err != nil {
		return res, extendError(workflowID, runID, err)
	}
	return res, nil
}

func (w *temporalWorkflows) WaitClosed(ctx context.Context, workflowID, runID string) error {
	err := w.c.GetWorkflow(ctx, workflowID, runID).Get(ctx, nil)
	if err != nil && ctx.Err() != nil {
		return engineError("wait for "+workflowID+"/"+runID+" to close", err)
	}
	return nil // closed: how the run ended is the projection's business
}

// extendError maps the validator's application errors to refusals.
func extendError(workflowID, runID string, err error) error {
	if isNotRunning(err) {
		return &Error{Kind: Conflict, Code: "grant_not_active", Message: "The grant is not active."}
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		switch appErr.Type() {
		case workflows.ErrTypeNotActive:
			return &Error{Kind: Conflict, Code: "grant_not_active", Message: "The grant is not active, so it cannot be extended."}
		case workflows.ErrTypeInvalidDuration:
			return &Error{Kind: Invalid, Code: "invalid_duration", Message: "duration: the extension must be a positive duration."}
		case workflows.ErrTypeDurationExceedsMaximum:
			return &Error{Kind: Invalid, Code: "duration_exceeds_maximum",
				Field: "duration", Message: "duration: " + appErr.Message()}
		case workflows.ErrTypeExtensionTooShort:
			return &Error{Kind: Invalid, Code: "invalid_duration", Field: "duration", Message: "duration: " + appErr.Message()}
		case workflows.ErrTypeApprovalRequired:
			return &Error{Kind: Conflict, Code: "approval_required", Field: "duration", Message: "duration: " + appErr.Message()}
		case workflows.ErrTypeExtensionLimit:
			return &Error{Kind: Conflict, Code: "extension_limit_reached", Message: appErr.Message()}
		case workflows.ErrTypeNotEntitled:
			return &Error{Kind: Forbidden, Code: "not_entitled", Message: appErr.Message()}
		case workflows.ErrTypeActorUnverified:
			return &Error{Kind: Forbidden, Code: "forbidden", Message: appErr.Message()}
		}
	}
	return engineError("extend "+workflowID+"/"+runID, err)
}

// engineError wraps err, marking an unreachable or overloaded engine as ErrWorkflowsUnavailable,
// and a namespace the cluster does not serve yet (a frontend that has just started and not
// loaded it, or one failing over) too: the API answers 503 with Retry-After, not 500.
func engineError(op string, err error) error {
	var (
		unavailable   *serviceerror.Unavailable
		deadline      *serviceerror.DeadlineExceeded
		exhausted     *serviceerror.ResourceExhausted
		nsNotFound    *serviceerror.NamespaceNotFound
		nsUnavailable *serviceerror.NamespaceUnavailable
		nsNotActive   *serviceerror.NamespaceNotActive
	)
	if errors.As(err, &unavailable) || errors.As(err, &deadline) || errors.As(err, &exhausted) ||
		errors.As(err, &nsNotFound) || errors.As(err, &nsUnavailable) || errors.As(err, &nsNotActive) ||
		errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w: %w", op, ErrWorkflowsUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// isNotRunning reports whether Temporal answered that the run is closed or unknown.
func isNotRunning(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}
