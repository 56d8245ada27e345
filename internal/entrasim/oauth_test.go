package entrasim

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func retrieveErr(t *testing.T, err error) (string, int) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("want *oauth2.RetrieveError, got %T %v", err, err)
	}
	var code int
	for _, p := range strings.Fields(re.ErrorDescription) {
		if strings.HasPrefix(p, "AADSTS") {
			code = atoiPrefix(strings.TrimSuffix(strings.TrimPrefix(p, "AADSTS"), ":"))
			break
		}
	}
	return re.ErrorCode, code
}

func atoiPrefix(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func TestAuthorizationCodeFlow(t *testing.T) {
	e := newEnv(t, Options{AutoConsent: true})
	tok := e.userToken("organizations", "")
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.TokenType != "Bearer" {
		t.Fatalf("token %+v", tok)
	}
	if tok.Extra("id_token") == nil || tok.Extra("ext_expires_in") == nil || !strings.Contains(tok.Extra("scope").(string), "User.ReadWrite.All") {
		t.Fatalf("missing fields: id_token=%v scope=%v", tok.Extra("id_token"), tok.Extra("scope"))
	}
	if d := time.Until(tok.Expiry); d < 50*time.Minute || d > 61*time.Minute {
		t.Fatalf("expires_in not ~3600: %v", d)
	}
	// The default signed-in user is contoso's admin, acting in contoso.
	client, _ := e.graph(tok.AccessToken)
	me, err := client.Me().Get(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if *me.GetUserPrincipalName() != ContosoAdminUPN {
		t.Fatalf("me = %s", *me.GetUserPrincipalName())
	}
	org, err := client.Organization().Get(context.Background(), nil)
	if err != nil || *org.GetValue()[0].GetId() != ContosoTenantID {
		t.Fatalf("organization: %v", err)
	}
	// login_hint picks the user, a tenant-specific path with a domain works.
	tok = e.userToken("northwind.onmicrosoft.com", NorthwindAdminUPN)
	client, _ = e.graph(tok.AccessToken)
	if me, err = client.Me().Get(context.Background(), nil); err != nil || *me.GetUserPrincipalName() != NorthwindAdminUPN {
		t.Fatalf("northwind me: %v", err)
	}
}

func TestRefreshRotation(t *testing.T) {
	e := newEnv(t, Options{AutoConsent: true})
	tok := e.userToken(ContosoTenantID, "")
	cfg := e.oauthConfig(ContosoTenantID, graphScopes...)
	old := tok.RefreshToken
	tok.Expiry = time.Now().Add(-time.Minute) // force a refresh
	fresh, err := cfg.TokenSource(context.Background(), tok).Token()
	if err != nil {
		t.Fatal(err)
	}
	if fresh.RefreshToken == "" || fresh.RefreshToken == old || fresh.AccessToken == tok.AccessToken {
		t.Fatal("refresh must return a new refresh token and access token")
	}
	// Per Entra the old refresh token remains valid until it expires or is revoked.
	if st, m := e.postForm("/"+ContosoTenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old},
		"client_id": {ClientID}, "client_secret": {ClientSecret}}); st != 200 || m["refresh_token"] == nil {
		t.Fatalf("old refresh token: %d %v", st, m)
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	e := newEnv(t, Options{AutoConsent: true})
	ctx := context.Background()
	tokenPath := "/" + ContosoTenantID + "/oauth2/v2.0/token"

	t.Run("code reuse 54005", func(t *testing.T) {
		cfg, code, v := e.codeFor("common", "")
		if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v)); err != nil {
			t.Fatal(err)
		}
		_, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
		if ec, n := retrieveErr(t, err); ec != "invalid_grant" || n != 54005 {
			t.Fatalf("%s %d", ec, n)
		}
	})
	t.Run("code expiry 70008", func(t *testing.T) {
		cfg, code, v := e.codeFor("common", "")
		e.clock.Advance(10*time.Minute + time.Second)
		_, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
		if ec, n := retrieveErr(t, err); ec != "invalid_grant" || n != 70008 {
			t.Fatalf("%s %d", ec, n)
		}
	})
	t.Run("verifier mismatch 501481 does not burn the code", func(t *testing.T) {
		cfg, code, v := e.codeFor("common", "")
		_, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
		if ec, n := retrieveErr(t, err); ec != "invalid_grant" || n != 501481 {
			t.Fatalf("%s %d", ec, n)
		}
		_, err = cfg.Exchange(ctx, code)
		if _, n := retrieveErr(t, err); n != 501481 {
			t.Fatalf("missing verifier: %d", n)
		}
		if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("bad client secret does not burn the code", func(t *testing.T) {
		cfg, code, v := e.codeFor("common", "")
		bad := *cfg
		bad.ClientSecret = "wrong"
		for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
			bad.Endpoint.AuthStyle = style
			_, err := bad.Exchange(ctx, code, oauth2.VerifierOption(v))
			if ec, n := retrieveErr(t, err); ec != "invalid_client" || n != 7000215 {
				t.Fatalf("%s %d", ec, n)
			}
		}
		if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("secret in body and in basic both accepted", func(t *testing.T) {
		for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
			cfg, code, v := e.codeFor("common", "")
			cfg.Endpoint.AuthStyle = style
			if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v)); err != nil {
				t.Fatalf("style %d: %v", style, err)
			}
		}
	})
	t.Run("redirect uri mismatch 500112", func(t *testing.T) {
		cfg, code, v := e.codeFor("common", "")
		cfg.RedirectURL = "http://localhost:9999/other"
		_, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
		if ec, n := retrieveErr(t, err); ec != "invalid_grant" || n != 500112 {
			t.Fatalf("%s %d", ec, n)
		}
	})
	t.Run("code for another tenant", func(t *testing.T) {
		_, code, v := e.codeFor("common", "")
		cfg := e.oauthConfig(NorthwindTenantID, graphScopes...)
		_, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
		if ec, _ := retrieveErr(t, err); ec != "invalid_grant" {
			t.Fatal(ec)
		}
	})

	form := func(kv ...string) url.Values {
		v := url.Values{"client_id": {ClientID}, "client_secret": {ClientSecret}}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	for _, tc := range []struct {
		name   string
		path   string
		form   url.Values
		status int
		err    string
		code   int
	}{
		{"unknown client 700016", tokenPath, form("grant_type", "client_credentials", "client_id", "nope", "scope", "https://graph.microsoft.com/.default"), 400, "unauthorized_client", 700016},
		{"missing secret 7000218", tokenPath, form("grant_type", "client_credentials", "client_secret", "", "scope", "https://graph.microsoft.com/.default"), 401, "invalid_client", 7000218},
		{"unknown tenant 90002", "/00000000-0000-0000-0000-000000000000/oauth2/v2.0/token", form("grant_type", "client_credentials", "scope", "https://graph.microsoft.com/.default"), 400, "invalid_request", 90002},
		{"unsupported grant 70003", tokenPath, form("grant_type", "implicit"), 400, "unsupported_grant_type", 70003},
		{"missing grant_type 900144", tokenPath, form(), 400, "invalid_request", 900144},
		{"client credentials on common 50059", "/common/oauth2/v2.0/token", form("grant_type", "client_credentials", "scope", "https://graph.microsoft.com/.default"), 400, "invalid_request", 50059},
		{"client credentials needs /.default 1002012", tokenPath, form("grant_type", "client_credentials", "scope", "User.Read"), 400, "invalid_scope", 1002012},
		{"garbage refresh token 9002313", tokenPath, form("grant_type", "refresh_token", "refresh_token", "garbage"), 400, "invalid_grant", 9002313},
		{"unknown code 70000", tokenPath, form("grant_type", "authorization_code", "code", "nope", "redirect_uri", testRedirect), 400, "invalid_grant", 70000},
		{"invalid scope 70011", tokenPath, form("grant_type", "password", "username", ContosoAdminUPN, "password", SeedPassword, "scope", "Mail.Send"), 400, "invalid_scope", 70011},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, m := e.postForm(tc.path, tc.form)
			if st != tc.status || m["error"] != tc.err || aadsts(m) != tc.code {
				t.Fatalf("got %d %v", st, m)
			}
			for _, k := range []string{"error_description", "timestamp", "trace_id", "correlation_id"} {
				if m[k] == nil {
					t.Fatalf("missing %s in %v", k, m)
				}
			}
			if !strings.HasPrefix(m["error_description"].(string), "AADSTS") {
				t.Fatalf("description %v", m["error_description"])
			}
		})
	}
}

func TestClientCredentials(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.appToken(NorthwindTenantID)
	client, _ := e.graph(tok)
	ctx := context.Background()
	_, err := client.Me().Get(ctx, nil)
	st, code, msg, _ := odata(t, err)
	if st != 400 || code != "BadRequest" || msg != "/me request is only valid with delegated authentication flow." {
		t.Fatalf("%d %s %s", st, code, msg)
	}
	users, err := client.Users().Get(ctx, nil)
	if err != nil || len(users.GetValue()) != 1 || *users.GetValue()[0].GetUserPrincipalName() != NorthwindAdminUPN {
		t.Fatalf("users: %v", err)
	}
}

func TestRefreshTokenRevocation(t *testing.T) {
	e := newEnv(t, Options{AutoConsent: true})
	path := "/" + ContosoTenantID + "/oauth2/v2.0/token"
	refresh := func(rt string) (int, map[string]any) {
		return e.postForm(path, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, ClientID, ClientSecret)
	}
	admin := e.userToken(ContosoTenantID, "")
	client, _ := e.graph(admin.AccessToken)
	ctx := context.Background()

	// A second admin whose refresh tokens we revoke in various ways.
	mk := func(name string) (string, string) {
		u := createTestUser(t, client, name+"@contoso.com")
		ra := newAssignment(roleGlobalAdmin, *u.GetId())
		if _, err := client.RoleManagement().Directory().RoleAssignments().Post(ctx, ra, nil); err != nil {
			t.Fatal(err)
		}
		tok := e.userToken(ContosoTenantID, name+"@contoso.com")
		return *u.GetId(), tok.RefreshToken
	}
	for _, tc := range []struct {
		name   string
		revoke func(id string)
		code   int
	}{
		{"revokeSignInSessions 50173", func(id string) {
			if _, err := client.Users().ByUserId(id).RevokeSignInSessions().PostAsRevokeSignInSessionsPostResponse(ctx, nil); err != nil {
				t.Fatal(err)
			}
		}, 50173},
		{"password reset 50173", func(id string) {
			if st, _, m := e.do("PATCH", "/v1.0/users/"+id, admin.AccessToken, map[string]any{"passwordProfile": map[string]any{"password": "An0ther-Passw0rd"}}); st != 204 {
				t.Fatal(st, m)
			}
		}, 50173},
		{"disabled 50057", func(id string) {
			if st, _, m := e.do("PATCH", "/v1.0/users/"+id, admin.AccessToken, map[string]any{"accountEnabled": false}); st != 204 {
				t.Fatal(st, m)
			}
		}, 50057},
		{"deleted 50034", func(id string) {
			if err := client.Users().ByUserId(id).Delete(ctx, nil); err != nil {
				t.Fatal(err)
			}
		}, 50034},
		{"inactive 90 days 700082", func(string) { e.clock.Advance(91 * 24 * time.Hour) }, 700082},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, rt := mk(strings.ReplaceAll(strings.Fields(tc.name)[0], "S", "s"))
			if st, m := refresh(rt); st != 200 {
				t.Fatalf("before: %d %v", st, m)
			}
			e.clock.Advance(time.Second)
			tc.revoke(id)
			st, m := refresh(rt)
			if st != 400 || m["error"] != "invalid_grant" || aadsts(m) != tc.code {
				t.Fatalf("after: %d %v", st, m)
			}
			e.clock.Advance(time.Second)
			admin = e.userToken(ContosoTenantID, "") // access tokens expire after the 91-day jump
			client, _ = e.graph(admin.AccessToken)
		})
	}
	t.Run("consent revoked 70008", func(t *testing.T) {
		tok := e.userToken(ContosoTenantID, "")
		if st, _, _ := e.do("POST", "/_sim/tenants/contoso/revoke-consent", "", nil); st != 204 {
			t.Fatal(st)
		}
		st, m := refresh(tok.RefreshToken)
		if st != 400 || m["error"] != "invalid_grant" || aadsts(m) != 70008 {
			t.Fatalf("%d %v", st, m)
		}
		// Northwind is untouched.
		nw := e.userToken(NorthwindTenantID, "")
		if st, m := e.postForm("/"+NorthwindTenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {nw.RefreshToken}}, ClientID, ClientSecret); st != 200 {
			t.Fatalf("northwind: %d %v", st, m)
		}
	})
}

func TestPasswordGrant(t *testing.T) {
	e := newEnv(t, Options{AutoConsent: true})
	admin := e.userToken(ContosoTenantID, "")
	client, _ := e.graph(admin.AccessToken)
	u := createTestUser(t, client, "ropc@contoso.com")
	disabled := createTestUser(t, client, "off@contoso.com")
	if st, _, _ := e.do("PATCH", "/v1.0/users/"+*disabled.GetId(), admin.AccessToken, map[string]any{"accountEnabled": false}); st != 204 {
		t.Fatal(st)
	}
	forced := createTestUser(t, client, "forced@contoso.com")
	if st, _, _ := e.do("PATCH", "/v1.0/users/"+*forced.GetId(), admin.AccessToken, map[string]any{"passwordProfile": map[string]any{"password": testPassword, "forceChangePasswordNextSignIn": true}}); st != 204 {
		t.Fatal(st)
	}
	for _, tc := range []struct {
		name, tenant, user, password string
		code                         int
	}{
		{"technician password works", ContosoTenantID, *u.GetUserPrincipalName(), testPassword, 0},
		{"seeded msp technician via organizations", "organizations", MSPTechUPN, SeedPassword, 0},
		{"wrong password 50126", ContosoTenantID, *u.GetUserPrincipalName(), "Wrong-Passw0rd", 50126},
		{"disabled 50057", ContosoTenantID, "off@contoso.com", testPassword, 50057},
		{"unknown user 50034", ContosoTenantID, "nobody@contoso.com", testPassword, 50034},
		{"user of another tenant 50034", NorthwindTenantID, *u.GetUserPrincipalName(), testPassword, 50034},
		{"must change password 50055", ContosoTenantID, "forced@contoso.com", testPassword, 50055},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, m := e.postForm("/"+tc.tenant+"/oauth2/v2.0/token", url.Values{"grant_type": {"password"}, "username": {tc.user},
				"password": {tc.password}, "scope": {"openid profile User.Read"}, "client_id": {ClientID}, "client_secret": {ClientSecret}})
			if tc.code == 0 {
				if st != 200 || m["access_token"] == nil || m["id_token"] == nil {
					t.Fatalf("%d %v", st, m)
				}
				client, _ := e.graph(m["access_token"].(string))
				me, err := client.Me().Get(context.Background(), nil)
				if err != nil || !strings.EqualFold(*me.GetUserPrincipalName(), tc.user) {
					t.Fatalf("me: %v", err)
				}
				return
			}
			if st != 400 || m["error"] != "invalid_grant" || aadsts(m) != tc.code {
				t.Fatalf("%d %v", st, m)
			}
		})
	}
}

func TestAuthorizeEndpoint(t *testing.T) {
	manual := newEnv(t, Options{})
	auto := newEnv(t, Options{AutoConsent: true})
	q := func(kv ...string) string {
		v := url.Values{"client_id": {ClientID}, "response_type": {"code"}, "redirect_uri": {testRedirect},
			"scope": {"openid profile email"}, "state": {"s1"}}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v.Encode()
	}
	get := func(e *env, tenant, query string) (*http.Response, string) {
		resp, err := noRedirect().Get(e.ts.URL + "/" + tenant + "/oauth2/v2.0/authorize?" + query)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	for _, tc := range []struct {
		name, tenant, query string
		status              int
		want                string // in the page, or error in the redirect
	}{
		{"unknown client is an error page", "common", q("client_id", "nope"), 400, "AADSTS700016"},
		{"redirect to another host is an error page", "common", q("redirect_uri", "https://evil.example/cb"), 400, "AADSTS50011"},
		{"redirect with another scheme is an error page", "common", q("redirect_uri", "ftp://127.0.0.1/cb"), 400, "AADSTS50011"},
		{"unknown tenant is an error page", "nowhere.example", q(), 400, "AADSTS90002"},
		{"bad response_type redirects", "common", q("response_type", "token"), 302, "unsupported_response_type"},
		{"missing scope redirects", "common", q("scope", ""), 302, "invalid_request"},
		{"unknown scope redirects", "common", q("scope", "openid Files.ReadWrite.All"), 302, "invalid_scope"},
		{"bad challenge method redirects", "common", q("code_challenge", strings.Repeat("a", 43), "code_challenge_method", "S512"), 302, "invalid_request"},
		{"prompt=none without a session", "common", q("prompt", "none"), 302, "login_required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(manual, tc.tenant, tc.query)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if tc.status == 302 {
				loc, _ := url.Parse(resp.Header.Get("Location"))
				if loc.Query().Get("error") != tc.want || loc.Query().Get("state") != "s1" || !strings.HasPrefix(loc.Query().Get("error_description"), "AADSTS") {
					t.Fatalf("location %s", loc)
				}
				return
			}
			if resp.Header.Get("Location") != "" || !strings.Contains(body, tc.want) {
				t.Fatalf("page: %s", body)
			}
		})
	}

	t.Run("account picker lists the tenant's users and accepts", func(t *testing.T) {
		resp, body := get(manual, "msp.example", q())
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatal(resp.StatusCode)
		}
		for _, want := range []string{MSPAdminUPN, MSPTechUPN, MSPOutsiderUPN, "<label>", `value="accept"`, `value="cancel"`} {
			if !strings.Contains(body, want) {
				t.Fatalf("picker lacks %q: %s", want, body)
			}
		}
		if strings.Contains(body, ContosoAdminUPN) || strings.Contains(body, "<script") || strings.Contains(body, "http://") && !strings.Contains(body, testRedirect) {
			t.Fatalf("picker shows other tenants or external assets")
		}
		form, _ := url.ParseQuery(q())
		form.Set("action", "accept")
		form.Set("user_id", MSPTechID)
		resp, err := noRedirect().PostForm(manual.ts.URL+"/msp.example/oauth2/v2.0/authorize", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != 302 || loc.Query().Get("code") == "" {
			t.Fatalf("%d %s", resp.StatusCode, loc)
		}
		form.Set("action", "cancel")
		resp, _ = noRedirect().PostForm(manual.ts.URL+"/msp.example/oauth2/v2.0/authorize", form)
		resp.Body.Close()
		loc, _ = url.Parse(resp.Header.Get("Location"))
		if loc.Query().Get("error") != "access_denied" || loc.Query().Get("code") != "" {
			t.Fatalf("cancel: %s", loc)
		}
		// A user of another tenant cannot be smuggled in.
		form.Set("action", "accept")
		form.Set("user_id", ContosoAdminID)
		resp, _ = noRedirect().PostForm(manual.ts.URL+"/msp.example/oauth2/v2.0/authorize", form)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("foreign user accepted: %d", resp.StatusCode)
		}
	})
	t.Run("picker on common lists every tenant's admins only", func(t *testing.T) {
		_, body := get(manual, "common", q())
		if !strings.Contains(body, ContosoAdminUPN) || !strings.Contains(body, NorthwindAdminUPN) || strings.Contains(body, MSPTechUPN) {
			t.Fatal(body)
		}
	})
	t.Run("auto consent honours login_hint within the tenant", func(t *testing.T) {
		resp, body := get(auto, "msp.example", q("login_hint", ContosoAdminUPN))
		if resp.StatusCode != 400 || !strings.Contains(body, "AADSTS50020") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("non-admin cannot grant admin-consent scopes", func(t *testing.T) {
		resp, _ := get(auto, "msp.example", q("login_hint", MSPTechUPN, "scope", "openid User.ReadWrite.All"))
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != 302 || loc.Query().Get("error") != "access_denied" || !strings.Contains(loc.Query().Get("error_description"), "AADSTS90094") {
			t.Fatalf("%d %s", resp.StatusCode, loc)
		}
	})
}

func TestOIDCProvider(t *testing.T) {
	e := newEnv(t, Options{AutoConsent: true, Now: time.Now})
	ctx := context.Background()
	issuer := e.ts.URL + "/" + MSPTenantID + "/v2.0"
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	cfg := oauth2.Config{ClientID: ClientID, ClientSecret: ClientSecret, RedirectURL: testRedirect,
		Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
	verifier := oauth2.GenerateVerifier()
	q := e.authorize(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oidc.Nonce("n-123"), oauth2.SetAuthURLParam("login_hint", MSPTechUPN)))
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: ClientID}).Verify(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Tid, Oid, PreferredUsername, Email, Name, Nonce string
	}
	var m map[string]any
	if err := idt.Claims(&m); err != nil {
		t.Fatal(err)
	}
	claims.Tid, _ = m["tid"].(string)
	claims.Oid, _ = m["oid"].(string)
	claims.PreferredUsername, _ = m["preferred_username"].(string)
	claims.Email, _ = m["email"].(string)
	claims.Name, _ = m["name"].(string)
	if idt.Nonce != "n-123" || claims.Tid != MSPTenantID || claims.Oid != MSPTechID || claims.PreferredUsername != MSPTechUPN ||
		claims.Email != MSPTechUPN || claims.Name == "" || idt.Subject == "" || m["nbf"] == nil || m["iat"] == nil {
		t.Fatalf("claims %v", m)
	}
	// An ID token from another tenant does not verify against the msp issuer.
	other := e.userToken(ContosoTenantID, "", "openid", "profile")
	if _, err := provider.Verifier(&oidc.Config{ClientID: ClientID}).Verify(ctx, other.Extra("id_token").(string)); err == nil {
		t.Fatal("contoso id_token accepted by the msp issuer")
	}
	// ID tokens are not Graph access tokens.
	if st, _, m := e.do("GET", "/v1.0/me", "", nil, "Authorization", "Bearer "+raw); st != 401 {
		t.Fatalf("id token accepted by Graph: %d %v", st, m)
	}
}
