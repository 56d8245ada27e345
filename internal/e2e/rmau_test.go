package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jitaccess/internal/demo"
)

// Issue #16 on the real stack (API, Temporal dev server, PostgreSQL, emulator): with
// restricted_admin_unit on, the JIT account lands in a restricted-management administrative
// unit; the tenant's admin cannot plant a method on the dormant account; the lifecycle (enable,
// roles, TAP, disable, re-enable) still works through the AU-scoped roles.
func TestRestrictedAdminUnitGrantLifecycle(t *testing.T) {
	s := newStack(t, stackOptions{})
	d := s.seed("10s", demo.RoleHelpdeskAdministrator)
	var app map[string]any
	path := "/v1/tenants/" + d.TenantID + "/applications/" + d.ApplicationID
	if code := s.call(d.AdminToken, http.MethodPatch, path, map[string]any{"restricted_admin_unit": true}, &app); code != http.StatusOK || app["restricted_admin_unit"] != true {
		t.Fatalf("enable restricted_admin_unit: %d %v", code, app)
	}

	var g grantView
	if code := s.call(d.TechnicianToken, http.MethodPost, "/v1/access-requests",
		map[string]any{"application_id": d.ApplicationID, "justification": "ticket 16"}, &g); code != http.StatusAccepted {
		t.Fatalf("request: %d %+v", code, g)
	}
	g = s.waitStatus(d.TechnicianToken, g.ID, "active", 90*time.Second)
	var cred credentials
	if code := s.call(d.TechnicianToken, http.MethodGet, "/v1/access-requests/"+g.ID+"/credentials", nil, &cred); code != http.StatusOK {
		t.Fatalf("credentials: %d", code)
	}
	u, ok := s.Sim.User("contoso", cred.UserPrincipalName)
	if !ok || !u.AccountEnabled || len(u.AdministrativeUnits) != 1 || len(u.RoleDefinitionIDs) != 1 {
		t.Fatalf("account in the directory: %+v", u)
	}
	if cred.TAP == "" || !hasMethod(u, "temporaryAccessPass") {
		t.Fatalf("no Temporary Access Pass: %+v", u.AuthMethods)
	}
	if aadsts := s.signIn(cred.UserPrincipalName, cred.Password); aadsts != "" {
		t.Fatalf("sign-in with the issued password failed: %s", aadsts)
	}

	s.waitStatus(d.TechnicianToken, g.ID, "expired", 90*time.Second)
	if u, _ := s.Sim.User("contoso", cred.UserPrincipalName); u.AccountEnabled || len(u.RoleDefinitionIDs) != 0 || hasMethod(u, "temporaryAccessPass") {
		t.Fatalf("after expiry: %+v", u)
	}
	// The tenant's admin tries to plant a FIDO2 key on the dormant account: refused.
	resp, err := http.Post(s.SimURL+"/_sim/tenants/contoso/users/"+url.PathEscape(cred.UserPrincipalName)+"/auth-methods",
		"application/json", strings.NewReader(`{"type":"fido2"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if u, _ := s.Sim.User("contoso", cred.UserPrincipalName); resp.StatusCode != http.StatusForbidden || hasMethod(u, "fido2") {
		t.Fatalf("out-of-band method on an RMAU member: %d %+v", resp.StatusCode, u.AuthMethods)
	}

	// The next grant re-enables the same account, still in the unit.
	var g2 grantView
	if code := s.call(d.TechnicianToken, http.MethodPost, "/v1/access-requests",
		map[string]any{"application_id": d.ApplicationID}, &g2); code != http.StatusAccepted {
		t.Fatalf("second request: %d", code)
	}
	s.waitStatus(d.TechnicianToken, g2.ID, "active", 90*time.Second)
	if u2, _ := s.Sim.User("contoso", cred.UserPrincipalName); !u2.AccountEnabled || len(u2.AdministrativeUnits) != 1 || u2.AdministrativeUnits[0] != u.AdministrativeUnits[0] {
		t.Fatalf("second grant: %+v", u2)
	}
}
