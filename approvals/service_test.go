package approvals_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/jitaccess/jitaccess/approvals"
	"github.com/jitaccess/jitaccess/notify"
	"github.com/jitaccess/jitaccess/policy"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows/approvalstage"
)

// serviceStore: grt_1 by alice waits for approval; bob and carol are approvers.
type serviceStore struct{ status string }

func (s serviceStore) Grant(_ context.Context, id string) (store.Grant, error) {
	if id != "grt_1" {
		return store.Grant{}, store.ErrNotFound
	}
	return store.Grant{ID: id, Status: s.status, TechnicianID: "alice", WorkflowID: "access/t/a/alice", RunID: "run-1"}, nil
}

func (serviceStore) CheckApprover(_ context.Context, _, approverID string) error {
	switch approverID {
	case "alice":
		return &policy.Error{Code: policy.CodeSelfApproval}
	case "bob", "carol":
		return nil
	}
	return &policy.Error{Code: policy.CodeNotApprover}
}

func (serviceStore) TechnicianByEmail(_ context.Context, email string) (store.Technician, error) {
	if email == "bob@msp.example" {
		return store.Technician{ID: "bob", Email: email}, nil
	}
	return store.Technician{}, store.ErrNotFound
}

func (serviceStore) PendingApprovals(context.Context, string) ([]store.Grant, error) { return nil, nil }
func (serviceStore) Approvals(context.Context, string) ([]store.Approval, error)     { return nil, nil }

// fakeTemporal records the updates and answers with err or a state.
type fakeTemporal struct {
	sent []client.UpdateWorkflowOptions
	err  error
}

func (f *fakeTemporal) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.sent = append(f.sent, o)
	return handle{err: f.err}, nil
}

type handle struct{ err error }

func (handle) WorkflowID() string { return "" }
func (handle) RunID() string      { return "" }
func (handle) UpdateID() string   { return "" }
func (h handle) Get(_ context.Context, v any) error {
	if h.err != nil {
		return h.err
	}
	*v.(*approvalstage.ApprovalState) = approvalstage.ApprovalState{Decision: approvalstage.ApprovalApproved, Approvers: []string{"bob"}, ApprovalsNeeded: 1}
	return nil
}

func TestServiceDecide(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		status   string
		grant    string
		approver string
		temporal error
		code     string
		notFound bool
		sent     bool
	}{
		{name: "approves", status: store.StatusPendingApproval, grant: "grt_1", approver: "bob", sent: true},
		{name: "unknown grant", status: store.StatusPendingApproval, grant: "grt_x", approver: "bob", notFound: true},
		{name: "requester", status: store.StatusPendingApproval, grant: "grt_1", approver: "alice", code: policy.CodeSelfApproval},
		{name: "not an approver", status: store.StatusPendingApproval, grant: "grt_1", approver: "dave", code: policy.CodeNotApprover},
		{name: "not waiting", status: "active", grant: "grt_1", approver: "bob", code: policy.CodeNotPendingApproval},
		{name: "decided meanwhile", status: store.StatusPendingApproval, grant: "grt_1", approver: "carol", sent: true,
			temporal: temporal.NewApplicationError("closed", approvalstage.ErrTypeNotPendingApproval), code: policy.CodeNotPendingApproval},
		{name: "activity refused", status: store.StatusPendingApproval, grant: "grt_1", approver: "carol", sent: true,
			temporal: temporal.NewApplicationError("no longer in the group", approvalstage.ErrTypeNotApprover), code: policy.CodeNotApprover},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmp := &fakeTemporal{err: tc.temporal}
			svc := &approvals.Service{Store: serviceStore{status: tc.status}, Temporal: tmp}
			st, err := svc.Decide(ctx, tc.grant, tc.approver, true, "ok")
			switch {
			case tc.notFound:
				require.ErrorIs(t, err, store.ErrNotFound)
			case tc.code != "":
				e, ok := policy.AsError(err)
				require.True(t, ok, "%v", err)
				require.Equal(t, tc.code, e.Code)
			default:
				require.NoError(t, err)
				require.Equal(t, approvalstage.ApprovalApproved, st.Decision)
			}
			if !tc.sent {
				require.Empty(t, tmp.sent, "refused before reaching the workflow")
				return
			}
			require.Len(t, tmp.sent, 1)
			o := tmp.sent[0]
			require.Equal(t, "access/t/a/alice", o.WorkflowID)
			require.Equal(t, approvalstage.ApproveUpdateName, o.UpdateName)
			require.Equal(t, "approve/grt_1/"+tc.approver, o.UpdateID)
			require.Equal(t, client.WorkflowUpdateStageCompleted, o.WaitForStage)
			require.Equal(t, []any{approvalstage.ApprovalDecisionRequest{GrantID: "grt_1", ApproverID: tc.approver, Comment: "ok"}}, o.Args)
		})
	}
}

func TestServiceAsSlackDecider(t *testing.T) {
	tmp := &fakeTemporal{}
	svc := &approvals.Service{Store: serviceStore{status: store.StatusPendingApproval}, Temporal: tmp}
	d := svc.SlackDecider()
	require.NoError(t, d.Decide(context.Background(), notify.Decision{GrantID: "grt_1", ApproverEmail: "bob@msp.example", Approve: false, Comment: "via Slack"}))
	require.Len(t, tmp.sent, 1)
	require.Equal(t, approvalstage.DenyUpdateName, tmp.sent[0].UpdateName)
	err := d.Decide(context.Background(), notify.Decision{GrantID: "grt_1", ApproverEmail: "eve@elsewhere.example", Approve: true})
	var pe *policy.Error
	require.True(t, errors.As(err, &pe))
	require.Equal(t, policy.CodeNotApprover, pe.Code)
}

// pendingExtensionStore: grt_1 is active with an extension awaiting approval.
type pendingExtensionStore struct{ serviceStore }

func (s pendingExtensionStore) Grant(ctx context.Context, id string) (store.Grant, error) {
	g, err := s.serviceStore.Grant(ctx, id)
	g.PendingExtension = &store.PendingExtension{Duration: 30 * time.Minute, By: "alice", Request: "extension:k1"}
	return g, err
}

// An active grant's pending extension is decided through the same update, naming the
// request; the update id names it too, so the approver's decision on the grant itself is
// not taken for it. The requester is refused before anything is sent.
func TestServiceDecidesPendingExtension(t *testing.T) {
	tmp := &fakeTemporal{}
	svc := &approvals.Service{Store: pendingExtensionStore{serviceStore{status: "active"}}, Temporal: tmp}
	_, err := svc.Decide(context.Background(), "grt_1", "bob", true, "ok")
	require.NoError(t, err)
	require.Len(t, tmp.sent, 1)
	require.Equal(t, "approve/grt_1/extension:k1/bob", tmp.sent[0].UpdateID)
	require.Equal(t, []any{approvalstage.ApprovalDecisionRequest{GrantID: "grt_1", ApproverID: "bob", Comment: "ok", Request: "extension:k1"}}, tmp.sent[0].Args)

	_, err = svc.Decide(context.Background(), "grt_1", "alice", true, "")
	e, ok := policy.AsError(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, policy.CodeSelfApproval, e.Code)
	require.Len(t, tmp.sent, 1)
}
