package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/jitaccess/jitaccess/workflows"
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
				decide(f, start, workflows.ApproveUpdateName, "tec_admin", &calls, &rejected)
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
