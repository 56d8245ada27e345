package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/store"
)

// An admin makes members of staff auditors of some tenants (or all) through the API; the
// auditor's reads follow; a technician becomes an auditor only without live grants and loses
// their old tokens; admins and oneself are refused; every change is an audit event.
func TestAuditorTenantsAssignment(t *testing.T) {
	e := newEnv(t, withStubWorkflows)
	ctx := context.Background()
	tenantA := e.createTenant("Contoso")
	tenantB := e.createTenant("Northwind")
	require.NoError(t, e.store.RecordAudit(ctx, store.AuditEvent{TenantID: tenantA, Action: "test.a", Target: "x"}))
	require.NoError(t, e.store.RecordAudit(ctx, store.AuditEvent{TenantID: tenantB, Action: "test.b", Target: "y"}))
	r := e.must(201, e.do("POST", "/v1/technicians", e.adminToken, map[string]any{"email": "auditor@msp.example", "display_name": "Auditor", "role": "auditor"}))
	auditorID, auditorToken := r.str("id"), r.str("token")
	path := "/v1/technicians/" + auditorID + "/auditor-tenants"

	tenantsSeen := func(token string) map[string]bool {
		seen := map[string]bool{}
		for _, tn := range []string{tenantA, tenantB} {
			for _, it := range e.must(200, e.do("GET", "/v1/audit-events?tenant_id="+tn, token, nil)).items() {
				seen[it["tenant_id"].(string)] = true
			}
		}
		return seen
	}
	// Given nothing yet: sees nothing.
	require.Empty(t, tenantsSeen(auditorToken))
	got := e.must(200, e.do("GET", path, e.adminToken, nil))
	require.Equal(t, false, got.JSON["all_tenants"])
	require.Empty(t, got.JSON["tenant_ids"])

	e.must(200, e.do("PUT", path, e.adminToken, map[string]any{"tenant_ids": []string{tenantA}}))
	require.Equal(t, map[string]bool{tenantA: true}, tenantsSeen(auditorToken))
	require.Equal(t, []any{tenantA}, e.must(200, e.do("GET", path, e.adminToken, nil)).JSON["tenant_ids"])

	e.must(200, e.do("PUT", path, e.adminToken, map[string]any{"all_tenants": true}))
	require.Equal(t, map[string]bool{tenantA: true, tenantB: true}, tenantsSeen(auditorToken))
	require.Equal(t, true, e.must(200, e.do("GET", path, e.adminToken, nil)).JSON["all_tenants"])

	e.must(200, e.do("PUT", path, e.adminToken, map[string]any{"tenant_ids": []string{tenantB}}))
	require.Equal(t, map[string]bool{tenantB: true}, tenantsSeen(auditorToken))

	// Bad input and refusals.
	require.Equal(t, "invalid_field", e.do("PUT", path, e.adminToken, map[string]any{"tenant_ids": []string{"tnt_missing"}}).errorCode())
	require.Equal(t, "invalid_field", e.do("PUT", path, e.adminToken, map[string]any{"tenant_ids": []string{"*"}}).errorCode())
	require.Equal(t, "invalid_field", e.do("PUT", path, e.adminToken, map[string]any{"all_tenants": true, "tenant_ids": []string{tenantA}}).errorCode())
	require.Equal(t, "cannot_change_self", e.do("PUT", "/v1/technicians/"+e.admin.ID+"/auditor-tenants", e.adminToken, map[string]any{"tenant_ids": []string{tenantA}}).errorCode())
	other := e.must(201, e.do("POST", "/v1/technicians", e.adminToken, map[string]any{"email": "admin2@msp.example", "display_name": "Admin 2", "role": "admin"}))
	require.Equal(t, "is_admin", e.do("PUT", "/v1/technicians/"+other.str("id")+"/auditor-tenants", e.adminToken, map[string]any{"tenant_ids": []string{tenantA}}).errorCode())
	require.Equal(t, 404, e.do("PUT", "/v1/technicians/tec_missing/auditor-tenants", e.adminToken, map[string]any{"tenant_ids": []string{tenantA}}).Status)
	require.Equal(t, 403, e.do("PUT", path, auditorToken, map[string]any{"all_tenants": true}).Status)

	// A technician becomes an auditor: not while they hold access; then their old token ends.
	techID, techToken := e.createTechnician("tech@msp.example")
	require.Equal(t, 403, e.do("GET", "/v1/audit-events", techToken, nil).Status)
	require.Equal(t, 403, e.do("PUT", path, techToken, map[string]any{"all_tenants": true}).Status)
	appID := e.readyApplication(tenantA, "Entra")
	pg, err := e.store.CreatePendingGrant(ctx, store.PendingGrant{WorkflowID: "access/" + tenantA + "/" + appID + "/" + techID,
		TenantID: tenantA, ApplicationID: appID, TechnicianID: techID, Justification: "work", RequestedAt: time.Now()})
	require.NoError(t, err)
	techPath := "/v1/technicians/" + techID + "/auditor-tenants"
	require.Equal(t, "live_grants", e.do("PUT", techPath, e.adminToken, map[string]any{"tenant_ids": []string{tenantA}}).errorCode())
	require.NoError(t, e.store.RecordTransition(ctx, store.GrantUpdate{GrantID: pg.ID, Status: "denied", EndedAt: time.Now()}, nil))
	e.must(200, e.do("PUT", techPath, e.adminToken, map[string]any{"tenant_ids": []string{tenantA}}))
	require.Equal(t, 401, e.do("GET", "/v1/me", techToken, nil).Status, "the technician's token outlived their role")
	tech, err := e.store.Technician(ctx, techID)
	require.NoError(t, err)
	require.Equal(t, store.RoleAuditor, tech.Role)

	var sets []store.AuditEvent
	evs, _, err := e.store.AuditEvents(ctx, store.AuditFilter{}, store.Page{Limit: store.MaxLimit})
	require.NoError(t, err)
	for _, ev := range evs {
		if ev.Action == "technician.auditor_tenants_set" {
			sets = append(sets, ev)
		}
	}
	require.Len(t, sets, 4)
	require.Equal(t, techID, sets[0].Target) // newest first
	require.Equal(t, "technician", sets[0].Details["previous_role"])
	require.Equal(t, e.admin.ID, sets[0].ActorID)
}
