// Package approvalstage is the approval stage of the AccessRequest workflow: the approve and
// deny Updates with their validator, the decision recorded by an activity, distinct approvers
// counted once, a decision timeout. The grant waits in it before any Entra call, and again
// for an extension past the approved duration. Its names (updates, activity, error types) are
// in histories and must not change.
package approvalstage

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Names of the approval stage: the Updates the API sends and the activity that records a
// decision (registered from package approvals).
const (
	ApproveUpdateName              = "approve"
	DenyUpdateName                 = "deny"
	RecordApprovalDecisionActivity = "RecordApprovalDecision"
)

// How an approval stage ends.
const (
	ApprovalApproved = "approved"
	ApprovalDenied   = "denied"
	ApprovalTimedOut = "expired_unapproved"
	ApprovalRevoked  = "revoked"
)

// Application error types of the approve and deny updates, for the API to map to HTTP.
const (
	// ErrTypeSelfApproval: the requester tried to decide their own request (403 self_approval).
	ErrTypeSelfApproval = "SelfApproval"
	// ErrTypeNotApprover: the person is not an approver of this application (403).
	ErrTypeNotApprover = "NotApprover"
	// ErrTypeNotPendingApproval: the request is not waiting for a decision (409).
	ErrTypeNotPendingApproval = "NotPendingApproval"
)

// ApprovalParams configure one approval stage; they come from the application's policy as
// the database holds it (read by the grant's first activity).
type ApprovalParams struct {
	GrantID         string
	RequesterID     string
	ApprovalsNeeded int           // distinct approvers; at least 1
	Timeout         time.Duration // then expired_unapproved
	// Request names what is decided: "" the grant itself, else an extension
	// (PendingExtension.Request); AskedBy is who asked for it, who may not decide it either.
	Request string
	AskedBy string
}

// ApprovalDecisionRequest is the argument of the approve and deny updates. The API has
// checked the approver's right in the database before sending it; the recording activity
// checks it again.
type ApprovalDecisionRequest struct {
	// GrantID must be the stage's grant: the API may address the workflow id without a run
	// id, and a later grant of the same technician and application runs under the same id.
	GrantID    string
	ApproverID string
	Comment    string
	// Request is the request decided: "" the grant, else its pending extension's.
	Request string `json:",omitempty"`
}

// ApprovalState is the result of an approve or deny update.
type ApprovalState struct {
	Decision        string   // "" while waiting, else approved or denied
	Approvers       []string // distinct approvers counted so far
	ApprovalsNeeded int
}

// ApprovalOutcome is how an approval stage ended.
type ApprovalOutcome struct {
	Decision  string // ApprovalApproved, ApprovalDenied, ApprovalTimedOut, ApprovalRevoked
	Approvers []string
	DecidedBy string // who denied, or the approver whose approval completed the count
	Comment   string // the decisive comment
	Reason    string // a sentence for the grant's failure field (denied, timed out)
}

// RecordApprovalDecisionInput asks the activity to check the approver's right and record
// the decision with its audit event.
type RecordApprovalDecisionInput struct {
	GrantID    string
	ApproverID string
	Decision   string // approved | denied
	Comment    string
	Request    string `json:",omitempty"` // ApprovalParams.Request
}

// RecordApprovalDecisionResult says whether the decision was recorded now; when the
// approver had decided before, Decision is that first decision, which stands.
type RecordApprovalDecisionResult struct {
	Recorded bool
	Decision string
}

// ApprovalHooks connect the stage to the grant: OnPending runs once the updates are
// registered (record pending_approval, upsert JitStatus); Revoked ends the wait.
type ApprovalHooks struct {
	OnPending func(ctx workflow.Context)
	Revoked   func() bool
}

// approvalRecordOptions: recording a decision is a database write; the update waits for it.
func approvalRecordOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        200 * time.Millisecond,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Second,
			NonRetryableErrorTypes: []string{ErrTypeSelfApproval, ErrTypeNotApprover, ErrTypeNotPendingApproval},
		},
		Summary: "Check the approver and record the decision",
	}
}

// approvalStage is the state shared by the stage's wait and its update handlers.
type approvalStage struct {
	p        ApprovalParams
	hooks    ApprovalHooks
	closed   bool
	inFlight []string // approvers whose decision is being recorded
	out      ApprovalOutcome
}

// Await holds the grant in pending_approval, before any Entra call, until enough
// distinct approvers approve, one denies, the decision timeout passes or the grant is
// revoked. Every decision is recorded by an activity (approval row and audit event) and
// in history as the update itself.
func Await(ctx workflow.Context, p ApprovalParams, hooks ApprovalHooks) (ApprovalOutcome, error) {
	if p.ApprovalsNeeded < 1 {
		p.ApprovalsNeeded = 1
	}
	if hooks.Revoked == nil {
		hooks.Revoked = func() bool { return false }
	}
	s := &approvalStage{p: p, hooks: hooks}
	for _, u := range []struct{ name, decision string }{{ApproveUpdateName, ApprovalApproved}, {DenyUpdateName, ApprovalDenied}} {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, u.name,
			func(ctx workflow.Context, req ApprovalDecisionRequest) (ApprovalState, error) {
				return s.decide(ctx, u.decision, req)
			},
			workflow.UpdateHandlerOptions{Validator: s.validate}); err != nil {
			return ApprovalOutcome{}, fmt.Errorf("set %s update handler: %w", u.name, err)
		}
	}
	defer func() { s.closed = true }()
	if hooks.OnPending != nil {
		hooks.OnPending(ctx)
	}
	summary := fmt.Sprintf("Wait for %d approvals", p.ApprovalsNeeded)
	if p.ApprovalsNeeded == 1 {
		summary = "Wait for 1 approval"
	}
	if p.Request != "" {
		summary += " of the extension"
	}
	ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
		Timeout:      p.Timeout,
		TimerOptions: workflow.TimerOptions{Summary: summary},
	}, func() bool { return s.out.Decision != "" || hooks.Revoked() })
	switch {
	case err != nil:
		return ApprovalOutcome{}, err
	case s.out.Decision == "" && hooks.Revoked():
		s.out.Decision = ApprovalRevoked
	case !ok && s.out.Decision == "":
		s.out.Decision = ApprovalTimedOut
		s.out.Reason = fmt.Sprintf("not approved within %s (%d of %d approvals)", p.Timeout, len(s.out.Approvers), p.ApprovalsNeeded)
	}
	s.closed = true
	return s.snapshot(), nil
}

// validate refuses, without I/O, what can never be accepted: a closed stage, no approver,
// the requester. Whether the person is an approver is the database's answer (API and activity).
func (s *approvalStage) validate(_ workflow.Context, req ApprovalDecisionRequest) error {
	switch {
	case s.closed || s.out.Decision != "" || s.hooks.Revoked():
		return temporal.NewApplicationError("the request is not waiting for a decision", ErrTypeNotPendingApproval)
	case req.GrantID != s.p.GrantID || req.Request != s.p.Request:
		return temporal.NewApplicationError("the decision is for another request", ErrTypeNotPendingApproval)
	case req.ApproverID == "":
		return temporal.NewApplicationError("no approver named", ErrTypeNotApprover)
	case req.ApproverID == s.p.RequesterID || (s.p.AskedBy != "" && req.ApproverID == s.p.AskedBy):
		return temporal.NewApplicationError("a request cannot be approved or denied by its requester", ErrTypeSelfApproval)
	}
	return nil
}

// decide records one approver's decision and counts it once per person.
func (s *approvalStage) decide(ctx workflow.Context, decision string, req ApprovalDecisionRequest) (ApprovalState, error) {
	id := req.ApproverID
	if slices.Contains(s.out.Approvers, id) || slices.Contains(s.inFlight, id) {
		return s.state(), nil
	}
	s.inFlight = append(s.inFlight, id)
	actx := workflow.WithActivityOptions(ctx, approvalRecordOptions())
	var res RecordApprovalDecisionResult
	err := workflow.ExecuteActivity(actx, RecordApprovalDecisionActivity, RecordApprovalDecisionInput{
		GrantID: s.p.GrantID, ApproverID: id, Decision: decision, Comment: req.Comment, Request: s.p.Request,
	}).Get(actx, &res)
	s.inFlight = slices.DeleteFunc(s.inFlight, func(x string) bool { return x == id })
	if err != nil {
		return s.state(), decisionError(err)
	}
	if s.closed || s.out.Decision != "" {
		return s.state(), temporal.NewApplicationError("the request was decided meanwhile", ErrTypeNotPendingApproval)
	}
	if !res.Recorded && res.Decision != "" {
		decision = res.Decision // the approver's first decision stands
	}
	if decision == ApprovalDenied {
		s.out.Decision, s.out.DecidedBy, s.out.Comment = ApprovalDenied, id, req.Comment
		s.out.Reason = "denied by an approver"
		if req.Comment != "" {
			s.out.Reason += ": " + req.Comment
		}
		return s.state(), nil
	}
	s.out.Approvers = append(s.out.Approvers, id)
	if len(s.out.Approvers) >= s.p.ApprovalsNeeded {
		s.out.Decision, s.out.DecidedBy, s.out.Comment = ApprovalApproved, id, req.Comment
	}
	return s.state(), nil
}

// decisionError keeps the refusal types of the recording activity for the API.
func decisionError(err error) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		switch appErr.Type() {
		case ErrTypeSelfApproval, ErrTypeNotApprover, ErrTypeNotPendingApproval:
			return temporal.NewApplicationError(appErr.Message(), appErr.Type())
		}
	}
	return fmt.Errorf("record approval decision: %w", err)
}

func (s *approvalStage) state() ApprovalState {
	return ApprovalState{Decision: s.out.Decision, Approvers: slices.Clone(s.out.Approvers), ApprovalsNeeded: s.p.ApprovalsNeeded}
}

func (s *approvalStage) snapshot() ApprovalOutcome {
	o := s.out
	o.Approvers = slices.Clone(s.out.Approvers)
	return o
}
