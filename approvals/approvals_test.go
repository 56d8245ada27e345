package approvals_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/jitaccess/jitaccess/approvals"
	"github.com/jitaccess/jitaccess/policy"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows/approvalstage"
)

type fakeStore struct {
	err      error
	recorded bool
	decision string
	got      store.ApprovalDecision
}

func (f *fakeStore) RecordApproval(_ context.Context, d store.ApprovalDecision) (store.Approval, bool, error) {
	f.got = d
	return store.Approval{Decision: f.decision}, f.recorded, f.err
}

func TestApprovalActivityMapsDecisionsAndRefusals(t *testing.T) {
	tests := []struct {
		name      string
		store     fakeStore
		in        string
		want      approvalstage.RecordApprovalDecisionResult
		errType   string
		retryable bool
	}{
		{name: "approved", store: fakeStore{recorded: true, decision: store.DecisionApproved}, in: approvalstage.ApprovalApproved,
			want: approvalstage.RecordApprovalDecisionResult{Recorded: true, Decision: approvalstage.ApprovalApproved}},
		{name: "first decision stands", store: fakeStore{decision: store.DecisionDenied}, in: approvalstage.ApprovalApproved,
			want: approvalstage.RecordApprovalDecisionResult{Decision: approvalstage.ApprovalDenied}},
		{name: "self approval", store: fakeStore{err: &policy.Error{Code: policy.CodeSelfApproval, Message: "self"}}, errType: approvalstage.ErrTypeSelfApproval},
		{name: "not approver", store: fakeStore{err: fmt.Errorf("check: %w", &policy.Error{Code: policy.CodeNotApprover})}, errType: approvalstage.ErrTypeNotApprover},
		{name: "grant moved on", store: fakeStore{err: &policy.Error{Code: policy.CodeNotPendingApproval}}, errType: approvalstage.ErrTypeNotPendingApproval},
		{name: "unknown grant", store: fakeStore{err: fmt.Errorf("grant: %w", store.ErrNotFound)}, errType: approvalstage.ErrTypeNotApprover},
		{name: "database down", store: fakeStore{err: errors.New("connection refused")}, retryable: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := &approvals.Activities{Store: &tc.store}
			out, err := a.RecordApprovalDecision(context.Background(), approvalstage.RecordApprovalDecisionInput{
				GrantID: "grt_1", ApproverID: "bob", Decision: tc.in, Comment: "c"})
			switch {
			case tc.retryable:
				require.Error(t, err)
				var appErr *temporal.ApplicationError
				require.False(t, errors.As(err, &appErr) && appErr.NonRetryable())
			case tc.errType != "":
				var appErr *temporal.ApplicationError
				require.True(t, errors.As(err, &appErr), "%v", err)
				require.Equal(t, tc.errType, appErr.Type())
				require.True(t, appErr.NonRetryable())
			default:
				require.NoError(t, err)
				require.Equal(t, tc.want, out)
				require.Equal(t, store.ApprovalDecision{GrantID: "grt_1", ApproverID: "bob", Decision: store.DecisionApproved, Comment: "c"}, tc.store.got)
			}
		})
	}
}
