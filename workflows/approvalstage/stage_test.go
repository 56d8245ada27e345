package approvalstage

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// revokeSignal is the grant's revoke signal (workflows.RevokeSignalName).
const revokeSignal = "revoke"

// approvalTestWorkflow is the smallest grant that uses the stage: the revoke signal, the
// pending hook, and the outcome as its result.
func approvalTestWorkflow(ctx workflow.Context, p ApprovalParams) (ApprovalOutcome, error) {
	revoked := false
	revokes := workflow.GetSignalChannel(ctx, revokeSignal)
	workflow.Go(ctx, func(ctx workflow.Context) {
		revokes.Receive(ctx, nil)
		revoked = true
	})
	out, err := Await(ctx, p, ApprovalHooks{
		OnPending: func(ctx workflow.Context) { workflow.SetCurrentDetails(ctx, "pending_approval") },
		Revoked:   func() bool { return revoked },
	})
	if err == nil && out.Decision == ApprovalApproved {
		// Provisioning would run now; decisions arriving meanwhile must be refused.
		err = workflow.Sleep(ctx, time.Hour)
	}
	return out, err
}

// approverDB stands for the database: who may approve, and the first decision of each.
type approverDB struct {
	mu        sync.Mutex
	approvers []string
	decisions map[string]string
	calls     int
}

func (d *approverDB) record(_ context.Context, in RecordApprovalDecisionInput) (RecordApprovalDecisionResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	if !slices.Contains(d.approvers, in.ApproverID) {
		return RecordApprovalDecisionResult{}, temporal.NewNonRetryableApplicationError("not an approver", ErrTypeNotApprover, nil)
	}
	if first, ok := d.decisions[in.ApproverID]; ok {
		return RecordApprovalDecisionResult{Decision: first}, nil
	}
	d.decisions[in.ApproverID] = in.Decision
	return RecordApprovalDecisionResult{Recorded: true, Decision: in.Decision}, nil
}

type approvalFixture struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment
	db  *approverDB
}

func newApprovalFixture(t *testing.T) *approvalFixture {
	var suite testsuite.WorkflowTestSuite
	f := &approvalFixture{t: t, env: suite.NewTestWorkflowEnvironment(),
		db: &approverDB{approvers: []string{"bob", "carol"}, decisions: map[string]string{}}}
	f.env.RegisterWorkflow(approvalTestWorkflow)
	f.env.RegisterActivityWithOptions(f.db.record, activity.RegisterOptions{Name: RecordApprovalDecisionActivity})
	return f
}

// updateResult is what one update came back with.
type updateResult struct {
	rejected error
	err      error
	state    ApprovalState
}

// send sends an update after delay and collects its outcome into out.
func (f *approvalFixture) send(delay time.Duration, name, approver, comment string, out *updateResult) {
	f.sendFor(delay, "grt_1", name, approver, comment, out)
}

func (f *approvalFixture) sendFor(delay time.Duration, grantID, name, approver, comment string, out *updateResult) {
	f.env.RegisterDelayedCallback(func() {
		f.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { out.rejected = err },
			OnComplete: func(v any, err error) {
				out.err = err
				if s, ok := v.(ApprovalState); ok {
					out.state = s
				}
			},
		}, ApprovalDecisionRequest{GrantID: grantID, ApproverID: approver, Comment: comment})
	}, delay)
}

func (f *approvalFixture) run(p ApprovalParams) ApprovalOutcome {
	f.env.ExecuteWorkflow(approvalTestWorkflow, p)
	require.True(f.t, f.env.IsWorkflowCompleted())
	require.NoError(f.t, f.env.GetWorkflowError())
	var out ApprovalOutcome
	require.NoError(f.t, f.env.GetWorkflowResult(&out))
	return out
}

func approvalParams(n int) ApprovalParams {
	return ApprovalParams{GrantID: "grt_1", RequesterID: "alice", ApprovalsNeeded: n, Timeout: 8 * time.Hour}
}

func approvalErrType(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type()
	}
	return ""
}

func TestApprovalGranted(t *testing.T) {
	f := newApprovalFixture(t)
	var r updateResult
	f.send(time.Hour, ApproveUpdateName, "bob", "go ahead", &r)
	out := f.run(approvalParams(1))
	require.Equal(t, ApprovalApproved, out.Decision)
	require.Equal(t, []string{"bob"}, out.Approvers)
	require.Equal(t, "bob", out.DecidedBy)
	require.Equal(t, "go ahead", out.Comment)
	require.NoError(t, r.err)
	require.Equal(t, ApprovalApproved, r.state.Decision)
	require.Equal(t, ApprovalApproved, f.db.decisions["bob"], "recorded by the activity")
}

func TestApprovalDenied(t *testing.T) {
	f := newApprovalFixture(t)
	var r updateResult
	f.send(time.Minute, DenyUpdateName, "carol", "not during the freeze", &r)
	out := f.run(approvalParams(2))
	require.Equal(t, ApprovalDenied, out.Decision)
	require.Equal(t, "carol", out.DecidedBy)
	require.Contains(t, out.Reason, "not during the freeze")
	require.Equal(t, ApprovalDenied, f.db.decisions["carol"])
}

func TestApprovalTimedOut(t *testing.T) {
	f := newApprovalFixture(t)
	startedAt := f.env.Now()
	out := f.run(approvalParams(1))
	require.Equal(t, ApprovalTimedOut, out.Decision)
	require.Contains(t, out.Reason, "0 of 1")
	require.GreaterOrEqual(t, f.env.Now().Sub(startedAt), 8*time.Hour, "time skipped to the decision timeout")
	require.Zero(t, f.db.calls)
}

func TestApprovalSelfApprovalRefusedByValidator(t *testing.T) {
	f := newApprovalFixture(t)
	f.db.approvers = append(f.db.approvers, "alice") // even were the requester in an approver group
	var self, other, bob updateResult
	f.send(time.Minute, ApproveUpdateName, "alice", "", &self)
	f.sendFor(time.Minute, "grt_earlier", ApproveUpdateName, "bob", "", &other)
	f.send(2*time.Minute, ApproveUpdateName, "bob", "", &bob)
	out := f.run(approvalParams(1))
	require.Equal(t, ErrTypeSelfApproval, approvalErrType(self.rejected), "rejected before history: %v", self.rejected)
	require.Equal(t, ErrTypeNotPendingApproval, approvalErrType(other.rejected), "a decision for another grant of the same workflow id")
	require.Equal(t, ApprovalApproved, out.Decision)
	require.Equal(t, []string{"bob"}, out.Approvers)
	require.NotContains(t, f.db.decisions, "alice", "never reached the activity")
}

func TestApprovalTwoApproversSamePersonCountedOnce(t *testing.T) {
	f := newApprovalFixture(t)
	var first, again, changed, carol, late updateResult
	f.send(time.Minute, ApproveUpdateName, "bob", "", &first)
	f.send(2*time.Minute, ApproveUpdateName, "bob", "", &again)
	f.send(3*time.Minute, DenyUpdateName, "bob", "changed my mind", &changed)
	f.send(4*time.Minute, ApproveUpdateName, "carol", "second", &carol)
	f.send(5*time.Minute, ApproveUpdateName, "carol", "", &late)
	out := f.run(approvalParams(2))

	require.Equal(t, ApprovalState{Approvers: []string{"bob"}, ApprovalsNeeded: 2}, first.state)
	require.Equal(t, ApprovalState{Approvers: []string{"bob"}, ApprovalsNeeded: 2}, again.state, "bob twice is one approval")
	require.NoError(t, changed.err)
	require.Equal(t, "", changed.state.Decision, "bob's first decision stands; his deny is not a second vote")
	require.Equal(t, ApprovalApproved, carol.state.Decision)
	require.Equal(t, ErrTypeNotPendingApproval, approvalErrType(late.rejected))

	require.Equal(t, ApprovalApproved, out.Decision)
	require.Equal(t, []string{"bob", "carol"}, out.Approvers)
	require.Equal(t, "carol", out.DecidedBy)
	require.Equal(t, 2, f.db.calls, "one activity per distinct approver")
}

func TestApprovalNotApproverRefusedByActivity(t *testing.T) {
	f := newApprovalFixture(t)
	var dave updateResult
	f.send(time.Minute, ApproveUpdateName, "dave", "", &dave)
	out := f.run(approvalParams(1))
	require.NoError(t, dave.rejected, "the validator cannot know; the activity checks the database")
	require.Equal(t, ErrTypeNotApprover, approvalErrType(dave.err))
	require.Equal(t, ApprovalTimedOut, out.Decision, "dave's approval was not counted")
}

func TestApprovalRevokeWhilePending(t *testing.T) {
	f := newApprovalFixture(t)
	var late updateResult
	f.env.RegisterDelayedCallback(func() { f.env.SignalWorkflow(revokeSignal, nil) }, 10*time.Minute)
	f.send(20*time.Minute, ApproveUpdateName, "bob", "", &late)
	startedAt := f.env.Now()
	out := f.run(approvalParams(1))
	require.Equal(t, ApprovalRevoked, out.Decision)
	require.Less(t, f.env.Now().Sub(startedAt), time.Hour, "ended at the revoke, not the timeout")
	require.Zero(t, f.db.calls, "nothing recorded, nothing called")
}
