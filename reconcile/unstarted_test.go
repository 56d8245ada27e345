package reconcile_test

import (
	"context"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/jitaccess/jitaccess/reconcile"
	"github.com/jitaccess/jitaccess/store"
)

// pendingStore holds open grants and records which ones the sweep terminated.
type pendingStore struct {
	fakeStore
	open       []store.Grant
	terminated []string
}

func (p *pendingStore) OpenGrants(context.Context, string, string, int) ([]store.Grant, error) {
	return p.open, nil
}

func (p *pendingStore) TerminateGrant(_ context.Context, grantID, _ string, _ time.Time, _ store.AuditEvent) (bool, error) {
	p.terminated = append(p.terminated, grantID)
	return true, nil
}

// runsByID answers Describe for the workflow ids it knows as running, NotFound otherwise.
type runsByID struct {
	noRuns
	running map[string]bool
}

func (r runsByID) DescribeWorkflowExecution(_ context.Context, workflowID, _ string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	if !r.running[workflowID] {
		return nil, serviceerror.NewNotFound("workflow not found")
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{
		Status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING}}, nil
}

// A pending row whose workflow never started (the API died between the row and the start)
// used to stay pending for ever, counted as the technician's live grant: the account sweep
// then left their enabled admin account alone. The sweep ends it once the API can no longer
// start it, and leaves alone a row that is young or whose workflow runs.
func TestSweepEndsAPendingGrantNoRunClaimed(t *testing.T) {
	old := time.Now().Add(-reconcile.UnstartedGrace - time.Second)
	st := &pendingStore{open: []store.Grant{
		{ID: "grt_orphan", WorkflowID: "access/orphan", TenantID: "tnt_1", ApplicationID: "app_1", Status: "pending", RequestedAt: old},
		{ID: "grt_young", WorkflowID: "access/young", TenantID: "tnt_1", ApplicationID: "app_1", Status: "pending", RequestedAt: time.Now()},
		{ID: "grt_starting", WorkflowID: "access/starting", TenantID: "tnt_1", ApplicationID: "app_1", Status: "pending", RequestedAt: old},
	}}
	sw := &reconcile.Sweeper{Store: st, Directory: &fakeDirectory{}, Runs: runsByID{running: map[string]bool{"access/starting": true}}}

	dry, err := sw.Sweep(context.Background(), "", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(dry) != 1 || dry[0].Kind != reconcile.KindRunMissing || dry[0].GrantID != "grt_orphan" || len(st.terminated) != 0 {
		t.Fatalf("dry run: findings %+v, terminated %v", dry, st.terminated)
	}

	findings, err := sw.Sweep(context.Background(), "", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(findings) != 1 || findings[0].Kind != reconcile.KindRunMissing || findings[0].GrantID != "grt_orphan" {
		t.Fatalf("findings %+v", findings)
	}
	if len(st.terminated) != 1 || st.terminated[0] != "grt_orphan" {
		t.Fatalf("terminated %v, want [grt_orphan]", st.terminated)
	}
	if len(st.audits) != 1 || st.audits[0].Action != reconcile.KindRunMissing || st.audits[0].Target != "grt_orphan" {
		t.Fatalf("audit %+v", st.audits)
	}
}
