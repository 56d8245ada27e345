package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/jitaccess/jitaccess/policy"
	"github.com/jitaccess/jitaccess/workflows"
	"github.com/jitaccess/jitaccess/workflows/approvalstage"
)

// A grant approved for its requested hour cannot be extended past that hour while the
// policy requires approval (approval_required); without approval the same extension is
// applied. Time skipping: the approval comes after 10 minutes, the extension 20 minutes
// into the active hour.
func TestExtendBeyondApprovedDurationNeedsApproval(t *testing.T) {
	for _, tc := range []struct {
		name      string
		approval  bool
		by        time.Duration
		want      string
		wantTotal time.Duration
	}{
		{"approval required: past the approved hour", true, 30 * time.Minute, workflows.ErrTypeApprovalRequired, time.Hour},
		{"no approval: the same extension is applied", false, 30 * time.Minute, "ok", 90 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			calls, start := -1, 10*time.Minute
			var rejected error
			if tc.approval {
				approvalPolicy(f)
				decide(f, start, approvalstage.ApproveUpdateName, "tec_admin", &calls, &rejected)
			} else {
				start = 0
			}
			got := ""
			f.env.RegisterDelayedCallback(func() {
				outcome := func(err error) {
					if err == nil {
						got = "ok"
						return
					}
					var appErr *temporal.ApplicationError
					if assert.ErrorAs(t, err, &appErr) {
						got = appErr.Type()
					}
				}
				f.env.UpdateWorkflow(workflows.ExtendUpdateName, "ext-1", &testsuite.TestUpdateCallback{
					OnReject: outcome, OnAccept: func() {}, OnComplete: func(_ any, err error) { outcome(err) },
				}, workflows.ExtendRequest{Duration: tc.by, By: "tec_1"})
			}, start+20*time.Minute)
			res := f.run(input())
			require.NoError(t, rejected)
			require.Equal(t, workflows.StatusExpired, res.Status, res.Failure)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.wantTotal, res.ExpiresAt.Sub(res.ActivatedAt))
		})
	}
}

// extendAt sends the extend update "ext-1" by tec_1 after delay and keeps how it ended.
func extendAt(f *fixture, delay, by time.Duration, got *error) {
	f.env.RegisterDelayedCallback(func() {
		f.env.UpdateWorkflow(workflows.ExtendUpdateName, "ext-1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { *got = err }, OnAccept: func() {}, OnComplete: func(_ any, err error) { *got = err },
		}, workflows.ExtendRequest{Duration: by, By: "tec_1"})
	}, delay)
}

// decideExtension sends an approve or deny update for the pending extension "ext-1".
func decideExtension(f *fixture, delay time.Duration, name, approver string, rejected *error) {
	f.env.RegisterDelayedCallback(func() {
		f.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnAccept: func() {}, OnReject: func(err error) { *rejected = err }, OnComplete: func(any, error) {},
		}, approvalstage.ApprovalDecisionRequest{GrantID: "grt_1", ApproverID: approver, Comment: "ok", Request: "extension:ext-1"})
	}, delay)
}

// An extension past the approved hour goes to the approvers (the extend call is still
// answered approval_required); the grant stays active until its current expiry meanwhile,
// and only an approval in time moves the expiry. Time skipping: approved at 10 minutes,
// active from then for an hour; the extension is asked 20 minutes into it.
func TestExtensionPastApprovedDurationAwaitsApproval(t *testing.T) {
	const ask = 30 * time.Minute
	for _, tc := range []struct {
		name      string
		timeout   time.Duration // the policy's decision timeout
		act       func(f *fixture, rejected *error)
		wantTotal time.Duration
		lapsed    string // the reason recorded when the request lapses
		rejected  string // the decision's refusal by the validator
	}{
		{name: "approved by an approver", timeout: 8 * time.Hour, wantTotal: 90 * time.Minute,
			act: func(f *fixture, rejected *error) {
				decideExtension(f, ask+10*time.Minute, approvalstage.ApproveUpdateName, "tec_admin", rejected)
			}},
		{name: "self approval refused by the validator", timeout: 8 * time.Hour, wantTotal: time.Hour,
			lapsed: "the grant ended before the extension was approved", rejected: approvalstage.ErrTypeSelfApproval,
			act: func(f *fixture, rejected *error) {
				decideExtension(f, ask+10*time.Minute, approvalstage.ApproveUpdateName, "tec_1", rejected)
			}},
		{name: "denied", timeout: 8 * time.Hour, wantTotal: time.Hour, lapsed: "denied by an approver: ok",
			act: func(f *fixture, rejected *error) {
				decideExtension(f, ask+10*time.Minute, approvalstage.DenyUpdateName, "tec_admin", rejected)
			}},
		{name: "timed out", timeout: 15 * time.Minute, wantTotal: time.Hour, lapsed: "not approved within 15m0s",
			act: func(f *fixture, rejected *error) {
				// Too late: the request lapsed at 45 minutes.
				decideExtension(f, ask+20*time.Minute, approvalstage.ApproveUpdateName, "tec_admin", rejected)
			}, rejected: approvalstage.ErrTypeNotPendingApproval},
		{name: "grant expires while pending", timeout: 8 * time.Hour, wantTotal: time.Hour,
			lapsed: "the grant ended before the extension was approved",
			act:    func(*fixture, *error) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			approvalPolicy(f)
			f.st.Policy.Approval.Timeout = policy.Duration(tc.timeout)
			calls := -1
			var rejected, extendErr, second error
			decide(f, 10*time.Minute, approvalstage.ApproveUpdateName, "tec_admin", &calls, &rejected)
			extendAt(f, ask, 30*time.Minute, &extendErr)
			// A second extension while one is pending is refused.
			f.env.RegisterDelayedCallback(func() {
				f.env.UpdateWorkflow(workflows.ExtendUpdateName, "ext-2", &testsuite.TestUpdateCallback{
					OnReject: func(err error) { second = err }, OnAccept: func() {}, OnComplete: func(_ any, err error) { second = err },
				}, workflows.ExtendRequest{Duration: 10 * time.Minute, By: "tec_1"})
			}, ask+time.Minute)
			f.queryAt(ask + 2*time.Minute)
			var decisionErr error
			tc.act(f, &decisionErr)

			res := f.run(input())
			require.NoError(t, rejected)
			require.Equal(t, workflows.StatusExpired, res.Status, res.Failure)

			var appErr *temporal.ApplicationError
			require.ErrorAs(t, extendErr, &appErr)
			assert.Equal(t, workflows.ErrTypeApprovalRequired, appErr.Type())
			assert.Contains(t, appErr.Message(), "sent to the approvers")
			require.ErrorAs(t, second, &appErr)
			assert.Equal(t, workflows.ErrTypeApprovalRequired, appErr.Type())
			assert.Contains(t, appErr.Message(), "already awaiting approval")

			pending := f.statuses[0]
			assert.Equal(t, workflows.StatusActive, pending.Status)
			require.NotNil(t, pending.PendingExtension)
			assert.Equal(t, 30*time.Minute, pending.PendingExtension.Duration)
			assert.Equal(t, "tec_1", pending.PendingExtension.By)
			assert.Equal(t, start.Add(ask), pending.PendingExtension.RequestedAt)
			assert.Equal(t, res.ActivatedAt.Add(time.Hour), pending.ExpiresAt, "never extended early")

			assert.Equal(t, tc.wantTotal, res.ExpiresAt.Sub(res.ActivatedAt))
			assert.Nil(t, res.PendingExtension)
			assert.Contains(t, f.st.Actions(), workflows.ActionExtensionRequested)
			if tc.rejected != "" {
				require.ErrorAs(t, decisionErr, &appErr)
				assert.Equal(t, tc.rejected, appErr.Type())
			} else {
				require.NoError(t, decisionErr)
			}
			if tc.lapsed == "" {
				require.Len(t, res.Extensions, 1)
				assert.Equal(t, []string{"tec_admin"}, res.Extensions[0].ApprovedBy)
				assert.Equal(t, "tec_1", res.Extensions[0].By)
				assert.Contains(t, f.st.Actions(), workflows.ActionExtended)
				assert.NotContains(t, f.st.Actions(), workflows.ActionExtensionLapsed)
				return
			}
			assert.Empty(t, res.Extensions)
			assert.NotContains(t, f.st.Actions(), workflows.ActionExtended)
			assert.Contains(t, f.st.Actions(), workflows.ActionExtensionLapsed)
			assert.Contains(t, lapsedReason(f), tc.lapsed)
			// The grant ended on time: an hour after it became active, not later.
			assert.Equal(t, res.ActivatedAt.Add(time.Hour), res.EndedAt)
		})
	}
}

// lapsedReason is the reason of the recorded grant.extension_lapsed event.
func lapsedReason(f *fixture) string {
	for _, e := range f.st.Audits {
		if e.Action == workflows.ActionExtensionLapsed {
			r, _ := e.Details["reason"].(string)
			return r
		}
	}
	return ""
}
