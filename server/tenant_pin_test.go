package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A consent from another Entra tenant than the one the application is pinned to is refused
// with tenant_mismatch naming both, and changes nothing (issue #15 finding 2).
func TestConsentFromAnotherTenantIsRefused(t *testing.T) {
	e := newEnv(t)
	tenant := e.createTenant("Contoso")
	appID := e.readyApplication(tenant, "Entra ID - Contoso")

	const northwind = "22222222-2222-2222-2222-222222222222"
	e.dir.mu.Lock()
	e.dir.tenantID, e.dir.account = northwind, "admin@northwind.onmicrosoft.com"
	e.dir.mu.Unlock()
	r := e.authorize(tenant, appID)
	require.Equal(t, http.StatusBadRequest, r.Status)
	page := string(r.Body)
	require.Contains(t, page, "tenant_mismatch")
	require.Contains(t, page, contosoTenantID)
	require.Contains(t, page, northwind)

	app := e.must(200, e.do("GET", fmt.Sprintf("/v1/tenants/%s/applications/%s", tenant, appID), e.adminToken, nil))
	require.Equal(t, "ready", app.str("status"))
	auth, _ := app.JSON["authorization"].(map[string]any)
	require.Equal(t, contosoTenantID, auth["entra_tenant_id"])
	require.Equal(t, "admin@contoso.onmicrosoft.com", auth["account"])
	require.True(t, strings.Contains(strings.Join(e.auditActions(), ","), "application.authorization_refused"))
}
