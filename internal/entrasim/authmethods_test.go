package entrasim

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// methodScopes is what an application that issues TAPs and cleans methods asks for.
var methodScopes = append(append([]string{}, graphScopes...),
	"https://graph.microsoft.com/UserAuthenticationMethod.ReadWrite.All",
	"https://graph.microsoft.com/Policy.ReadWrite.AuthenticationMethod")

func newTestUser(t *testing.T, e *env, token, upn string) string {
	t.Helper()
	st, _, body := e.do(http.MethodPost, "/v1.0/users", token, map[string]any{
		"accountEnabled": true, "displayName": upn, "mailNickname": strings.Split(upn, "@")[0],
		"userPrincipalName": upn, "passwordProfile": map[string]any{"password": "Xy7-long-passw0rd"}})
	if st != http.StatusCreated {
		t.Fatalf("create user: %d %v", st, body)
	}
	return body["id"].(string)
}

func TestTemporaryAccessPassWithSDK(t *testing.T) {
	e := newEnv(t, Options{AutoConsent: true})
	ctx := context.Background()
	tok := e.userToken("contoso.onmicrosoft.com", ContosoAdminUPN, methodScopes...).AccessToken
	client, _ := e.graph(tok)
	id := newTestUser(t, e, tok, "jit-alice@contoso.com")

	cfg, err := client.Policies().AuthenticationMethodsPolicy().AuthenticationMethodConfigurations().ByAuthenticationMethodConfigurationId("TemporaryAccessPass").Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	pol, ok := cfg.(models.TemporaryAccessPassAuthenticationMethodConfigurationable)
	if !ok {
		t.Fatalf("policy type %T", cfg)
	}
	if *pol.GetState() != models.ENABLED_AUTHENTICATIONMETHODSTATE || *pol.GetMaximumLifetimeInMinutes() != 480 || *pol.GetMinimumLifetimeInMinutes() != 60 {
		t.Fatalf("default policy: state %v min %d max %d", *pol.GetState(), *pol.GetMinimumLifetimeInMinutes(), *pol.GetMaximumLifetimeInMinutes())
	}

	tapBuilder := client.Users().ByUserId(id).Authentication().TemporaryAccessPassMethods()
	newTAP := func(minutes int32) (models.TemporaryAccessPassAuthenticationMethodable, error) {
		b := models.NewTemporaryAccessPassAuthenticationMethod()
		b.SetLifetimeInMinutes(&minutes)
		b.SetIsUsableOnce(ptr(false))
		return tapBuilder.Post(ctx, b, nil)
	}
	for _, tc := range []struct {
		minutes int32
		ok      bool
	}{{30, false}, {481, false}, {60, true}, {480, true}} {
		got, err := newTAP(tc.minutes)
		if !tc.ok {
			st, code, msg, _ := odata(t, err)
			if st != http.StatusBadRequest || code != "badRequest" || msg != "Invalid LifetimeInMinutes specified. The valid range between 60 and 480." {
				t.Fatalf("lifetime %d: %d %s %q", tc.minutes, st, code, msg)
			}
			continue
		}
		if err != nil {
			t.Fatalf("lifetime %d: %v", tc.minutes, err)
		}
		if p := got.GetTemporaryAccessPass(); p == nil || len(*p) != 8 {
			t.Fatalf("create returned no 8-character pass")
		}
		if *got.GetLifetimeInMinutes() != tc.minutes || !*got.GetIsUsable() || *got.GetMethodUsabilityReason() != "EnabledByPolicy" {
			t.Fatalf("created TAP: lifetime %d usable %v %s", *got.GetLifetimeInMinutes(), *got.GetIsUsable(), *got.GetMethodUsabilityReason())
		}
	}
	// One TAP per user; GET never shows the pass.
	list, err := tapBuilder.Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(list.GetValue()); n != 1 {
		t.Fatalf("TAPs listed: %d, want 1 (a new TAP replaces the old)", n)
	}
	tap := list.GetValue()[0]
	if tap.GetTemporaryAccessPass() != nil {
		t.Fatal("GET shows the pass")
	}

	// A method added out of band shows in the list; the password is always there.
	phone, err := e.sim.AddAuthMethod("contoso", id, "phone")
	if err != nil {
		t.Fatal(err)
	}
	methods, err := client.Users().ByUserId(id).Authentication().Methods().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, m := range methods.GetValue() {
		types[*m.GetOdataType()] = *m.GetId()
	}
	if len(types) != 3 || types["#microsoft.graph.passwordAuthenticationMethod"] != passwordMethodID ||
		types["#microsoft.graph.phoneAuthenticationMethod"] != phone.ID || types["#microsoft.graph.temporaryAccessPassAuthenticationMethod"] != *tap.GetId() {
		t.Fatalf("methods: %v", types)
	}
	for _, m := range methods.GetValue() {
		if *m.GetId() == phone.ID {
			if _, ok := m.(models.PhoneAuthenticationMethodable); !ok {
				t.Fatalf("phone method decoded as %T", m)
			}
		}
	}

	// Delete phone and TAP; the password cannot be deleted; a second delete is 404.
	if err := client.Users().ByUserId(id).Authentication().PhoneMethods().ByPhoneAuthenticationMethodId(phone.ID).Delete(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := tapBuilder.ByTemporaryAccessPassAuthenticationMethodId(*tap.GetId()).Delete(ctx, nil); err != nil {
		t.Fatal(err)
	}
	err = tapBuilder.ByTemporaryAccessPassAuthenticationMethodId(*tap.GetId()).Delete(ctx, nil)
	if st, code, _, _ := odata(t, err); st != http.StatusNotFound || code != "Request_ResourceNotFound" {
		t.Fatalf("second delete: %d %s", st, code)
	}
	if st, _, body := e.do(http.MethodDelete, "/v1.0/users/"+id+"/authentication/passwordMethods/"+passwordMethodID, tok, nil); st != http.StatusMethodNotAllowed {
		t.Fatalf("delete password: %d %v", st, body)
	}
	u, _ := e.sim.User("contoso", id)
	if len(u.AuthMethods) != 1 || u.AuthMethods[0].Type != "password" {
		t.Fatalf("left: %v", u.AuthMethods)
	}

	// Policy off → Graph's policy error; back on but targeting a group without the user → same.
	patch := models.NewTemporaryAccessPassAuthenticationMethodConfiguration()
	patch.SetState(ptr(models.DISABLED_AUTHENTICATIONMETHODSTATE))
	cfgB := client.Policies().AuthenticationMethodsPolicy().AuthenticationMethodConfigurations().ByAuthenticationMethodConfigurationId("TemporaryAccessPass")
	if _, err := cfgB.Patch(ctx, patch, nil); err != nil {
		t.Fatal(err)
	}
	_, err = newTAP(60)
	if st, code, msg, _ := odata(t, err); st != http.StatusBadRequest || code != "badRequest" || msg != msgTAPPolicy {
		t.Fatalf("policy off: %d %s %q", st, code, msg)
	}
	gid, err := e.sim.AddGroup("contoso", "JIT accounts", ContosoAdminID)
	if err != nil {
		t.Fatal(err)
	}
	st, _, body := e.do(http.MethodPatch, "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass", tok,
		map[string]any{"@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration", "state": "enabled",
			"includeTargets": []any{map[string]any{"targetType": "group", "id": gid, "isRegistrationRequired": false}}})
	if st != http.StatusNoContent {
		t.Fatalf("patch policy: %d %v", st, body)
	}
	_, err = newTAP(60)
	if st, _, msg, _ := odata(t, err); st != http.StatusBadRequest || msg != msgTAPPolicy {
		t.Fatalf("user out of scope: %d %q", st, msg)
	}
	// Bad policy values are refused.
	for _, bad := range []map[string]any{{"minimumLifetimeInMinutes": 5}, {"maximumLifetimeInMinutes": 50000},
		{"defaultLifetimeInMinutes": 1000}, {"defaultLength": 7}, {"state": "maybe"}, {"color": "red"}} {
		if st, _, body := e.do(http.MethodPatch, "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass", tok, bad); st != http.StatusBadRequest {
			t.Fatalf("patch %v: %d %v", bad, st, body)
		}
	}
}

func TestTAPUsabilityAndScopes(t *testing.T) {
	e := newEnv(t, Options{AutoConsent: true})
	tok := e.userToken("contoso.onmicrosoft.com", ContosoAdminUPN, methodScopes...).AccessToken
	id := newTestUser(t, e, tok, "jit-bob@contoso.com")
	st, _, body := e.do(http.MethodPost, "/v1.0/users/"+id+"/authentication/temporaryAccessPassMethods", tok, map[string]any{
		"lifetimeInMinutes": 60, "startDateTime": e.clock.Now().Add(time.Hour).Format(time.RFC3339)})
	if st != http.StatusCreated || body["methodUsabilityReason"] != "NotYetValid" || body["isUsable"] != false {
		t.Fatalf("future TAP: %d %v", st, body)
	}
	e.clock.Advance(90 * time.Minute)
	tok = e.appToken(ContosoTenantID)
	_, _, body = e.do(http.MethodGet, "/v1.0/users/"+id+"/authentication/temporaryAccessPassMethods/"+body["id"].(string), tok, nil)
	if body["methodUsabilityReason"] != "EnabledByPolicy" || body["temporaryAccessPass"] != nil {
		t.Fatalf("valid TAP: %v", body)
	}
	e.clock.Advance(time.Hour)
	tok = e.appToken(ContosoTenantID)
	_, _, body = e.do(http.MethodGet, "/v1.0/users/"+id+"/authentication/temporaryAccessPassMethods/"+body["id"].(string), tok, nil)
	if body["methodUsabilityReason"] != "Expired" {
		t.Fatalf("expired TAP: %v", body)
	}

	tok = e.userToken("contoso.onmicrosoft.com", ContosoAdminUPN, methodScopes...).AccessToken
	// Scopes: today's consent (no UserAuthenticationMethod / Policy permission) is refused as Graph does.
	old := e.userToken("contoso.onmicrosoft.com", ContosoAdminUPN).AccessToken
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/v1.0/users/" + id + "/authentication/methods"},
		{http.MethodPost, "/v1.0/users/" + id + "/authentication/temporaryAccessPassMethods"},
		{http.MethodGet, "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass"},
	} {
		var b any
		if c.method == http.MethodPost {
			b = map[string]any{}
		}
		st, _, body := e.do(c.method, c.path, old, b)
		if code, _ := errCode(body); st != http.StatusForbidden || code != "Authorization_RequestDenied" {
			t.Fatalf("%s %s without scope: %d %v", c.method, c.path, st, body)
		}
	}
	// Reading the policy needs only Policy.Read.All.
	ro := e.userToken("contoso.onmicrosoft.com", ContosoAdminUPN, "https://graph.microsoft.com/Policy.Read.All").AccessToken
	if st, _, body := e.do(http.MethodGet, "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass", ro, nil); st != http.StatusOK || body["id"] != "TemporaryAccessPass" {
		t.Fatalf("policy with Policy.Read.All: %d %v", st, body)
	}
	if st, _, _ := e.do(http.MethodPatch, "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass", ro, map[string]any{"state": "disabled"}); st != http.StatusForbidden {
		t.Fatalf("patch with read scope: %d", st)
	}
	// An admin cannot manage their own methods through the admin API.
	if st, _, _ := e.do(http.MethodPost, "/v1.0/users/"+ContosoAdminID+"/authentication/temporaryAccessPassMethods", tok, map[string]any{}); st != http.StatusForbidden {
		t.Fatalf("TAP for oneself: %d", st)
	}
	// App-only tokens carry the application permission.
	app := e.appToken(ContosoTenantID)
	if st, _, body := e.do(http.MethodGet, "/v1.0/users/"+id+"/authentication/methods", app, nil); st != http.StatusOK {
		t.Fatalf("app-only list: %d %v", st, body)
	}
}

func TestSimAuthMethodsInspection(t *testing.T) {
	e := newEnv(t, Options{AutoConsent: true})
	st, _, body := e.do(http.MethodPost, "/_sim/tenants/contoso/users/"+ContosoAdminUPN+"/auth-methods", "", map[string]any{"type": "fido2"})
	if st != http.StatusCreated || body["type"] != "fido2" || body["id"] == "" {
		t.Fatalf("add: %d %v", st, body)
	}
	for _, bad := range []string{"password", "temporaryAccessPass", "carrierPigeon"} {
		if st, _, _ := e.do(http.MethodPost, "/_sim/tenants/contoso/users/"+ContosoAdminUPN+"/auth-methods", "", map[string]any{"type": bad}); st != http.StatusBadRequest {
			t.Fatalf("add %s: %d", bad, st)
		}
	}
	if st, _, _ := e.do(http.MethodPost, "/_sim/tenants/contoso/users/nobody@contoso.com/auth-methods", "", map[string]any{"type": "phone"}); st != http.StatusNotFound {
		t.Fatalf("unknown user: %d", st)
	}
	u, _ := e.sim.User("contoso", ContosoAdminUPN)
	if len(u.AuthMethods) != 2 || u.AuthMethods[1].Type != "fido2" || u.AdministrativeUnits == nil {
		t.Fatalf("view: %+v", u)
	}
}
