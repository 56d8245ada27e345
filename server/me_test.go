package server_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/server"
	"github.com/jitaccess/jitaccess/workflows"
)

// stubWorkflows stands in for the workflow engine where no grant is started: it makes the
// server serve the technicians' routes.
type stubWorkflows struct{}

var errNoEngine = errors.New("stub workflow engine")

func (stubWorkflows) Start(context.Context, workflows.AccessRequestInput) (string, string, error) {
	return "", "", errNoEngine
}

func (stubWorkflows) Revoke(context.Context, string, string, workflows.RevokeSignal) error {
	return errNoEngine
}

func (stubWorkflows) WaitClosed(context.Context, string, string) error { return nil }

func (stubWorkflows) Extend(context.Context, string, string, workflows.ExtendRequest) (workflows.ExtendResult, error) {
	return workflows.ExtendResult{}, errNoEngine
}

// withStubWorkflows serves every route without a Temporal server.
func withStubWorkflows(d *server.Deps) { d.Workflows = stubWorkflows{} }

func TestTechnicianRoutesNeedWorkflows(t *testing.T) {
	e := newEnv(t)
	_, token := e.createTechnician("alice@msp.example")
	require.Equal(t, 404, e.do("GET", "/v1/me", token, nil).Status)
	require.Equal(t, 404, e.do("POST", "/v1/access-requests", token, map[string]any{"application_id": "app_x"}).Status)
}

func TestMe(t *testing.T) {
	e := newEnv(t, withStubWorkflows)
	contoso := e.createTenant("Contoso")
	northwind := e.createTenant("Northwind")
	alice, aliceToken := e.createTechnician("alice@msp.example")
	bob, bobToken := e.createTechnician("bob@msp.example")
	e.must(204, e.do("PUT", "/v1/tenants/"+contoso+"/members/"+alice, e.adminToken, nil))
	e.must(204, e.do("PUT", "/v1/tenants/"+northwind+"/members/"+alice, e.adminToken, nil))
	e.must(204, e.do("PUT", "/v1/tenants/"+northwind+"/members/"+bob, e.adminToken, nil))

	entra := e.readyApplication(contoso, "Entra")
	pending := e.createApplication(contoso, "Not yet")
	unruled := e.readyApplication(contoso, "No rule")
	tier2 := e.must(201, e.do("POST", "/v1/tenants/"+contoso+"/groups", e.adminToken, map[string]any{"name": "Tier 2"})).str("id")
	e.must(204, e.do("PUT", "/v1/tenants/"+contoso+"/groups/"+tier2+"/members/"+alice, e.adminToken, nil))
	allRule := e.must(201, e.do("POST", "/v1/tenants/"+contoso+"/entitlements", e.adminToken, map[string]any{
		"name": "Everyone", "condition": map[string]any{"type": "group", "group_id": "all-admins"}, "application_id": entra})).str("id")
	e.must(201, e.do("POST", "/v1/tenants/"+contoso+"/entitlements", e.adminToken, map[string]any{
		"name": "Tier 2 only", "condition": map[string]any{"type": "group", "group_id": tier2}, "application_id": pending}))
	_ = unruled

	t.Run("who am I", func(t *testing.T) {
		r := e.must(200, e.do("GET", "/v1/me", aliceToken, nil))
		require.Equal(t, alice, r.str("id"))
		require.Equal(t, "alice@msp.example", r.str("email"))
		require.Equal(t, "technician", r.str("role"))
		require.Equal(t, []any{
			map[string]any{"id": contoso, "name": "Contoso"},
			map[string]any{"id": northwind, "name": "Northwind"},
		}, r.JSON["tenants"])

		r = e.must(200, e.do("GET", "/v1/me", e.adminToken, nil))
		require.Equal(t, "admin", r.str("role"))
		require.Equal(t, []any{}, r.JSON["tenants"])
	})

	t.Run("my applications", func(t *testing.T) {
		r := e.must(200, e.do("GET", "/v1/me/applications", aliceToken, nil))
		items := r.items()
		require.Len(t, items, 2, "the ready application and the one not ready yet; not the one without a rule")
		byName := map[string]map[string]any{}
		for _, it := range items {
			byName[it["name"].(string)] = it
		}
		require.Equal(t, map[string]any{
			"id": entra, "tenant_id": contoso, "tenant_name": "Contoso", "name": "Entra", "status": "ready",
			"access_duration": "4h0m0s", "domain": "contoso.com", "roles": []any{roleUserAdmin},
			"entitlement": map[string]any{"id": allRule, "name": "Everyone"},
		}, byName["Entra"])
		require.Equal(t, "unauthorized", byName["Not yet"]["status"])
		require.Nil(t, byName["Not yet"]["domain"])
		require.Equal(t, "Tier 2 only", byName["Not yet"]["entitlement"].(map[string]any)["name"])
		require.Nil(t, r.JSON["next_cursor"])

		// Bob works for Northwind only, where no rule exists.
		require.Empty(t, e.must(200, e.do("GET", "/v1/me/applications", bobToken, nil)).items())
		require.Empty(t, e.must(200, e.do("GET", "/v1/me/applications", e.adminToken, nil)).items())
	})

	t.Run("no token", func(t *testing.T) {
		require.Equal(t, 401, e.do("GET", "/v1/me", "", nil).Status)
		require.Equal(t, 401, e.do("GET", "/v1/me/applications", "", nil).Status)
	})
}
