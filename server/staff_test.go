package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/server"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// revokeRecorder is a workflow engine that only records revocations.
type revokeRecorder struct {
	portalWorkflows
	reasons map[string]string
}

func (w *revokeRecorder) Revoke(ctx context.Context, workflowID, runID string, sig workflows.RevokeSignal) error {
	w.mu.Lock()
	w.reasons[workflowID] = sig.Reason
	w.mu.Unlock()
	return w.portalWorkflows.Revoke(ctx, workflowID, runID, sig)
}

func (w *revokeRecorder) reason(workflowID string) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.reasons[workflowID]
	return r, ok
}

func withRevokeRecorder(w *revokeRecorder) envOption {
	return func(d *server.Deps) { d.Workflows = w }
}

// liveGrant writes the projection of an active grant, as its workflow would have.
func (e *env) liveGrant(tenantID, appID, techID string) store.Grant {
	e.t.Helper()
	wf := workflows.WorkflowID(tenantID, appID, techID)
	ctx := context.Background()
	g, err := e.store.CreatePendingGrant(ctx, store.PendingGrant{WorkflowID: wf, TenantID: tenantID, ApplicationID: appID, TechnicianID: techID})
	require.NoError(e.t, err)
	require.NoError(e.t, e.store.AttachRun(ctx, g.ID, "run-1"))
	require.NoError(e.t, e.store.RecordGrant(ctx, store.GrantUpdate{GrantID: g.ID, RunID: "run-1", Status: string(workflows.StatusActive),
		ActivatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}))
	g, err = e.store.Grant(ctx, g.ID)
	require.NoError(e.t, err)
	return g
}

func (e *env) rule(tenantID, name string, condition map[string]any, appID string) string {
	return e.must(201, e.do("POST", "/v1/tenants/"+tenantID+"/entitlements", e.adminToken, map[string]any{
		"name": name, "condition": condition, "application_id": appID})).str("id")
}

func TestTokenManagement(t *testing.T) {
	e := newEnv(t)
	tech, techToken := e.createTechnician("alice@msp.example")

	// Anyone manages their own tokens; the token is shown once, with a default expiry.
	r := e.must(201, e.do("POST", "/v1/tokens", techToken, map[string]any{"name": "laptop"}))
	laptop, laptopToken := r.str("id"), r.str("token")
	require.NotEmpty(t, laptopToken)
	require.Equal(t, tech, r.str("technician_id"))
	require.Equal(t, "technician", r.str("role"))
	require.Equal(t, "active", r.str("status"))
	exp, err := time.Parse(time.RFC3339, r.str("expires_at"))
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(90*24*time.Hour), exp, time.Minute)
	require.Equal(t, 200, e.do("GET", "/v1/tokens", laptopToken, nil).Status)

	own := e.must(200, e.do("GET", "/v1/tokens", techToken, nil))
	require.Len(t, own.items(), 2, "a technician sees their own tokens only")
	for _, it := range own.items() {
		require.Equal(t, tech, it["technician_id"])
		require.NotContains(t, it, "token", "a listed token never shows its secret")
	}
	all := e.must(200, e.do("GET", "/v1/tokens", e.adminToken, nil))
	require.GreaterOrEqual(t, len(all.items()), 3, "an admin sees everyone's")

	// A technician cannot issue tokens for others or widen their role.
	require.Equal(t, 403, e.do("POST", "/v1/tokens", techToken, map[string]any{"name": "x", "technician_id": e.admin.ID}).Status)
	require.Equal(t, 400, e.do("POST", "/v1/tokens", techToken, map[string]any{"name": "x", "role": "admin"}).Status)
	require.Equal(t, 400, e.do("POST", "/v1/tokens", techToken, map[string]any{"name": "x", "expires_in": "9000h"}).Status)
	require.Equal(t, 400, e.do("POST", "/v1/tokens", techToken, map[string]any{"name": "x", "expires_in": "-1h"}).Status)

	// An admin issues a token for someone else, and narrows their own.
	r = e.must(201, e.do("POST", "/v1/tokens", e.adminToken, map[string]any{"name": "ci", "technician_id": tech, "expires_in": "1h"}))
	require.Equal(t, tech, r.str("technician_id"))
	narrow := e.must(201, e.do("POST", "/v1/tokens", e.adminToken, map[string]any{"name": "extension", "role": "technician"})).str("token")
	require.Equal(t, 403, e.do("GET", "/v1/tenants", narrow, nil).Status, "a narrowed admin token acts as a technician")

	// Revocation: someone else's token is not found; one's own ends at once.
	adminTokens := e.must(200, e.do("GET", "/v1/tokens?technician_id="+e.admin.ID, e.adminToken, nil)).items()
	require.Equal(t, 404, e.do("DELETE", "/v1/tokens/"+adminTokens[0]["id"].(string), techToken, nil).Status)
	e.must(204, e.do("DELETE", "/v1/tokens/"+laptop, techToken, nil))
	r = e.do("GET", "/v1/tokens", laptopToken, nil)
	require.Equal(t, 401, r.Status, "a revoked token gets 401 at once")
	listed := e.must(200, e.do("GET", "/v1/tokens", techToken, nil)).items()
	for _, it := range listed {
		if it["id"] == laptop {
			require.Equal(t, "revoked", it["status"])
		}
	}
	require.Contains(t, e.auditActions(), "token.revoked")
	require.Contains(t, e.auditActions(), "token.created")
}

func TestDeactivationEndsSessionsTokensAndGrants(t *testing.T) {
	wf := &revokeRecorder{reasons: map[string]string{}}
	e := newEnv(t, withRevokeRecorder(wf))
	tenant := e.createTenant("Contoso")
	tech, techToken := e.createTechnician("alice@msp.example")
	e.must(204, e.do("PUT", "/v1/tenants/"+tenant+"/members/"+tech, e.adminToken, nil))
	app := e.readyApplication(tenant, "Entra")
	e.rule(tenant, "all", map[string]any{"type": "group", "group_id": "all-admins"}, app)
	g := e.liveGrant(tenant, app, tech)
	e.must(200, e.do("GET", "/v1/me", techToken, nil))

	require.Equal(t, 409, e.do("PATCH", "/v1/technicians/"+e.admin.ID, e.adminToken, map[string]any{"active": false}).Status)
	require.Equal(t, 400, e.do("PATCH", "/v1/technicians/"+tech, e.adminToken, map[string]any{}).Status)
	require.Equal(t, 404, e.do("PATCH", "/v1/technicians/tec_missing", e.adminToken, map[string]any{"active": false}).Status)

	r := e.must(200, e.do("PATCH", "/v1/technicians/"+tech, e.adminToken, map[string]any{"active": false}))
	require.Equal(t, false, r.JSON["active"])
	require.NotNil(t, r.JSON["deactivated_at"])
	require.Equal(t, 401, e.do("GET", "/v1/me", techToken, nil).Status, "tokens end at once")
	why, ok := wf.reason(g.WorkflowID)
	require.True(t, ok, "the live grant is revoked through its workflow")
	require.Equal(t, "technician deactivated", why)
	require.Contains(t, e.auditActions(), "technician.deactivated")
	require.Contains(t, e.auditActions(), "grant.revoked_by_change")

	// Reactivation does not bring old tokens back.
	r = e.must(200, e.do("PATCH", "/v1/technicians/"+tech, e.adminToken, map[string]any{"active": true}))
	require.Equal(t, true, r.JSON["active"])
	require.Equal(t, 401, e.do("GET", "/v1/me", techToken, nil).Status)
}

func TestRemovingMembershipOrRuleEndsTheGrantsItAllowed(t *testing.T) {
	wf := &revokeRecorder{reasons: map[string]string{}}
	e := newEnv(t, withRevokeRecorder(wf))
	tenant := e.createTenant("Contoso")
	alice, _ := e.createTechnician("alice@msp.example")
	bob, _ := e.createTechnician("bob@msp.example")
	carol, _ := e.createTechnician("carol@msp.example")
	for _, id := range []string{alice, bob, carol} {
		e.must(204, e.do("PUT", "/v1/tenants/"+tenant+"/members/"+id, e.adminToken, nil))
	}
	app := e.readyApplication(tenant, "Entra")
	all := e.rule(tenant, "everyone", map[string]any{"type": "group", "group_id": "all-admins"}, app)
	e.rule(tenant, "carol herself", map[string]any{"type": "technician", "technician_id": carol}, app)
	ga, gb, gc := e.liveGrant(tenant, app, alice), e.liveGrant(tenant, app, bob), e.liveGrant(tenant, app, carol)

	// Membership removed: alice's grant ends, with the reason.
	e.must(204, e.do("DELETE", "/v1/tenants/"+tenant+"/members/"+alice, e.adminToken, nil))
	why, ok := wf.reason(ga.WorkflowID)
	require.True(t, ok, "a removed membership ends the grants it allowed")
	require.Equal(t, "technician removed from the tenant", why)
	_, ok = wf.reason(gb.WorkflowID)
	require.False(t, ok)

	// Rule removed: bob's grant ends; carol keeps hers (another rule still allows it).
	e.must(204, e.do("DELETE", "/v1/tenants/"+tenant+"/entitlements/"+all, e.adminToken, nil))
	why, ok = wf.reason(gb.WorkflowID)
	require.True(t, ok, "a removed rule ends the grants it allowed")
	require.Contains(t, why, `entitlement rule "everyone" removed`)
	_, ok = wf.reason(gc.WorkflowID)
	require.False(t, ok, "a grant another rule allows is kept")

	evs, _, err := e.store.AuditEvents(context.Background(), store.AuditFilter{}, store.Page{Limit: store.MaxLimit})
	require.NoError(t, err)
	reasons := map[string]any{}
	for _, ev := range evs {
		if ev.Action == "grant.revoked_by_change" {
			reasons[ev.Target] = ev.Details["reason"]
		}
	}
	require.Equal(t, map[string]any{ga.ID: "technician removed from the tenant", gb.ID: `entitlement rule "everyone" removed`}, reasons)
}
