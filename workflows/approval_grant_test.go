package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"

	"github.com/jitaccess/jitaccess/policy"
	"github.com/jitaccess/jitaccess/workflows"
	"github.com/jitaccess/jitaccess/workflows/approvalstage"
)

// approvalPolicy makes the fixture's application require one approval within 8 hours.
func approvalPolicy(f *fixture) {
	p := policy.Default(nil)
	p.Approval = policy.Approval{Required: true, ApproverGroupIDs: []string{}, ApprovalsNeeded: 1, Timeout: policy.Duration(8 * time.Hour)}
	f.st.Policy = &p
	f.env.RegisterActivityWithOptions(func(_ context.Context, in approvalstage.RecordApprovalDecisionInput) (approvalstage.RecordApprovalDecisionResult, error) {
		return approvalstage.RecordApprovalDecisionResult{Recorded: true, Decision: in.Decision}, nil
	}, activity.RegisterOptions{Name: approvalstage.RecordApprovalDecisionActivity})
}

// decide sends an approve or deny update after delay; the Entra calls made until then are
// collected into calls.
func decide(f *fixture, delay time.Duration, name, approver string, calls *int, rejected *error) {
	f.env.RegisterDelayedCallback(func() {
		*calls = len(f.dir.Calls())
		f.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { *rejected = err },
			OnComplete: func(any, error) {},
		}, approvalstage.ApprovalDecisionRequest{GrantID: "grt_1", ApproverID: approver, Comment: "ok"})
	}, delay)
}

// The real AccessRequest with a policy that requires approval: pending_approval before any
// Entra call, then each way the stage ends.
func TestAccessRequestApprovalStage(t *testing.T) {
	for _, tc := range []struct {
		name      string
		act       func(f *fixture, calls *int, rejected *error)
		status    workflows.Status
		entraUsed bool
	}{
		{name: "approved then provisioned", status: workflows.StatusExpired, entraUsed: true,
			act: func(f *fixture, calls *int, rejected *error) {
				decide(f, 30*time.Minute, approvalstage.ApproveUpdateName, "tec_admin", calls, rejected)
			}},
		{name: "denied", status: workflows.StatusDenied,
			act: func(f *fixture, calls *int, rejected *error) {
				decide(f, 30*time.Minute, approvalstage.DenyUpdateName, "tec_admin", calls, rejected)
			}},
		{name: "self approval refused, then timed out", status: workflows.StatusExpiredUnapproved,
			act: func(f *fixture, calls *int, rejected *error) {
				decide(f, 30*time.Minute, approvalstage.ApproveUpdateName, "tec_1", calls, rejected)
			}},
		{name: "revoked while pending", status: workflows.StatusRevoked,
			act: func(f *fixture, calls *int, _ *error) {
				f.env.RegisterDelayedCallback(func() {
					*calls = len(f.dir.Calls())
					f.env.SignalWorkflow(workflows.RevokeSignalName, workflows.RevokeSignal{By: "tec_admin", ByKind: "admin", Reason: "not needed"})
				}, 30*time.Minute)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			approvalPolicy(f)
			calls := -1
			var rejected error
			tc.act(f, &calls, &rejected)
			f.queryAt(10 * time.Minute)
			res := f.run(input())
			require.Equal(t, tc.status, res.Status, res.Failure)
			assert.Equal(t, workflows.StatusPendingApproval, f.statuses[0].Status)
			assert.Equal(t, 0, calls, "no Entra call before the decision")
			assert.Equal(t, tc.entraUsed, len(f.dir.Calls()) > 0)
			assert.Contains(t, f.st.Statuses(), string(workflows.StatusPendingApproval))
			if tc.status == workflows.StatusExpiredUnapproved {
				require.Error(t, rejected, "the requester cannot approve")
				assert.Contains(t, res.Failure, "not approved within 8h0m0s")
			}
		})
	}
}

// Without a policy that requires approval (no privileged role) the grant never waits.
func TestAccessRequestNoApprovalForOrdinaryRoles(t *testing.T) {
	f := newFixture(t)
	f.queryAt(time.Minute)
	res := f.run(input())
	require.Equal(t, workflows.StatusExpired, res.Status)
	assert.NotContains(t, f.st.Statuses(), string(workflows.StatusPendingApproval))
	assert.Equal(t, workflows.StatusActive, f.statuses[0].Status)
}
