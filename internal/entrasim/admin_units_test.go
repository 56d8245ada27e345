package entrasim

import (
	"errors"
	"net/http"
	"testing"
)

var auScopes = append(append([]string{}, methodScopes...), "https://graph.microsoft.com/AdministrativeUnit.ReadWrite.All")

func assignAt(t *testing.T, e *env, tok, role, principal, scope string) (int, map[string]any) {
	t.Helper()
	st, _, body := e.do(http.MethodPost, "/v1.0/roleManagement/directory/roleAssignments", tok, map[string]any{
		"@odata.type": "#microsoft.graph.unifiedRoleAssignment", "roleDefinitionId": role, "principalId": principal,
		"directoryScopeId": scope})
	return st, body
}

func wantDenied(t *testing.T, what string, st int, body map[string]any) {
	t.Helper()
	if c, _ := errCode(body); st != http.StatusForbidden || c != "Authorization_RequestDenied" {
		t.Fatalf("%s: got %d %v, want 403 Authorization_RequestDenied", what, st, body)
	}
}

func TestRestrictedAdministrativeUnit(t *testing.T) {
	e := newEnv(t, Options{AutoConsent: true})
	tok := e.userToken("contoso.onmicrosoft.com", ContosoAdminUPN, auScopes...).AccessToken
	jit := newTestUser(t, e, tok, "jit-bob@contoso.com")
	other := newTestUser(t, e, tok, "plain-carol@contoso.com")

	// Create: isMemberManagementRestricted is set at creation and immutable afterwards.
	st, _, au := e.do(http.MethodPost, "/v1.0/directory/administrativeUnits", tok, map[string]any{
		"displayName": "jitaccess JIT accounts", "isMemberManagementRestricted": true})
	if st != http.StatusCreated || au["isMemberManagementRestricted"] != true {
		t.Fatalf("create AU: %d %v", st, au)
	}
	auID := au["id"].(string)
	if st, _, b := e.do(http.MethodPatch, "/v1.0/directory/administrativeUnits/"+auID, tok,
		map[string]any{"isMemberManagementRestricted": false}); st != http.StatusBadRequest {
		t.Fatalf("patch restriction: %d %v", st, b)
	}
	if st, _, b := e.do(http.MethodPost, "/v1.0/directory/administrativeUnits", tok, map[string]any{"displayName": "x", "bogus": 1}); st != http.StatusBadRequest {
		t.Fatalf("unknown property: %d %v", st, b)
	}
	if st, _, b := e.do(http.MethodGet, "/v1.0/directory/administrativeUnits/"+auID, tok, nil); st != http.StatusOK || b["displayName"] != "jitaccess JIT accounts" {
		t.Fatalf("get AU: %d %v", st, b)
	}

	// A token without AdministrativeUnit.ReadWrite.All cannot create units.
	plain := e.userToken("contoso.onmicrosoft.com", ContosoAdminUPN, methodScopes...).AccessToken
	if st, _, b := e.do(http.MethodPost, "/v1.0/directory/administrativeUnits", plain, map[string]any{"displayName": "y"}); st != http.StatusForbidden {
		t.Fatalf("create without scope: %d %v", st, b)
	}

	// Members: add once; a second add is a conflict; the list shows the user.
	ref := map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/users/" + jit}
	if st, _, b := e.do(http.MethodPost, "/v1.0/directory/administrativeUnits/"+auID+"/members/$ref", tok, ref); st != http.StatusNoContent {
		t.Fatalf("add member: %d %v", st, b)
	}
	if st, _, b := e.do(http.MethodPost, "/v1.0/directory/administrativeUnits/"+auID+"/members/$ref", tok, ref); st != http.StatusBadRequest {
		t.Fatalf("add member twice: %d %v", st, b)
	}
	st, _, list := e.do(http.MethodGet, "/v1.0/directory/administrativeUnits/"+auID+"/members", tok, nil)
	if vals, _ := list["value"].([]any); st != http.StatusOK || len(vals) != 1 || vals[0].(map[string]any)["id"] != jit {
		t.Fatalf("members: %d %v", st, list)
	}
	if st, _, b := e.do(http.MethodGet, "/v1.0/users/"+jit+"?$select=id,isManagementRestricted", tok, nil); st != http.StatusOK || b["isManagementRestricted"] != true {
		t.Fatalf("isManagementRestricted: %d %v", st, b)
	}
	if _, _, b := e.do(http.MethodGet, "/v1.0/users/"+jit, tok, nil); b["isManagementRestricted"] != nil {
		t.Fatalf("isManagementRestricted is $select-only, got %v", b)
	}

	// A tenant-scoped Global Administrator can no longer modify the member.
	st, _, b := e.do(http.MethodPatch, "/v1.0/users/"+jit, tok, map[string]any{"displayName": "changed"})
	wantDenied(t, "GA patch", st, b)
	st, _, b = e.do(http.MethodPatch, "/v1.0/users/"+jit, tok, map[string]any{"accountEnabled": false})
	wantDenied(t, "GA disable", st, b)
	st, _, b = e.do(http.MethodPost, "/v1.0/users/"+jit+"/authentication/temporaryAccessPassMethods", tok, map[string]any{"lifetimeInMinutes": 60})
	wantDenied(t, "GA TAP", st, b)
	st, _, b = e.do(http.MethodDelete, "/v1.0/users/"+jit, tok, nil)
	wantDenied(t, "GA delete", st, b)
	// The out-of-band "tenant admin adds a method" path is refused too, in Go and over HTTP.
	if _, err := e.sim.AddAuthMethod(ContosoTenant, jit, "phone"); !errors.Is(err, ErrManagementRestricted) {
		t.Fatalf("AddAuthMethod on RMAU member: %v", err)
	}
	st, _, b = e.do(http.MethodPost, "/_sim/tenants/contoso/users/"+jit+"/auth-methods", "", map[string]any{"type": "fido2"})
	wantDenied(t, "_sim add method", st, b)
	if v, _ := e.sim.User(ContosoTenant, jit); len(v.AuthMethods) != 1 || len(v.AdministrativeUnits) != 1 {
		t.Fatalf("view after refusals: %+v", v)
	}
	// Non-members are unaffected.
	if st, _, b := e.do(http.MethodPatch, "/v1.0/users/"+other, tok, map[string]any{"displayName": "fine"}); st != http.StatusNoContent {
		t.Fatalf("patch non-member: %d %v", st, b)
	}
	if _, err := e.sim.AddAuthMethod(ContosoTenant, other, "phone"); err != nil {
		t.Fatal(err)
	}

	// Only AU-assignable roles at the unit's scope; Global Administrator gets Microsoft's 400.
	st, b = assignAt(t, e, tok, roleGlobalAdmin, ContosoAdminID, "/administrativeUnits/"+auID)
	if oe, _ := b["odata.error"].(map[string]any); st != http.StatusBadRequest || oe["code"] != "Request_BadRequest" {
		t.Fatalf("GA at AU scope: %d %v", st, b)
	}
	if st, b := assignAt(t, e, tok, rolePrivilegedAuthAdmin, ContosoAdminID, "/administrativeUnits/"+newGUID()); st != http.StatusBadRequest {
		t.Fatalf("unknown AU scope: %d %v", st, b)
	}
	// Authentication Administrator at the AU scope: methods yes, properties no.
	if st, b := assignAt(t, e, tok, roleAuthAdmin, ContosoAdminID, "/administrativeUnits/"+auID); st != http.StatusCreated || b["directoryScopeId"] != "/administrativeUnits/"+auID {
		t.Fatalf("auth admin at AU: %d %v", st, b)
	}
	if st, _, b := e.do(http.MethodPost, "/v1.0/users/"+jit+"/authentication/temporaryAccessPassMethods", tok, map[string]any{"lifetimeInMinutes": 60}); st != http.StatusCreated {
		t.Fatalf("TAP with AU-scoped auth admin: %d %v", st, b)
	}
	st, _, b = e.do(http.MethodPatch, "/v1.0/users/"+jit, tok, map[string]any{"accountEnabled": false})
	wantDenied(t, "disable with AU-scoped auth admin only", st, b)
	// An AU-scoped role is not a tenant role: the admin's tenant-wide rights are unchanged elsewhere.
	if v, _ := e.sim.User(ContosoTenant, ContosoAdminUPN); len(v.RoleDefinitionIDs) != 2 {
		t.Fatalf("admin roles: %v", v.RoleDefinitionIDs)
	}

	// Once the JIT account holds a tenant role (a grant), only Privileged Authentication
	// Administrator at the AU scope may disable it; nobody may reset a Global Administrator's password.
	if st, b := assignAt(t, e, tok, roleGlobalAdmin, jit, "/"); st != http.StatusCreated {
		t.Fatalf("grant GA: %d %v", st, b)
	}
	if st, b := assignAt(t, e, tok, roleUserAdmin, ContosoAdminID, "/administrativeUnits/"+auID); st != http.StatusCreated {
		t.Fatalf("user admin at AU: %d %v", st, b)
	}
	st, _, b = e.do(http.MethodPatch, "/v1.0/users/"+jit, tok, map[string]any{"accountEnabled": false})
	wantDenied(t, "disable admin with AU-scoped user admin", st, b)
	if st, b := assignAt(t, e, tok, rolePrivilegedAuthAdmin, ContosoAdminID, "/administrativeUnits/"+auID); st != http.StatusCreated {
		t.Fatalf("PAA at AU: %d %v", st, b)
	}
	if st, _, b := e.do(http.MethodPatch, "/v1.0/users/"+jit, tok, map[string]any{"accountEnabled": false}); st != http.StatusNoContent {
		t.Fatalf("disable with AU-scoped PAA: %d %v", st, b)
	}
	st, _, b = e.do(http.MethodPatch, "/v1.0/users/"+jit, tok, map[string]any{"passwordProfile": map[string]any{"password": "Xy7-other-passw0rd"}})
	wantDenied(t, "password of a GA in an RMAU", st, b)

	// App-only: application permissions do not apply; the service principal needs an AU-scoped role.
	app := e.appToken(ContosoTenantID)
	st, _, b = e.do(http.MethodPatch, "/v1.0/users/"+other, app, map[string]any{"displayName": "app ok"})
	if st != http.StatusNoContent {
		t.Fatalf("app patch non-member: %d %v", st, b)
	}
	if st, b := assignAt(t, e, tok, roleGlobalAdmin, jit, "/"); st != http.StatusBadRequest {
		t.Fatalf("duplicate: %d %v", st, b)
	}
	jit2 := newTestUser(t, e, tok, "jit-dave@contoso.com")
	if st, _, b := e.do(http.MethodPost, "/v1.0/directory/administrativeUnits/"+auID+"/members/$ref", tok,
		map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + jit2}); st != http.StatusNoContent {
		t.Fatalf("add member 2: %d %v", st, b)
	}
	st, _, b = e.do(http.MethodPatch, "/v1.0/users/"+jit2, app, map[string]any{"accountEnabled": false})
	wantDenied(t, "app disable without AU role", st, b)
	if st, b := assignAt(t, e, tok, rolePrivilegedAuthAdmin, servicePrincipalID(ContosoTenantID), "/administrativeUnits/"+auID); st != http.StatusCreated {
		t.Fatalf("PAA for the SP at AU: %d %v", st, b)
	}
	if st, _, b := e.do(http.MethodPatch, "/v1.0/users/"+jit2, app, map[string]any{"accountEnabled": false}); st != http.StatusNoContent {
		t.Fatalf("app disable with AU-scoped PAA: %d %v", st, b)
	}

	// Removing the member lifts the restriction.
	if st, _, b := e.do(http.MethodDelete, "/v1.0/directory/administrativeUnits/"+auID+"/members/"+jit2+"/$ref", tok, nil); st != http.StatusNoContent {
		t.Fatalf("remove member: %d %v", st, b)
	}
	if _, err := e.sim.AddAuthMethod(ContosoTenant, jit2, "phone"); err != nil {
		t.Fatalf("AddAuthMethod after removal: %v", err)
	}
}
