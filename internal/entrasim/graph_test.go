package entrasim

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

const testPassword = "Tech-Passw0rd-1"

func newUser(upn, password string) *models.User {
	u := models.NewUser()
	u.SetAccountEnabled(ptr(true))
	u.SetDisplayName(ptr("Test " + upn))
	u.SetMailNickname(ptr(strings.ReplaceAll(strings.Split(upn, "@")[0], ".", "_")))
	u.SetUserPrincipalName(ptr(upn))
	pp := models.NewPasswordProfile()
	pp.SetPassword(ptr(password))
	pp.SetForceChangePasswordNextSignIn(ptr(false))
	u.SetPasswordProfile(pp)
	return u
}

func createTestUser(t *testing.T, client *msgraphsdk.GraphServiceClient, upn string) models.Userable {
	t.Helper()
	u, err := client.Users().Post(context.Background(), newUser(upn, testPassword), nil)
	if err != nil {
		t.Fatalf("create %s: %v", upn, err)
	}
	return u
}

func newAssignment(roleID, principalID string) *models.UnifiedRoleAssignment {
	ra := models.NewUnifiedRoleAssignment()
	ra.SetRoleDefinitionId(ptr(roleID))
	ra.SetPrincipalId(ptr(principalID))
	ra.SetDirectoryScopeId(ptr("/"))
	return ra
}

func TestCreateUserRules(t *testing.T) {
	e := newEnv(t, Options{AutoConsent: true})
	client, _ := e.graph(e.userToken(ContosoTenantID, "").AccessToken)
	ctx := context.Background()

	created, err := client.Users().Post(ctx, newUser("alice@contoso.com", testPassword), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !isGUID(*created.GetId()) || *created.GetUserPrincipalName() != "alice@contoso.com" || created.GetBusinessPhones() == nil {
		t.Fatalf("created %v", created.GetId())
	}
	for _, tc := range []struct {
		name     string
		user     *models.User
		code     string
		message  string
		detail   string // details[0].code
		detailTg string
	}{
		{"duplicate UPN (case-insensitive)", newUser("ALICE@contoso.com", testPassword), "Request_BadRequest", msgDupUPN, "ObjectConflict", "userPrincipalName"},
		{"unverified domain", newUser("bob@unverified.example", testPassword), "Request_BadRequest", msgBadDomain, "", ""},
		{"unknown domain", newUser("bob@northwind.onmicrosoft.com", testPassword), "Request_BadRequest", msgBadDomain, "", ""},
		{"federated domain without immutable id", newUser("bob@fabrikam-federated.com", testPassword), "Request_BadRequest", "Property onPremisesImmutableId is required when creating a user in a federated domain.", "InvalidValue", "onPremisesImmutableId"},
		{"dot before @", newUser("bob.@contoso.com", testPassword), "Request_BadRequest", msgBadUPN, "InvalidValue", "userPrincipalName"},
		{"forbidden character", newUser("bob+x@contoso.com", testPassword), "Request_BadRequest", msgBadUPN, "InvalidValue", "userPrincipalName"},
		{"space", newUser("bob x@contoso.com", testPassword), "Request_BadRequest", msgBadUPN, "InvalidValue", "userPrincipalName"},
		{"no @", newUser("bob.contoso.com", testPassword), "Request_BadRequest", msgBadUPN, "InvalidValue", "userPrincipalName"},
		{"local part over 64", newUser(strings.Repeat("a", 65)+"@contoso.com", testPassword), "Request_BadRequest", msgBadUPN, "InvalidValue", "userPrincipalName"},
		{"password too short", newUser("bob@contoso.com", "Ab1!xyz"), "Request_BadRequest", msgWeakPassword, "", ""},
		{"password two classes", newUser("bob@contoso.com", "abcdefgh123"), "Request_BadRequest", msgWeakPassword, "", ""},
		{"password non-ASCII", newUser("bob@contoso.com", "Pässwörd-123"), "Request_BadRequest", msgWeakPassword, "", ""},
		{"password over 256", newUser("bob@contoso.com", "Aa1-"+strings.Repeat("x", 253)), "Request_BadRequest", msgWeakPassword, "", ""},
		{"bad mailNickname", func() *models.User {
			u := newUser("bob@contoso.com", testPassword)
			u.SetMailNickname(ptr("bob smith"))
			return u
		}(), "Request_BadRequest", "Invalid value specified for property 'mailNickname' of resource 'User'.", "", ""},
		{"missing password", func() *models.User {
			u := newUser("bob@contoso.com", testPassword)
			u.SetPasswordProfile(nil)
			return u
		}(), "Request_BadRequest", "A password must be specified to create a new user.", "", ""},
		{"missing accountEnabled", func() *models.User {
			u := newUser("bob@contoso.com", testPassword)
			u.SetAccountEnabled(nil)
			return u
		}(), "Request_BadRequest", "Invalid value specified for property 'accountEnabled' of resource 'User'.", "", ""},
		{"missing displayName", func() *models.User {
			u := newUser("bob@contoso.com", testPassword)
			u.SetDisplayName(nil)
			return u
		}(), "Request_BadRequest", "Invalid value specified for property 'displayName' of resource 'User'.", "", ""},
		{"missing mailNickname", func() *models.User {
			u := newUser("bob@contoso.com", testPassword)
			u.SetMailNickname(nil)
			return u
		}(), "Request_BadRequest", "Invalid value specified for property 'mailNickname' of resource 'User'.", "", ""},
		{"unknown property", func() *models.User {
			u := newUser("bob@contoso.com", testPassword)
			u.SetAdditionalData(map[string]any{"favouriteColour": ptr("blue")})
			return u
		}(), "BadRequest", "The property 'favouriteColour' does not exist on type 'microsoft.graph.user'. Make sure to only use property names that are defined by the type or mark the type as open type.", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.Users().Post(ctx, tc.user, nil)
			st, code, msg, oe := odata(t, err)
			if st != 400 || code != tc.code || msg != tc.message {
				t.Fatalf("got %d %s %q", st, code, msg)
			}
			if tc.detail != "" {
				d := oe.GetErrorEscaped().GetDetails()
				if len(d) != 1 || *d[0].GetCode() != tc.detail || *d[0].GetTarget() != tc.detailTg {
					t.Fatalf("details %v", d)
				}
			}
		})
	}
	// Passwords with every allowed symbol class, and a managed custom domain with an immutable id.
	for _, upn := range []string{"o'brien@contoso.com", "a.b-c_d!e#f^g~h@contoso.onmicrosoft.com"} {
		if _, err := client.Users().Post(ctx, newUser(upn, `Aa1 @#$%^&*-_!+=[]{}|\:',.?/`+"`~\"();<>"), nil); err != nil {
			t.Fatalf("%s: %v", upn, err)
		}
	}
	fed := newUser("carol@fabrikam-federated.com", testPassword)
	fed.SetOnPremisesImmutableId(ptr("carol-immutable"))
	if _, err := client.Users().Post(ctx, fed, nil); err != nil {
		t.Fatal(err)
	}
	// Bad JSON and a missing Content-Type.
	tok := e.userToken(ContosoTenantID, "").AccessToken
	for _, body := range []string{"{", "[]", `{"accountEnabled":"yes"}`} {
		st, _, m := e.do("POST", "/v1.0/users", tok, body)
		if c, _ := errCode(m); st != 400 || (c != "BadRequest" && c != "Request_BadRequest") {
			t.Fatalf("%s: %d %v", body, st, m)
		}
	}
	req, _ := http.NewRequest("POST", e.ts.URL+"/v1.0/users", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("no content type: %d", resp.StatusCode)
	}
}

func TestUserReadUpdateDelete(t *testing.T) {
	e := newEnv(t, Options{AutoConsent: true})
	tok := e.userToken(ContosoTenantID, "").AccessToken
	client, _ := e.graph(tok)
	ctx := context.Background()
	u := createTestUser(t, client, "dave@contoso.com")
	id := *u.GetId()

	// By id and by UPN; default property set; $select.
	for _, ref := range []string{id, "dave@contoso.com", "DAVE@contoso.com"} {
		got, err := client.Users().ByUserId(ref).Get(ctx, nil)
		if err != nil || *got.GetId() != id {
			t.Fatalf("%s: %v", ref, err)
		}
		if got.GetAccountEnabled() != nil {
			t.Fatal("accountEnabled is not in the default property set")
		}
	}
	st, _, m := e.do("GET", "/v1.0/users/dave@contoso.com", tok, nil)
	if st != 200 || len(m) != 12 || m["@odata.context"] != "https://graph.microsoft.com/v1.0/$metadata#users/$entity" {
		t.Fatalf("default set: %d %v", st, m)
	}
	got, err := client.Users().ByUserId(id).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: []string{"id", "accountEnabled", "createdDateTime"}}})
	if err != nil || got.GetAccountEnabled() == nil || !*got.GetAccountEnabled() || got.GetCreatedDateTime() == nil || got.GetDisplayName() != nil {
		t.Fatalf("$select: %v", err)
	}
	if st, _, m := e.do("GET", "/v1.0/users/"+id+"?$select=id,nope", tok, nil); st != 400 {
		t.Fatalf("bad $select: %d %v", st, m)
	}
	// $filter on the collection.
	list, err := client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Filter: ptr("userPrincipalName eq 'dave@contoso.com'")}})
	if err != nil || len(list.GetValue()) != 1 {
		t.Fatalf("$filter: %v", err)
	}

	// PATCH: disable and reset the password → 204.
	patch := models.NewUser()
	patch.SetAccountEnabled(ptr(false))
	pp := models.NewPasswordProfile()
	pp.SetPassword(ptr("New-Passw0rd-2"))
	pp.SetForceChangePasswordNextSignIn(ptr(false))
	patch.SetPasswordProfile(pp)
	e.clock.Advance(time.Minute)
	if _, err := client.Users().ByUserId(id).Patch(ctx, patch, nil); err != nil {
		t.Fatal(err)
	}
	v, _ := e.sim.User("contoso", id)
	if v.AccountEnabled || !v.PasswordChangedAt.Equal(e.clock.Now()) {
		t.Fatalf("patch not applied: %+v", v)
	}
	weak := models.NewUser()
	wp := models.NewPasswordProfile()
	wp.SetPassword(ptr("weak"))
	weak.SetPasswordProfile(wp)
	_, err = client.Users().ByUserId(id).Patch(ctx, weak, nil)
	if _, code, msg, _ := odata(t, err); code != "Request_BadRequest" || msg != msgWeakPassword {
		t.Fatal(code, msg)
	}

	// revokeSignInSessions → 200 Edm.Boolean.
	e.clock.Advance(time.Minute)
	st, _, m = e.do("POST", "/v1.0/users/"+id+"/revokeSignInSessions", tok, nil)
	if st != 200 || m["value"] != true || m["@odata.context"] != "https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean" {
		t.Fatalf("revoke: %d %v", st, m)
	}
	if v, _ := e.sim.User("contoso", id); !v.SignInSessionsValidFrom.Equal(e.clock.Now()) {
		t.Fatal("signInSessionsValidFrom not reset")
	}
	res, err := client.Users().ByUserId(id).RevokeSignInSessions().PostAsRevokeSignInSessionsPostResponse(ctx, nil)
	if err != nil || !*res.GetValue() {
		t.Fatalf("sdk revoke: %v", err)
	}

	// DELETE → 204, then 404 with the documented body everywhere.
	if err := client.Users().ByUserId(id).Delete(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, call := range []func() error{
		func() error { _, err := client.Users().ByUserId(id).Get(ctx, nil); return err },
		func() error { return client.Users().ByUserId(id).Delete(ctx, nil) },
		func() error { _, err := client.Users().ByUserId(id).Patch(ctx, patch, nil); return err },
		func() error {
			_, err := client.Users().ByUserId(id).RevokeSignInSessions().PostAsRevokeSignInSessionsPostResponse(ctx, nil)
			return err
		},
	} {
		st, code, msg, _ := odata(t, call())
		want := fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)
		if st != 404 || code != "Request_ResourceNotFound" || msg != want {
			t.Fatalf("%d %s %s", st, code, msg)
		}
	}
	st, hdr, m := e.do("GET", "/v1.0/users/nobody@contoso.com", tok, nil, "client-request-id", "my-crid")
	inner, _ := m["error"].(map[string]any)["innerError"].(map[string]any)
	if st != 404 || hdr.Get("request-id") == "" || hdr.Get("client-request-id") != "my-crid" || hdr.Get("OData-Version") != "4.0" ||
		hdr.Get("Content-Type") != graphContentType || inner["client-request-id"] != "my-crid" || inner["request-id"] != hdr.Get("request-id") ||
		len(inner["date"].(string)) != len("2018-05-08T04:49:55") {
		t.Fatalf("404 shape: %v %v", hdr, m)
	}
}

func TestDomainsAndOrganization(t *testing.T) {
	e := newEnv(t, Options{AutoConsent: true})
	client, _ := e.graph(e.userToken(ContosoTenantID, "").AccessToken)
	ctx := context.Background()
	ds, err := client.Domains().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"contoso.onmicrosoft.com": "Managed true true false", "contoso.com": "Managed true false true",
		"fabrikam-federated.com": "Federated true false false", "unverified.example": "Managed false false false"}
	if len(ds.GetValue()) != len(want) {
		t.Fatalf("%d domains", len(ds.GetValue()))
	}
	for _, d := range ds.GetValue() {
		got := fmt.Sprintf("%s %v %v %v", *d.GetAuthenticationType(), *d.GetIsVerified(), *d.GetIsInitial(), *d.GetIsDefault())
		if want[*d.GetId()] != got {
			t.Fatalf("%s: %s", *d.GetId(), got)
		}
	}
	d, err := client.Domains().ByDomainId("contoso.com").Get(ctx, nil)
	if err != nil || !*d.GetIsDefault() {
		t.Fatal(err)
	}
	_, err = client.Domains().ByDomainId("northwind.onmicrosoft.com").Get(ctx, nil)
	if st, code, _, _ := odata(t, err); st != 404 || code != "Request_ResourceNotFound" {
		t.Fatal(st, code)
	}
	org, err := client.Organization().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := org.GetValue()[0]
	if *o.GetTenantType() != "AAD" || *o.GetDisplayName() != "Contoso" || len(o.GetVerifiedDomains()) != 3 {
		t.Fatalf("org %v", *o.GetDisplayName())
	}
}

func TestGraphAuthentication(t *testing.T) {
	e := newEnv(t, Options{AutoConsent: true})
	good := e.userToken(ContosoTenantID, "")
	for _, tc := range []struct {
		name, auth, msg string
	}{
		{"missing", "", "Access token is empty."},
		{"garbage", "Bearer garbage", "IDX14100"},
		{"forged signature", "Bearer " + good.AccessToken[:len(good.AccessToken)-4] + "AAAA", "Invalid signature"},
		{"wrong scheme", "Basic " + good.AccessToken, "Access token is empty."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, hdr, m := e.do("GET", "/v1.0/me", "", nil, "Authorization", tc.auth)
			code, msg := errCode(m)
			if st != 401 || code != "InvalidAuthenticationToken" || !strings.Contains(msg, tc.msg) || hdr.Get("WWW-Authenticate") == "" {
				t.Fatalf("%d %v", st, m)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		e.clock.Advance(time.Hour)
		client, _ := e.graph(good.AccessToken)
		_, err := client.Me().Get(context.Background(), nil)
		if st, code, msg, _ := odata(t, err); st != 401 || code != "InvalidAuthenticationToken" || !strings.Contains(msg, "expired") {
			t.Fatal(st, code, msg)
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	e := newEnv(t, Options{AutoConsent: true})
	ctx := context.Background()
	contoso, _ := e.graph(e.userToken(ContosoTenantID, "").AccessToken)
	northwind, _ := e.graph(e.appToken(NorthwindTenantID))
	nu := createTestUser(t, northwind, "nw-user@northwind.onmicrosoft.com")
	cu := createTestUser(t, contoso, "c-user@contoso.com")

	for _, ref := range []string{*nu.GetId(), "nw-user@northwind.onmicrosoft.com", NorthwindAdminID} {
		_, err := contoso.Users().ByUserId(ref).Get(ctx, nil)
		if st, code, _, _ := odata(t, err); st != 404 || code != "Request_ResourceNotFound" {
			t.Fatalf("%s visible across tenants", ref)
		}
	}
	_, err := contoso.RoleManagement().Directory().RoleAssignments().Post(ctx, newAssignment(roleHelpdeskAdmin, *nu.GetId()), nil)
	if st, _, _, _ := odata(t, err); st != 404 {
		t.Fatalf("assigned a role to another tenant's user: %d", st)
	}
	err = contoso.Users().ByUserId(*nu.GetId()).Delete(ctx, nil)
	if st, _, _, _ := odata(t, err); st != 404 {
		t.Fatal(st)
	}
	list, err := northwind.Users().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range list.GetValue() {
		if *u.GetId() == *cu.GetId() || !strings.HasSuffix(*u.GetUserPrincipalName(), "@northwind.onmicrosoft.com") {
			t.Fatalf("northwind sees %s", *u.GetUserPrincipalName())
		}
	}
	if ds, _ := northwind.Domains().Get(ctx, nil); len(ds.GetValue()) != 1 {
		t.Fatal("northwind sees contoso domains")
	}
}

func TestScopesAndRoles(t *testing.T) {
	e := newEnv(t, Options{AutoConsent: true})
	ctx := context.Background()
	// A token with User.Read only can read /me but cannot write.
	readOnly, _ := e.graph(e.userToken(ContosoTenantID, "", "openid", "User.Read").AccessToken)
	if _, err := readOnly.Me().Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	forbidden := func(err error) {
		t.Helper()
		st, code, msg, _ := odata(t, err)
		if st != 403 || code != "Authorization_RequestDenied" || msg != "Insufficient privileges to complete the operation." {
			t.Fatalf("%d %s %s", st, code, msg)
		}
	}
	_, err := readOnly.Users().Post(ctx, newUser("x@contoso.com", testPassword), nil)
	forbidden(err)
	_, err = readOnly.Domains().Get(ctx, nil)
	forbidden(err)
	_, err = readOnly.RoleManagement().Directory().RoleDefinitions().Get(ctx, nil)
	forbidden(err)

	// A delegated token acts as the signed-in user: a technician without a role cannot write.
	e.userToken(MSPTenantID, MSPAdminUPN) // the msp admin consents for the tenant
	tech, _ := e.graph(e.userToken(MSPTenantID, MSPTechUPN).AccessToken)
	if _, err := tech.Users().Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	_, err = tech.Users().Post(ctx, newUser("x@msp.example", testPassword), nil)
	forbidden(err)
	_, err = tech.RoleManagement().Directory().RoleAssignments().Post(ctx, newAssignment(roleGlobalAdmin, MSPTechID), nil)
	forbidden(err)
}

func TestRoleDefinitions(t *testing.T) {
	e := newEnv(t, Options{AutoConsent: true})
	client, _ := e.graph(e.userToken(ContosoTenantID, "").AccessToken)
	ctx := context.Background()
	defs, err := client.RoleManagement().Directory().RoleDefinitions().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]string{}
	for _, d := range defs.GetValue() {
		if *d.GetId() != *d.GetTemplateId() || !*d.GetIsBuiltIn() {
			t.Fatalf("%s", *d.GetDisplayName())
		}
		byName[*d.GetDisplayName()] = *d.GetId()
	}
	for name, id := range map[string]string{"Global Administrator": roleGlobalAdmin, "User Administrator": roleUserAdmin,
		"Helpdesk Administrator": roleHelpdeskAdmin, "Privileged Role Administrator": rolePrivilegedRoleAdmin,
		"Global Reader": "f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Windows 365 Administrator": "11451d60-acb2-45eb-a7d6-43d0f0125c13"} {
		if byName[name] != id {
			t.Fatalf("%s = %q", name, byName[name])
		}
	}
	if len(byName) != len(builtinRoles) || len(builtinRoles) != 40 {
		t.Fatalf("%d roles", len(byName))
	}
	for _, tc := range []struct {
		filter string
		n      int
	}{
		{"displayName eq 'Helpdesk Administrator'", 1},
		{"id eq '" + roleUserAdmin + "'", 1},
		{"isBuiltIn eq true", 40},
		{"isBuiltIn eq false", 0},
		{"id in ('" + roleUserAdmin + "','" + roleGlobalAdmin + "')", 2},
		{"templateId eq '" + roleGlobalAdmin + "' and displayName eq 'Global Administrator'", 1},
	} {
		got, err := client.RoleManagement().Directory().RoleDefinitions().Get(ctx, &rolemanagement.DirectoryRoleDefinitionsRequestBuilderGetRequestConfiguration{
			QueryParameters: &rolemanagement.DirectoryRoleDefinitionsRequestBuilderGetQueryParameters{Filter: ptr(tc.filter)}})
		if err != nil || len(got.GetValue()) != tc.n {
			t.Fatalf("%s: %v %d", tc.filter, err, len(got.GetValue()))
		}
	}
	_, err = client.RoleManagement().Directory().RoleDefinitions().Get(ctx, &rolemanagement.DirectoryRoleDefinitionsRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleDefinitionsRequestBuilderGetQueryParameters{Filter: ptr("description eq 'x'")}})
	if st, code, _, _ := odata(t, err); st != 400 || code != "Request_UnsupportedQuery" {
		t.Fatal(st, code)
	}
	one, err := client.RoleManagement().Directory().RoleDefinitions().ByUnifiedRoleDefinitionId(roleUserAdmin).Get(ctx, nil)
	if err != nil || *one.GetDisplayName() != "User Administrator" {
		t.Fatal(err)
	}
}

func TestRoleAssignments(t *testing.T) {
	e := newEnv(t, Options{AutoConsent: true})
	client, _ := e.graph(e.userToken(ContosoTenantID, "").AccessToken)
	ctx := context.Background()
	ras := client.RoleManagement().Directory().RoleAssignments()
	u := createTestUser(t, client, "erin@contoso.com")
	uid := *u.GetId()

	a, err := ras.Post(ctx, newAssignment(roleHelpdeskAdmin, uid), nil)
	if err != nil {
		t.Fatal(err)
	}
	if *a.GetId() != assignmentID(roleHelpdeskAdmin, uid) || *a.GetPrincipalId() != uid || *a.GetDirectoryScopeId() != "/" {
		t.Fatalf("assignment %s", *a.GetId())
	}
	// The documented example: Global Administrator's id bytes start "lAPpYvVpN0KRkAEhdxReEA".
	if !strings.HasPrefix(assignmentID(roleGlobalAdmin, uid), "lAPpYvVpN0KRkAEhdxReE") || !strings.HasSuffix(*a.GetId(), "-1") {
		t.Fatal(assignmentID(roleGlobalAdmin, uid))
	}
	if _, err := ras.Post(ctx, newAssignment(roleUserAdmin, uid), nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name          string
		ra            *models.UnifiedRoleAssignment
		status        int
		code, message string
	}{
		{"duplicate", newAssignment(roleHelpdeskAdmin, uid), 400, "Request_BadRequest", "A conflicting object with one or more of the specified property values is present in the directory."},
		{"unknown principal", newAssignment(roleHelpdeskAdmin, "11111111-1111-4111-8111-111111111111"), 404, "Request_ResourceNotFound", "Resource '11111111-1111-4111-8111-111111111111' does not exist or one of its queried reference-property objects are not present."},
		{"unknown role", newAssignment("11111111-1111-4111-8111-111111111111", uid), 404, "Request_ResourceNotFound", "Resource '11111111-1111-4111-8111-111111111111' does not exist or one of its queried reference-property objects are not present."},
		{"scope other than /", func() *models.UnifiedRoleAssignment {
			r := newAssignment(roleHelpdeskAdmin, uid)
			r.SetDirectoryScopeId(ptr("/administrativeUnits/x"))
			return r
		}(), 400, "Request_BadRequest", "Invalid value specified for property 'directoryScopeId' of resource 'UnifiedRoleAssignment'."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ras.Post(ctx, tc.ra, nil)
			st, code, msg, _ := odata(t, err)
			if st != tc.status || code != tc.code || msg != tc.message {
				t.Fatalf("%d %s %s", st, code, msg)
			}
		})
	}
	list, err := ras.Get(ctx, &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetQueryParameters{Filter: ptr("principalId eq '" + uid + "'")}})
	if err != nil || len(list.GetValue()) != 2 {
		t.Fatalf("list: %v", err)
	}
	got, err := ras.ByUnifiedRoleAssignmentId(*a.GetId()).Get(ctx, nil)
	if err != nil || *got.GetRoleDefinitionId() != roleHelpdeskAdmin {
		t.Fatal(err)
	}
	if v, _ := e.sim.User("contoso", uid); len(v.RoleDefinitionIDs) != 2 {
		t.Fatalf("view roles %v", v.RoleDefinitionIDs)
	}
	if err := ras.ByUnifiedRoleAssignmentId(*a.GetId()).Delete(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, call := range []func() error{
		func() error { return ras.ByUnifiedRoleAssignmentId(*a.GetId()).Delete(ctx, nil) },
		func() error { _, err := ras.ByUnifiedRoleAssignmentId(*a.GetId()).Get(ctx, nil); return err },
	} {
		if st, code, _, _ := odata(t, call()); st != 404 || code != "Request_ResourceNotFound" {
			t.Fatal(st, code)
		}
	}
	// Deleting the user removes its assignments.
	if err := client.Users().ByUserId(uid).Delete(ctx, nil); err != nil {
		t.Fatal(err)
	}
	list, _ = ras.Get(ctx, &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetQueryParameters{Filter: ptr("principalId eq '" + uid + "'")}})
	if len(list.GetValue()) != 0 {
		t.Fatal("assignments survive their principal")
	}
}

func TestPaging(t *testing.T) {
	e := newEnv(t, Options{})
	client, adapter := e.graph(e.appToken(ContosoTenantID))
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		createTestUser(t, client, fmt.Sprintf("p%d@contoso.com", i))
	}
	first, err := client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Top: ptr(int32(2))}})
	if err != nil || first.GetOdataNextLink() == nil || !strings.HasPrefix(*first.GetOdataNextLink(), e.ts.URL+"/v1.0/users?") {
		t.Fatalf("page 1: %v", err)
	}
	seen := 0
	for page := first; ; {
		seen += len(page.GetValue())
		if page.GetOdataNextLink() == nil {
			break
		}
		next, err := users.NewUsersRequestBuilder(*page.GetOdataNextLink(), adapter).Get(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		page = next
	}
	if seen != 6 {
		t.Fatalf("saw %d users", seen)
	}
	_ = abs.RequestInformation{}
	if st, _, _ := e.do("GET", "/v1.0/users?$top=1000", e.appToken(ContosoTenantID), nil); st != 400 {
		t.Fatal(st)
	}
}
