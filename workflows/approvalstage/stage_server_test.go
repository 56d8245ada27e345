package approvalstage

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/internal/testenv"
)

// The approval stage on the real dev server, addressed as approvals.Service addresses it:
// the workflow id without a run id, one update id per approver and decision.
func TestApprovalOnTheRealServer(t *testing.T) {
	ts := testenv.Temporal(t, temporaldev.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := client.Dial(client.Options{HostPort: ts.Address, Namespace: ts.Namespace})
	require.NoError(t, err)
	defer c.Close()

	const queue = "approval-test"
	db := &approverDB{approvers: []string{"bob", "carol", "alice"}, decisions: map[string]string{}}
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(approvalTestWorkflow, workflow.RegisterOptions{Name: "ApprovalTest"})
	w.RegisterActivityWithOptions(db.record, activity.RegisterOptions{Name: RecordApprovalDecisionActivity})
	require.NoError(t, w.Start())
	defer w.Stop()

	const wfID = "access/tnt_1/app_1/alice"
	_, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: wfID, TaskQueue: queue}, "ApprovalTest",
		ApprovalParams{GrantID: "grt_1", RequesterID: "alice", ApprovalsNeeded: 2, Timeout: time.Hour})
	require.NoError(t, err)
	defer func() { _ = c.TerminateWorkflow(context.Background(), wfID, "", "test over") }()

	decide := func(name, grant, approver string) (ApprovalState, error) {
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			UpdateID: name + "/" + grant + "/" + approver, WorkflowID: wfID, UpdateName: name,
			Args:         []any{ApprovalDecisionRequest{GrantID: grant, ApproverID: approver, Comment: "from the test"}},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err != nil {
			return ApprovalState{}, err
		}
		var st ApprovalState
		err = h.Get(ctx, &st)
		return st, err
	}

	_, err = decide(ApproveUpdateName, "grt_1", "alice")
	require.Equal(t, ErrTypeSelfApproval, approvalErrType(err), "%v", err)
	_, err = decide(ApproveUpdateName, "grt_0", "bob")
	require.Equal(t, ErrTypeNotPendingApproval, approvalErrType(err), "a decision for an earlier grant of the same id: %v", err)

	st, err := decide(ApproveUpdateName, "grt_1", "bob")
	require.NoError(t, err)
	require.Equal(t, ApprovalState{Approvers: []string{"bob"}, ApprovalsNeeded: 2}, st)
	st, err = decide(ApproveUpdateName, "grt_1", "bob") // a double click: the same update id
	require.NoError(t, err)
	require.Equal(t, []string{"bob"}, st.Approvers)

	st, err = decide(ApproveUpdateName, "grt_1", "carol")
	require.NoError(t, err)
	require.Equal(t, ApprovalApproved, st.Decision)
	require.Equal(t, []string{"bob", "carol"}, st.Approvers)
	_, err = decide(DenyUpdateName, "grt_1", "carol")
	require.Equal(t, ErrTypeNotPendingApproval, approvalErrType(err), "%v", err)

	db.mu.Lock()
	require.Equal(t, 2, db.calls, "one recorded decision per approver")
	db.mu.Unlock()
}
