package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/server"
)

// TestVendorWalkthrough follows the vendor's "Elevated Entra ID access" text step by step:
// connect a tenant, create the Entra ID application, authorize, configure duration, domain
// and roles, save, and entitle it to All admins.
func TestVendorWalkthrough(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	// The MSP's customer tenant and a technician with access to it.
	tenantID := e.createTenant("Retail customer")
	techID, techToken := e.createTechnician("alice@msp.example")
	require.True(t, strings.HasPrefix(techToken, "jit_"))
	e.must(204, e.do("PUT", "/v1/tenants/"+tenantID+"/members/"+techID, e.adminToken, nil))

	// "Give application a name … Choose the application type Web … Choose Entra ID OIDC".
	appPath := ""
	{
		r := e.must(201, e.do("POST", "/v1/tenants/"+tenantID+"/applications", e.adminToken,
			map[string]any{"name": "Entra ID - retail customer", "type": "web", "credentials": "entra_oidc"}))
		require.Equal(t, "unauthorized", r.str("status"))
		require.Equal(t, "4h0m0s", r.str("access_duration"), "the default time is 4 hours")
		require.Equal(t, "web", r.str("type"))
		require.Equal(t, "entra_oidc", r.str("credentials"))
		require.Equal(t, map[string]any{"status": "unauthorized", "account": nil, "entra_tenant_id": nil, "authorized_at": nil}, r.JSON["authorization"])
		require.Nil(t, r.JSON["domain"])
		require.Equal(t, []any{}, r.JSON["roles"])
		appPath = "/v1/tenants/" + tenantID + "/applications/" + r.str("id")
	}

	// Domain and roles are checked against the tenant, so they need the authorization first.
	r := e.must(409, e.do("PATCH", appPath, e.adminToken, map[string]any{"domain": "contoso.com"}))
	require.Equal(t, "application_not_authorized", r.errorCode())
	e.must(409, e.do("GET", appPath+"/directory/domains", e.adminToken, nil))

	// "Click Authorize … authenticate with Entra ID admin account and grant permissions".
	r = e.must(200, e.do("POST", appPath+"/authorize", e.adminToken, map[string]any{"login_hint": "admin@contoso.onmicrosoft.com"}))
	authURL := r.str("authorize_url")
	require.Contains(t, authURL, "login_hint=admin%40contoso.onmicrosoft.com")
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	state := stateOf(t, authURL)
	page := e.do("GET", "/oauth/callback?code=code-"+state+"&state="+state, "", nil)
	require.Equal(t, 200, page.Status, "%s", page.Body)
	require.Contains(t, page.Header.Get("Content-Type"), "text/html")
	require.Contains(t, string(page.Body), "admin@contoso.onmicrosoft.com")
	require.Contains(t, string(page.Body), "Entra ID - retail customer")
	require.NotEmpty(t, page.Header.Get("Content-Security-Policy"))

	// "there will be a green checkbox … and we will show what account was used".
	r = e.must(200, e.do("GET", appPath, e.adminToken, nil))
	require.Equal(t, "authorized", r.str("status"))
	auth := r.JSON["authorization"].(map[string]any)
	require.Equal(t, "authorized", auth["status"])
	require.Equal(t, "admin@contoso.onmicrosoft.com", auth["account"])
	require.Equal(t, contosoTenantID, auth["entra_tenant_id"])
	require.NotEmpty(t, auth["authorized_at"])

	// The refresh token is stored (sealed) for the connector.
	appID := r.str("id")
	tid, rt, err := e.store.RefreshToken(ctx, appID)
	require.NoError(t, err)
	require.Equal(t, contosoTenantID, tid)
	require.Equal(t, "refresh-code-"+state, rt)

	// The domain picker and the role multi-select read the tenant live.
	r = e.must(200, e.do("GET", appPath+"/directory/domains", e.adminToken, nil))
	require.Nil(t, r.JSON["next_cursor"])
	domains := map[string]map[string]any{}
	for _, d := range r.items() {
		domains[d["id"].(string)] = d
	}
	require.Len(t, domains, 4)
	require.Equal(t, true, domains["contoso.com"]["supported"])
	require.Equal(t, true, domains["contoso.com"]["is_default"])
	require.Equal(t, false, domains["fabrikam-federated.com"]["supported"])
	require.Equal(t, "Federated", domains["fabrikam-federated.com"]["authentication_type"])
	require.Equal(t, false, domains["unverified.example"]["supported"])
	r = e.must(200, e.do("GET", appPath+"/directory/roles", e.adminToken, nil))
	require.Len(t, r.items(), 2)
	require.Equal(t, roleUserAdmin, r.items()[0]["id"])
	require.Equal(t, "User Administrator", r.items()[0]["display_name"])

	// "Choose how long you want the accounts to be enabled".
	r = e.must(200, e.do("PATCH", appPath, e.adminToken, map[string]any{"access_duration": "2h30m"}))
	require.Equal(t, "2h30m0s", r.str("access_duration"))
	for _, bad := range []string{"1m", "25h", "soon", "-1h"} {
		r = e.must(400, e.do("PATCH", appPath, e.adminToken, map[string]any{"access_duration": bad}))
		require.Equal(t, "invalid_duration", r.errorCode(), bad)
		require.Contains(t, r.errorMessage(), "access_duration")
	}

	// "We only support managed domains … we do not support federated domains".
	for domain, code := range map[string]string{
		"fabrikam-federated.com": "federated_domain_unsupported",
		"unverified.example":     "domain_not_verified",
		"nowhere.example":        "domain_not_found",
	} {
		r = e.must(400, e.do("PATCH", appPath, e.adminToken, map[string]any{"domain": domain}))
		require.Equal(t, code, r.errorCode(), domain)
	}
	r = e.must(400, e.do("PATCH", appPath, e.adminToken, map[string]any{"roles": []string{roleUserAdmin, "00000000-0000-0000-0000-000000000000"}}))
	require.Equal(t, "unknown_role", r.errorCode())
	require.Contains(t, r.errorMessage(), "00000000-0000-0000-0000-000000000000")
	// A refused PATCH changes nothing.
	r = e.must(200, e.do("GET", appPath, e.adminToken, nil))
	require.Nil(t, r.JSON["domain"])
	require.Equal(t, "authorized", r.str("status"))

	// "Enter the domain … Choose the roles … you can select multiple roles … Save".
	r = e.must(200, e.do("PATCH", appPath, e.adminToken, map[string]any{"domain": "CONTOSO.com", "roles": []string{roleUserAdmin, roleHelpdesk}}))
	require.Equal(t, "ready", r.str("status"))
	require.Equal(t, "contoso.com", r.str("domain"))
	require.Equal(t, []any{roleUserAdmin, roleHelpdesk}, r.JSON["roles"])

	// "Entitle Entra ID application to All admins group".
	r = e.must(200, e.do("GET", "/v1/tenants/"+tenantID+"/groups", e.adminToken, nil))
	all := r.items()[0]
	require.Equal(t, "all-admins", all["id"])
	require.Equal(t, "All admins", all["name"])
	require.Equal(t, []any{techID}, all["members"])
	r = e.must(201, e.do("POST", "/v1/tenants/"+tenantID+"/entitlements", e.adminToken, map[string]any{
		"name":           "Entra ID access for all admins",
		"condition":      map[string]any{"type": "group", "group_id": "all-admins"},
		"application_id": appID,
	}))
	require.Equal(t, map[string]any{"type": "group", "group_id": "all-admins"}, r.JSON["condition"])
	ruleID := r.str("id")
	r = e.must(200, e.do("GET", "/v1/tenants/"+tenantID+"/entitlements", e.adminToken, nil))
	require.Len(t, r.items(), 1)

	// "Now any technician who has access to this customer tenant will be able to request".
	ent, err := e.store.CheckEntitlement(ctx, tenantID, appID, techID)
	require.NoError(t, err)
	require.True(t, ent.Allowed, ent.Reason)
	require.Equal(t, ruleID, ent.RuleID)

	// Every configuration change and the authorization are in the audit log.
	actions := e.auditActions()
	for _, want := range []string{"tenant.created", "technician.created", "tenant.member_added", "application.created",
		"application.authorization_started", "application.authorized", "application.updated", "entitlement.created"} {
		require.Contains(t, actions, want)
	}
	r = e.must(200, e.do("GET", "/v1/audit-events?tenant_id="+tenantID, e.adminToken, nil))
	for _, ev := range r.items() {
		require.Equal(t, tenantID, ev["tenant_id"])
		require.NotContains(t, fmt.Sprint(ev), "refresh-code")
	}
}

func TestOAuthCallbackRefusals(t *testing.T) {
	e := newEnv(t)
	tenantID := e.createTenant("Contoso")
	appID := e.createApplication(tenantID, "Entra")
	appPath := "/v1/tenants/" + tenantID + "/applications/" + appID
	authorizedBefore := func() bool {
		r := e.must(200, e.do("GET", appPath, e.adminToken, nil))
		return r.JSON["authorization"].(map[string]any)["status"] == "authorized"
	}

	// Forged state.
	r := e.do("GET", "/oauth/callback?code=x&state=forged", "", nil)
	require.Equal(t, 400, r.Status)
	require.Contains(t, string(r.Body), "not one we issued")
	r = e.do("GET", "/oauth/callback?code=x", "", nil)
	require.Equal(t, 400, r.Status)
	require.False(t, authorizedBefore())

	// Entra reports an error: the state is spent, nothing stored.
	state := stateOf(t, e.must(200, e.do("POST", appPath+"/authorize", e.adminToken, nil)).str("authorize_url"))
	r = e.do("GET", "/oauth/callback?error=access_denied&error_description=<script>&state="+state, "", nil)
	require.Equal(t, 400, r.Status)
	require.Contains(t, string(r.Body), "declined")
	require.NotContains(t, string(r.Body), "<script>")
	r = e.do("GET", "/oauth/callback?code=code-"+state+"&state="+state, "", nil)
	require.Equal(t, 400, r.Status, "a state is single use")
	require.Contains(t, string(r.Body), "already used")
	require.False(t, authorizedBefore())

	// A code that does not redeem (wrong verifier / forged code).
	state = stateOf(t, e.must(200, e.do("POST", appPath+"/authorize", e.adminToken, nil)).str("authorize_url"))
	r = e.do("GET", "/oauth/callback?code=bogus&state="+state, "", nil)
	require.Equal(t, 502, r.Status)
	require.NotContains(t, string(r.Body), "secret-internal-detail")
	require.False(t, authorizedBefore())

	// Expired state.
	short := newEnv(t, func(d *server.Deps) { d.OAuthStateTTL = time.Millisecond })
	sTenant := short.createTenant("Contoso")
	sApp := short.createApplication(sTenant, "Entra")
	state = stateOf(t, short.must(200, short.do("POST", "/v1/tenants/"+sTenant+"/applications/"+sApp+"/authorize", short.adminToken, nil)).str("authorize_url"))
	time.Sleep(20 * time.Millisecond)
	r = short.do("GET", "/oauth/callback?code=code-"+state+"&state="+state, "", nil)
	require.Equal(t, 400, r.Status)
	require.Contains(t, string(r.Body), "expired")

	// Success, then a replay of the same callback stores nothing new.
	e.must(200, e.authorize(tenantID, appID))
	require.True(t, authorizedBefore())
	state = stateOf(t, e.must(200, e.do("POST", appPath+"/authorize", e.adminToken, nil)).str("authorize_url"))
	e.dir.account = "second-admin@contoso.onmicrosoft.com"
	require.Equal(t, 200, e.do("GET", "/oauth/callback?code=code-"+state+"&state="+state, "", nil).Status)
	e.dir.account = "attacker@contoso.onmicrosoft.com"
	require.Equal(t, 400, e.do("GET", "/oauth/callback?code=code-"+state+"&state="+state, "", nil).Status)
	r = e.must(200, e.do("GET", appPath, e.adminToken, nil))
	require.Equal(t, "second-admin@contoso.onmicrosoft.com", r.JSON["authorization"].(map[string]any)["account"], "re-authorizing replaces; replay does not")

	actions := e.auditActions()
	require.Contains(t, actions, "application.authorization_failed")
	require.Contains(t, actions, "application.authorization_refused")
}
