package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/store"
)

// An auditor reads grants and audit events of the tenants given to them, and is refused
// everything else: requests, credentials, revocations and every configuration route.
func TestAuditorIsReadOnly(t *testing.T) {
	e := newEnv(t, withStubWorkflows)
	ctx := context.Background()
	tenantA := e.createTenant("Contoso")
	tenantB := e.createTenant("Northwind")
	appID := e.readyApplication(tenantA, "Entra")
	r := e.must(201, e.do("POST", "/v1/technicians", e.adminToken, map[string]any{"email": "auditor@msp.example", "display_name": "Auditor", "role": "auditor"}))
	auditorID, token := r.str("id"), r.str("token")
	require.Equal(t, "auditor", r.str("role"))
	require.NoError(t, e.store.SetAuditorTenants(ctx, auditorID, []string{tenantA}))
	require.NoError(t, e.store.RecordAudit(ctx, store.AuditEvent{TenantID: tenantB, Action: "test.b", Target: "x"}))

	allowed := map[string]bool{
		"GET /v1/audit-events": true, "GET /v1/access-requests": true, "GET /v1/access-requests/:grant_id": true,
		"GET /v1/me": true, "GET /v1/me/applications": true,
		"GET /v1/reports": true, "GET /v1/reports/kept": true, "GET /v1/reports/kept/:report_id": true,
		// Their own API tokens, like everyone's.
		"GET /v1/tokens": true, "POST /v1/tokens": true, "DELETE /v1/tokens/:token_id": true,
		// The extension: a code exchange (no bearer), its configuration, signing out of it.
		"POST /v1/extension/sessions": true, "GET /v1/extension/config": true, "DELETE /v1/extension/sessions/current": true,
	}
	params := strings.NewReplacer(":tenant_id", tenantA, ":application_id", appID, ":group_id", "grp_x", ":technician_id", auditorID,
		":entitlement_id", "ent_x", ":grant_id", "grt_missing", ":token_id", "tok_missing", ":report_id", "rep_missing", ":destination_id", "dst_missing")
	checked := 0
	for _, rt := range e.srv.Engine().Routes() {
		if !strings.HasPrefix(rt.Path, "/v1/") || strings.HasSuffix(rt.Path, "/slack/interactions") { // Slack signs its callback
			continue
		}
		var body any
		if rt.Method == "POST" || rt.Method == "PATCH" || rt.Method == "PUT" {
			body = map[string]any{}
		}
		res := e.do(rt.Method, params.Replace(rt.Path), token, body)
		if allowed[rt.Method+" "+rt.Path] {
			require.NotContains(t, []int{401, 403}, res.Status, "%s %s: %s", rt.Method, rt.Path, res.Body)
			require.Less(t, res.Status, 500, "%s %s: %s", rt.Method, rt.Path, res.Body)
		} else {
			require.Equal(t, 403, res.Status, "%s %s: %s", rt.Method, rt.Path, res.Body)
		}
		checked++
	}
	require.Greater(t, checked, 25)

	// A token never carries other rights than its holder's: no technician token for an auditor.
	res := e.do("POST", "/v1/tokens", token, map[string]any{"name": "sneaky", "role": "technician"})
	require.Equal(t, 400, res.Status, res.Body)

	// Audit events: their tenant's, never another's.
	for _, it := range e.must(200, e.do("GET", "/v1/audit-events", token, nil)).items() {
		require.Equal(t, tenantA, it["tenant_id"], it)
	}
	require.Empty(t, e.must(200, e.do("GET", "/v1/audit-events?tenant_id="+tenantB, token, nil)).items())
	require.NotEmpty(t, e.must(200, e.do("GET", "/v1/audit-events?tenant_id="+tenantB, e.adminToken, nil)).items())
}
