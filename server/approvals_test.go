package server_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/jitaccess/jitaccess/approvals"
	"github.com/jitaccess/jitaccess/server"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// noUpdates fails every update: the refusals below must come before any reaches Temporal.
type noUpdates struct{ calls *int }

func (n noUpdates) UpdateWorkflow(context.Context, client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	*n.calls++
	return nil, errors.New("no workflow engine in this test")
}

func TestApprovalRoutesRefusals(t *testing.T) {
	updates := 0
	e := newEnv(t, withStubWorkflows, func(d *server.Deps) {
		d.Approvals = &approvals.Service{Store: d.Store, Temporal: noUpdates{calls: &updates}}
	})
	ctx := context.Background()
	tenant := e.createTenant("Contoso")
	app := e.readyApplication(tenant, "Entra")
	alice, aliceToken := e.createTechnician("alice@msp.example")
	grant := func(requester string, status workflows.Status) string {
		g, err := e.store.CreatePendingGrant(ctx, store.PendingGrant{WorkflowID: workflows.WorkflowID(tenant, app, requester),
			TenantID: tenant, ApplicationID: app, TechnicianID: requester})
		require.NoError(t, err)
		require.NoError(t, e.store.RecordTransition(ctx, store.GrantUpdate{GrantID: g.ID, Status: string(status)}, nil))
		return g.ID
	}
	adminsOwn := grant(e.admin.ID, workflows.StatusPendingApproval)
	alices := grant(alice, workflows.StatusPendingApproval)

	for _, tc := range []struct {
		name, token, grant, verb string
		status                   int
		code                     string
	}{
		{"the requester cannot approve, even as an admin", e.adminToken, adminsOwn, "approve", 403, "self_approval"},
		{"the requester cannot deny", e.adminToken, adminsOwn, "deny", 403, "self_approval"},
		{"a technician is no approver", aliceToken, adminsOwn, "approve", 403, "not_approver"},
		{"unknown grant", e.adminToken, "grt_aaaaaaaaaaaaaaaa", "approve", 404, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/v1/access-requests/"+tc.grant+"/"+tc.verb, tc.token, map[string]any{"comment": "ok"})
			require.Equal(t, tc.status, r.Status, string(r.Body))
			require.Equal(t, tc.code, r.errorCode())
		})
	}
	require.Zero(t, updates, "no refused decision reached the workflow")

	t.Run("not pending approval", func(t *testing.T) {
		require.NoError(t, e.store.RecordTransition(ctx, store.GrantUpdate{GrantID: alices, Status: string(workflows.StatusActive)}, nil))
		r := e.do("POST", "/v1/access-requests/"+alices+"/approve", e.adminToken, nil)
		require.Equal(t, 409, r.Status, string(r.Body))
		require.Equal(t, "not_pending_approval", r.errorCode())
	})

	t.Run("queue", func(t *testing.T) {
		other := grant(alice, workflows.StatusPendingApproval)
		ids := []string{}
		for _, it := range e.must(200, e.do("GET", "/v1/approvals", e.adminToken, nil)).items() {
			ids = append(ids, it["id"].(string))
		}
		require.Contains(t, ids, other)
		require.NotContains(t, ids, adminsOwn, "never one's own request")
	})

	t.Run("extension awaiting approval", func(t *testing.T) {
		at := time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)
		require.NoError(t, e.store.RecordTransition(ctx, store.GrantUpdate{GrantID: alices, Status: string(workflows.StatusActive),
			PendingExtension: &store.PendingExtension{Duration: 30 * time.Minute, By: alice, RequestedAt: at, Request: "extension:k1"}}, nil))
		kinds := map[string]string{}
		for _, it := range e.must(200, e.do("GET", "/v1/approvals", e.adminToken, nil)).items() {
			kinds[it["id"].(string)] = it["approval_kind"].(string)
		}
		require.Equal(t, "extension", kinds[alices])
		for id, kind := range kinds {
			if id != alices {
				require.Equal(t, "grant", kind)
			}
		}
		g := e.must(200, e.do("GET", "/v1/access-requests/"+alices, aliceToken, nil))
		require.Equal(t, map[string]any{"duration": "30m0s", "requested_at": "2026-12-07T09:30:00Z", "requested_by": alice},
			g.JSON["pending_extension"], "the requester sees it on the grant")
	})
}
