package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/internal/entrasim"
	"github.com/jitaccess/jitaccess/server"
	"github.com/jitaccess/jitaccess/server/portal"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// The portal against the real emulator as the MSP's identity provider (OIDC discovery,
// JWKS, RS256 ID tokens with nonce) and a real PostgreSQL database.

// portalWorkflows is an engine that starts nothing but hands out run ids, so the portal's
// request, revoke and extend paths run through the real service methods.
type portalWorkflows struct {
	mu      sync.Mutex
	revoked []string
}

func (*portalWorkflows) Start(_ context.Context, in workflows.AccessRequestInput) (string, string, error) {
	return workflows.WorkflowID(in.TenantID, in.ApplicationID, in.TechnicianID), "run-" + in.GrantID, nil
}

func (w *portalWorkflows) Revoke(_ context.Context, workflowID, _ string, _ workflows.RevokeSignal) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.revoked = append(w.revoked, workflowID)
	return nil
}

func (*portalWorkflows) WaitClosed(context.Context, string, string) error { return nil }

func (*portalWorkflows) Extend(context.Context, string, string, workflows.ExtendRequest) (workflows.ExtendResult, error) {
	return workflows.ExtendResult{ExpiresAt: time.Now().Add(2 * time.Hour)}, nil
}

// portalEnv is the server behind a real HTTP listener (the redirect URI must be reachable
// by the browser) and the emulator as IdP.
type portalEnv struct {
	*env
	url string
	sim string
	wf  *portalWorkflows
}

func newPortalEnv(t *testing.T, opts ...envOption) *portalEnv {
	t.Helper()
	sim, err := entrasim.New(entrasim.Options{AutoConsent: true})
	require.NoError(t, err)
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)

	var h http.Handler
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	wf := &portalWorkflows{}
	all := append([]envOption{func(d *server.Deps) {
		d.PublicURL = ts.URL
		d.OIDCIssuer = simSrv.URL + "/" + entrasim.MSPTenantID + "/v2.0"
		d.OIDCClientID, d.OIDCClientSecret = entrasim.ClientID, entrasim.ClientSecret
		d.BootstrapAdminEmail = "admin@msp.example"
		d.Workflows = wf
		d.TemporalUIURL, d.TemporalNamespace = "http://127.0.0.1:8233", "default"
	}}, opts...)
	e := newEnv(t, all...)
	h = e.srv
	return &portalEnv{env: e, url: ts.URL, sim: simSrv.URL, wf: wf}
}

// browser is a cookie-keeping client that follows redirects like a browser does and
// records the last page.
type browser struct {
	t      *testing.T
	pe     *portalEnv
	client *http.Client
}

func (pe *portalEnv) browser() *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(pe.t, err)
	return &browser{t: pe.t, pe: pe, client: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

type page struct {
	Status int
	URL    *url.URL
	Header http.Header
	Body   string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{Status: resp.StatusCode, URL: resp.Request.URL, Header: resp.Header, Body: string(body)}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	u := path
	if strings.HasPrefix(path, "/") {
		u = b.pe.url + path
	}
	req, err := http.NewRequest("GET", u, nil)
	require.NoError(b.t, err)
	return b.do(req)
}

// post submits a form as the portal's own page would: same Origin; csrf is added when set.
func (b *browser) post(path string, form url.Values, origin string) page {
	b.t.Helper()
	req, err := http.NewRequest("POST", b.pe.url+path, strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return b.do(req)
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf reads the token from a page of the portal.
func (b *browser) csrf() string {
	b.t.Helper()
	p := b.get("/my")
	m := csrfInput.FindStringSubmatch(p.Body)
	require.NotNil(b.t, m, "no CSRF token on %s: %s", p.URL, p.Body)
	return m[1]
}

// signIn signs in through the emulator as the named user (auto-consent honours login_hint).
func (b *browser) signIn(email string) page {
	b.t.Helper()
	return b.get("/signin?login_hint=" + url.QueryEscape(email))
}

// noFollow sends a GET without following redirects.
func (b *browser) noFollow(path string) *http.Response {
	b.t.Helper()
	c := &http.Client{Jar: b.client.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(b.pe.url + path)
	require.NoError(b.t, err)
	resp.Body.Close()
	return resp
}

func (b *browser) sessionCookie() *http.Cookie {
	u, _ := url.Parse(b.pe.url)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "jit_session" {
			return c
		}
	}
	return nil
}

func TestPortalSignInMakesServerSideSession(t *testing.T) {
	pe := newPortalEnv(t)
	b := pe.browser()

	// The raw answer of the callback: the cookie's attributes.
	noFollow := &http.Client{Jar: b.client.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(pe.url + "/signin?login_hint=admin%40msp.example")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 302, resp.StatusCode)
	authorize, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(authorize.String(), pe.sim+"/"+entrasim.MSPTenantID+"/oauth2/v2.0/authorize"), authorize.String())
	q := authorize.Query()
	require.Equal(t, "S256", q.Get("code_challenge_method"), "PKCE")
	require.NotEmpty(t, q.Get("nonce"))
	require.NotEmpty(t, q.Get("state"))
	require.Equal(t, pe.url+"/oidc/callback", q.Get("redirect_uri"))
	resp, err = noFollow.Get(authorize.String())
	require.NoError(t, err)
	resp.Body.Close()
	callback := resp.Header.Get("Location")
	require.Contains(t, callback, "/oidc/callback?")
	resp, err = noFollow.Get(callback)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 303, resp.StatusCode)
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "jit_session" && c.Value != "" {
			session = c
		}
	}
	require.NotNil(t, session, "session cookie")
	require.True(t, session.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, session.SameSite)
	require.False(t, session.Secure, "http public URL")
	require.NotEmpty(t, resp.Header.Get("Content-Security-Policy"))

	// Only the hash of the session id is stored.
	var hashes []string
	require.NoError(t, pe.store.DB().NewSelect().Table("portal_sessions").Column("id_hash").Scan(context.Background(), &hashes))
	sum := sha256.Sum256([]byte(session.Value))
	require.Equal(t, []string{hex.EncodeToString(sum[:])}, hashes)

	// The callback cannot be replayed.
	replay := b.get(callback)
	require.Equal(t, 400, replay.Status)

	p := b.get("/")
	require.Equal(t, 200, p.Status)
	require.Equal(t, "/admin/tenants", p.URL.Path)
	require.Contains(t, p.Body, "Customer tenants")
	require.Contains(t, p.Body, "MSP Admin")
	require.Contains(t, pe.auditActions(), "portal.signed_in")
}

// TestPortalBootstrapAdminOnlyWhileNoAdmin: JIT_BOOTSTRAP_ADMIN_EMAIL makes an admin only
// while no (active) admin exists; afterwards the e-mail is nobody special.
func TestPortalBootstrapAdminOnlyWhileNoAdmin(t *testing.T) {
	pe := newPortalEnv(t, func(d *server.Deps) { d.BootstrapAdminEmail = "tech@msp.example" })
	ctx := context.Background()
	p := pe.browser().signIn("tech@msp.example")
	require.Equal(t, 403, p.Status, "an admin exists: the bootstrap e-mail gives nothing")
	_, err := pe.store.TechnicianByEmail(ctx, "tech@msp.example")
	require.ErrorIs(t, err, store.ErrNotFound)

	_, err = pe.store.SetTechnicianActive(ctx, pe.admin.ID, false)
	require.NoError(t, err)
	b := pe.browser()
	p = b.signIn("tech@msp.example")
	require.Equal(t, 200, p.Status, p.Body)
	require.Equal(t, "/admin/tenants", p.URL.Path)
	tech, err := pe.store.TechnicianByEmail(ctx, "tech@msp.example")
	require.NoError(t, err)
	require.Equal(t, store.RoleAdmin, tech.Role)
	require.Equal(t, entrasim.MSPTenantID, tech.EntraTenantID)
	require.NotEmpty(t, tech.EntraObjectID)
}

func TestPortalUnknownUserIsRefused(t *testing.T) {
	pe := newPortalEnv(t)
	b := pe.browser()
	p := b.signIn("outsider@msp.example")
	require.Equal(t, 403, p.Status)
	require.Contains(t, p.Body, "not a member of this MSP")
	require.Nil(t, b.sessionCookie(), "no session for a stranger")
	n, err := pe.store.DB().NewSelect().Table("portal_sessions").Count(context.Background())
	require.NoError(t, err)
	require.Zero(t, n)
	require.Contains(t, pe.auditActions(), "portal.signin_refused")
	// Nothing behind the sign-in opens.
	noFollow := &http.Client{Jar: b.client.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(pe.url + "/admin/tenants")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 303, resp.StatusCode)
	require.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/signin?next="))
}

// TestPortalIdentityIsTidOid: staff are linked to (tid, oid) at first sign-in. A different
// Entra user who now carries a member's e-mail (renamed or recreated) is not that member; a
// deactivated member cannot sign in.
func TestPortalIdentityIsTidOid(t *testing.T) {
	pe := newPortalEnv(t)
	ctx := context.Background()
	tech, _, err := pe.store.CreateTechnician(ctx, "tech@msp.example", "Tech", "")
	require.NoError(t, err)

	// First sign-in links tech to the emulator's tech user.
	b := pe.browser()
	require.Equal(t, 200, b.signIn("tech@msp.example").Status)
	linked, err := pe.store.Technician(ctx, tech.ID)
	require.NoError(t, err)
	require.Equal(t, entrasim.MSPTenantID, linked.EntraTenantID)
	require.NotEmpty(t, linked.EntraObjectID)

	// Another member whose record is linked to an Entra user that has since been renamed:
	// whoever signs in with that e-mail now is someone else.
	_, err = pe.store.StaffForSignIn(ctx, store.SignInIdentity{TenantID: entrasim.MSPTenantID, ObjectID: "oid-of-the-original-person", Emails: []string{pe.admin.Email}})
	require.NoError(t, err)
	b2 := pe.browser()
	p := b2.signIn("admin@msp.example")
	require.Equal(t, 403, p.Status, "a renamed user does not become someone else")
	require.Nil(t, b2.sessionCookie())

	// Deactivated: refused at sign-in, and the open session ends.
	_, err = pe.store.SetTechnicianActive(ctx, tech.ID, false)
	require.NoError(t, err)
	require.Equal(t, 303, b.noFollow("/my").StatusCode, "the session ended with the deactivation")
	p = pe.browser().signIn("tech@msp.example")
	require.Equal(t, 403, p.Status)
	require.Contains(t, p.Body, "deactivated")
}

// TestPortalSignInStoresNoClearVerifier: the pending sign-in's PKCE verifier is sealed.
func TestPortalSignInStoresNoClearVerifier(t *testing.T) {
	pe := newPortalEnv(t)
	resp := pe.browser().noFollow("/signin")
	require.Equal(t, 302, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.NotEmpty(t, loc.Query().Get("code_challenge"))
	var verifiers []string
	require.NoError(t, pe.store.DB().NewSelect().Table("portal_logins").Column("code_verifier").Scan(context.Background(), &verifiers))
	require.Len(t, verifiers, 1)
	sum := sha256.Sum256([]byte(verifiers[0]))
	require.NotEqual(t, loc.Query().Get("code_challenge"), base64.RawURLEncoding.EncodeToString(sum[:]),
		"the stored value is not the verifier of the challenge")
}

func TestPortalNonceAndStateAreChecked(t *testing.T) {
	pe := newPortalEnv(t)
	b := pe.browser()
	noFollow := &http.Client{Jar: b.client.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	start := func() *url.URL {
		resp, err := noFollow.Get(pe.url + "/signin?login_hint=admin%40msp.example")
		require.NoError(t, err)
		resp.Body.Close()
		u, err := url.Parse(resp.Header.Get("Location"))
		require.NoError(t, err)
		return u
	}
	idp := func(u *url.URL) string {
		resp, err := noFollow.Get(u.String())
		require.NoError(t, err)
		resp.Body.Close()
		return resp.Header.Get("Location")
	}

	// An ID token minted for another nonce (a replayed or injected token) is refused.
	u := start()
	q := u.Query()
	q.Set("nonce", "nonce-of-an-attacker")
	u.RawQuery = q.Encode()
	p := b.get(idp(u))
	require.Equal(t, 400, p.Status)
	require.Contains(t, p.Body, "could not be verified")
	require.Nil(t, b.sessionCookie())

	// A callback whose state was not started in this browser is refused (login CSRF).
	u = start()
	callback := idp(u)
	stranger := pe.browser()
	p = stranger.get(callback)
	require.Equal(t, 400, p.Status)
	require.Contains(t, p.Body, "not belong to a sign-in started in this browser")
	require.Nil(t, stranger.sessionCookie())

	// A state this server never issued is refused too.
	cu, _ := url.Parse(callback)
	cq := cu.Query()
	cq.Set("state", "forged")
	cu.RawQuery = cq.Encode()
	require.Equal(t, 400, b.get(cu.String()).Status)
	require.Contains(t, pe.auditActions(), "portal.signin_failed")
}

func TestPortalRefusesForgedForms(t *testing.T) {
	pe := newPortalEnv(t)
	b := pe.browser()
	b.signIn("admin@msp.example")
	token := b.csrf()
	tenants := func() int {
		ts, _, err := pe.store.Tenants(context.Background(), store.Page{Limit: store.MaxLimit})
		require.NoError(t, err)
		return len(ts)
	}

	// A cross-site page posting with the victim's cookie: wrong Origin, no token.
	p := b.post("/admin/tenants", url.Values{"name": {"Evil"}}, "https://evil.example")
	require.Equal(t, 403, p.Status)
	// Even with a guessed token and a forged Origin header absent, a Referer from elsewhere fails.
	req, _ := http.NewRequest("POST", pe.url+"/admin/tenants", strings.NewReader(url.Values{"name": {"Evil"}, "csrf_token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", "https://evil.example/page")
	require.Equal(t, 403, b.do(req).Status)
	// Same origin but no or a wrong token.
	require.Equal(t, 403, b.post("/admin/tenants", url.Values{"name": {"Evil"}}, pe.url).Status)
	require.Equal(t, 403, b.post("/admin/tenants", url.Values{"name": {"Evil"}, "csrf_token": {"x" + token}}, pe.url).Status)
	// Another session's token is no good either.
	other := pe.browser()
	other.signIn("admin@msp.example")
	require.Equal(t, 403, b.post("/admin/tenants", url.Values{"name": {"Evil"}, "csrf_token": {other.csrf()}}, pe.url).Status)
	require.Zero(t, tenants())
	require.Contains(t, pe.auditActions(), "portal.request_refused")

	// The real form works.
	p = b.post("/admin/tenants", url.Values{"name": {"Contoso"}, "csrf_token": {token}}, pe.url)
	require.Equal(t, 200, p.Status)
	require.Contains(t, p.Body, "Tenant created.")
	require.Equal(t, 1, tenants())
}

func TestPortalStolenCookieIsUselessAfterSignOut(t *testing.T) {
	pe := newPortalEnv(t)
	b := pe.browser()
	b.signIn("admin@msp.example")
	token := b.csrf()
	stolen := b.sessionCookie()
	require.NotNil(t, stolen)

	thief := func(method, path string, form url.Values) *http.Response {
		req, _ := http.NewRequest(method, pe.url+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", pe.url)
		req.AddCookie(&http.Cookie{Name: "jit_session", Value: stolen.Value})
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	require.Equal(t, 200, thief("GET", "/admin/tenants", nil).StatusCode, "the cookie works before sign-out")

	p := b.post("/signout", url.Values{"csrf_token": {token}}, pe.url)
	require.Equal(t, 200, p.Status)
	require.Contains(t, p.Body, "You are signed out.")
	require.Contains(t, pe.auditActions(), "portal.signed_out")

	resp := thief("GET", "/admin/tenants", nil)
	require.Equal(t, 303, resp.StatusCode)
	require.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/signin"))
	resp = thief("POST", "/admin/tenants", url.Values{"name": {"After sign-out"}, "csrf_token": {token}})
	require.Equal(t, 303, resp.StatusCode)
	ts, _, err := pe.store.Tenants(context.Background(), store.Page{Limit: 10})
	require.NoError(t, err)
	require.Empty(t, ts)
}

// portalFixture: tenant Contoso with a ready application, tech@msp.example a member entitled
// through All admins, outsider@msp.example MSP staff without access to Contoso.
type portalFixture struct {
	tenantID, appID, techID, outsiderID string
}

func (pe *portalEnv) fixture() portalFixture {
	f := portalFixture{tenantID: pe.createTenant("Contoso Retail")}
	f.techID, _ = pe.createTechnician("tech@msp.example")
	f.outsiderID, _ = pe.createTechnician("outsider@msp.example")
	pe.must(204, pe.do("PUT", "/v1/tenants/"+f.tenantID+"/members/"+f.techID, pe.adminToken, nil))
	f.appID = pe.readyApplication(f.tenantID, "Entra ID - retail customer")
	pe.must(201, pe.do("POST", "/v1/tenants/"+f.tenantID+"/entitlements", pe.adminToken, map[string]any{
		"name": "Entra ID access for all admins", "condition": map[string]any{"type": "group", "group_id": "all-admins"}, "application_id": f.appID}))
	return f
}

func TestPortalTechnicianRequestRevealRevoke(t *testing.T) {
	pe := newPortalEnv(t)
	f := pe.fixture()
	ctx := context.Background()
	b := pe.browser()
	p := b.signIn("tech@msp.example")
	require.Equal(t, "/my", p.URL.Path)
	require.Contains(t, p.Body, "Entra ID - retail customer")
	token := b.csrf()

	// Request access: the API's rules apply (the duration may not exceed the application's).
	p = b.post("/my/applications/"+f.appID+"/request", url.Values{"csrf_token": {token}, "justification": {"ticket 42"}, "duration": {"5h"}}, pe.url)
	require.Equal(t, 400, p.Status)
	require.Contains(t, p.Body, "more than the 4h0m0s this application allows")
	p = b.post("/my/applications/"+f.appID+"/request", url.Values{"csrf_token": {token}, "justification": {"ticket 42"}, "duration": {"1h"}}, pe.url)
	require.Equal(t, 200, p.Status, p.Body)
	require.Contains(t, p.URL.Path, "/my/grants/grt_")
	grantID := strings.TrimPrefix(p.URL.Path, "/my/grants/")
	require.Contains(t, p.Body, "Preparing your account")

	// The workflow would make it active and store the sealed password.
	g, err := pe.store.Grant(ctx, grantID)
	require.NoError(t, err)
	now := time.Now().UTC()
	require.NoError(t, pe.store.RecordGrant(ctx, store.GrantUpdate{GrantID: g.ID, RunID: g.RunID, Status: string(workflows.StatusActive),
		ActivatedAt: now, ExpiresAt: now.Add(time.Hour), AccountUPN: "tech_msp.example@contoso.com", AccountID: "oid-1"}))
	require.NoError(t, pe.store.SaveCredential(ctx, g.ID, "tech_msp.example@contoso.com", "Managed-Passw0rd!"))

	p = b.get("/my/grants/" + grantID)
	require.Contains(t, p.Body, "tech_msp.example@contoso.com")
	require.NotContains(t, p.Body, "Managed-Passw0rd!", "hidden until revealed")
	require.Contains(t, p.Body, `data-countdown="`)

	// Reveal as the page's script does (JSON), and without script (the page).
	req, _ := http.NewRequest("POST", pe.url+"/my/grants/"+grantID+"/credentials", strings.NewReader(url.Values{"csrf_token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", pe.url)
	req.Header.Set("Accept", "application/json")
	p = b.do(req)
	require.Equal(t, 200, p.Status, p.Body)
	require.Equal(t, "no-store", p.Header.Get("Cache-Control"))
	var creds map[string]any
	require.NoError(t, json.Unmarshal([]byte(p.Body), &creds))
	require.Equal(t, "Managed-Passw0rd!", creds["password"])
	p = b.post("/my/grants/"+grantID+"/credentials", url.Values{"csrf_token": {token}}, pe.url)
	require.Contains(t, p.Body, "Managed-Passw0rd!")
	reads := 0
	for _, a := range pe.auditActions() {
		if a == "credentials.read" {
			reads++
		}
	}
	require.Equal(t, 2, reads, "every reveal is audited like the API's")

	// Admins see the grant (with its Temporal link) but never the password.
	admin := pe.browser()
	admin.signIn("admin@msp.example")
	p = admin.get("/admin/grants")
	require.Contains(t, p.Body, "tech@msp.example")
	require.Contains(t, p.Body, "http://127.0.0.1:8233/namespaces/default/workflows/")
	p = admin.post("/my/grants/"+grantID+"/credentials", url.Values{"csrf_token": {admin.csrf()}}, pe.url)
	require.Equal(t, 403, p.Status)
	require.NotContains(t, p.Body, "Managed-Passw0rd!")

	// Revoke.
	p = b.post("/my/grants/"+grantID+"/revoke", url.Values{"csrf_token": {token}, "reason": {"done"}}, pe.url)
	require.Equal(t, 200, p.Status, p.Body)
	require.Contains(t, p.Body, "Access revoked")
	require.Equal(t, []string{g.WorkflowID}, pe.wf.revoked)
}

func TestPortalOutsiderSeesNothing(t *testing.T) {
	pe := newPortalEnv(t)
	f := pe.fixture()
	tech := pe.browser()
	tech.signIn("tech@msp.example")
	p := tech.post("/my/applications/"+f.appID+"/request", url.Values{"csrf_token": {tech.csrf()}}, pe.url)
	grantPath := p.URL.Path
	require.Contains(t, grantPath, "/my/grants/grt_")

	b := pe.browser()
	p = b.signIn("outsider@msp.example")
	require.Equal(t, 200, p.Status)
	require.Equal(t, "/my", p.URL.Path)
	token := b.csrf()
	secrets := []string{"Contoso", "Entra ID - retail customer", f.tenantID, f.appID, "tech@msp.example", "contoso.com"}
	visit := []page{
		p,
		b.get("/admin/tenants"),
		b.get("/admin/tenants/" + f.tenantID),
		b.get("/admin/tenants/" + f.tenantID + "/applications/" + f.appID),
		b.get("/admin/grants"),
		b.get("/admin/audit"),
		b.get(grantPath),
		b.post("/my/applications/"+f.appID+"/request", url.Values{"csrf_token": {token}}, pe.url),
		b.post(grantPath+"/credentials", url.Values{"csrf_token": {token}}, pe.url),
	}
	for i, v := range visit {
		for _, s := range secrets {
			require.NotContains(t, v.Body, s, "page %d (%s) shows %q", i, v.URL, s)
		}
	}
	require.Equal(t, 403, visit[1].Status)
	require.Equal(t, 404, visit[6].Status)
	require.Equal(t, 404, visit[7].Status)
	require.Contains(t, visit[0].Body, "No applications are available to you")
}

func TestPortalApplicationForm(t *testing.T) {
	pe := newPortalEnv(t)
	tenantID := pe.createTenant("Contoso")
	b := pe.browser()
	b.signIn("admin@msp.example")
	token := b.csrf()

	p := b.post("/admin/tenants/"+tenantID+"/applications", url.Values{"csrf_token": {token}, "name": {" "}, "type": {"web"}, "credentials": {"entra_oidc"}}, pe.url)
	require.Equal(t, 400, p.Status)
	require.Contains(t, p.Body, `<p class="field-error" id="app-name-err">name: is required.</p>`)
	p = b.post("/admin/tenants/"+tenantID+"/applications", url.Values{"csrf_token": {token}, "name": {"Entra ID - retail customer"}, "type": {"web"}, "credentials": {"entra_oidc"}}, pe.url)
	require.Equal(t, 200, p.Status, p.Body)
	appPath := p.URL.Path
	appID := appPath[strings.LastIndex(appPath, "/")+1:]
	// The vendor's form, in its order, with 4 hours preselected.
	order := []string{`id="name"`, `id="type"`, `id="credentials"`, `id="authorize"`, `id="access_duration"`, `id="domain"`, `id="roles"`, `id="save"`}
	last := -1
	for _, id := range order {
		i := strings.Index(p.Body, id)
		require.Greater(t, i, last, "%s out of order", id)
		last = i
	}
	require.Contains(t, p.Body, `<option value="4h0m0s" selected>4 hours</option>`)

	// Authorize: the portal hands the browser to Entra (the fake directory here).
	noFollow := &http.Client{Jar: b.client.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("POST", pe.url+appPath+"/authorize", strings.NewReader(url.Values{"csrf_token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", pe.url)
	resp, err := noFollow.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 303, resp.StatusCode)
	loc := resp.Header.Get("Location")
	require.True(t, strings.HasPrefix(loc, "https://login.example/"), loc)
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "form-action 'self' https://login.example")
	state := stateOf(t, loc)
	p = b.get("/oauth/callback?code=code-" + url.QueryEscape(state) + "&state=" + url.QueryEscape(state))
	require.Equal(t, 200, p.Status)
	// Back on the application's form in the same tab, with the green check: no separate
	// "you can close this window" page.
	require.Equal(t, appPath, p.URL.Path, "the callback returns to the application's form")
	require.Contains(t, p.Body, "Authorized by <strong>admin@contoso.onmicrosoft.com</strong>")
	require.Contains(t, p.Body, "Authorized. Now choose the access duration")
	require.NotContains(t, p.Body, "close this window")
	// Only managed, verified domains are offered.
	require.Contains(t, p.Body, `<option value="contoso.com"`)
	require.Contains(t, p.Body, `<option value="contoso.onmicrosoft.com"`)
	require.NotContains(t, p.Body, `<option value="fabrikam-federated.com"`)
	require.NotContains(t, p.Body, `<option value="unverified.example"`)

	// The API's refusals show beside the field.
	save := func(domain string, roles ...string) page {
		return b.post(appPath, url.Values{"csrf_token": {token}, "name": {"Entra ID - retail customer"}, "access_duration": {"4h0m0s"},
			"domain": {domain}, "roles": roles}, pe.url)
	}
	p = save("fabrikam-federated.com", roleUserAdmin)
	require.Equal(t, 400, p.Status)
	require.Regexp(t, `id="domain-err">fabrikam-federated.com is a federated domain`, p.Body)
	p = save("contoso.com", "not-a-role")
	require.Equal(t, 400, p.Status)
	require.Contains(t, p.Body, `id="roles-err">&#34;not-a-role&#34; is not a built-in directory role`)
	p = save("contoso.com", roleUserAdmin, roleHelpdesk)
	require.Equal(t, 200, p.Status, p.Body)
	require.Contains(t, p.Body, "Configuration saved.")
	a, err := pe.store.Application(context.Background(), tenantID, appID)
	require.NoError(t, err)
	require.Equal(t, store.AppReady, a.Status)
	require.ElementsMatch(t, []string{roleUserAdmin, roleHelpdesk}, a.Roles)

	// Entitlement: IF group All admins THEN the application.
	p = b.post("/admin/tenants/"+tenantID+"/entitlements", url.Values{"csrf_token": {token}, "name": {"Entra ID access for all admins"},
		"condition_type": {"group"}, "group_id": {"all-admins"}, "technician_id": {""}, "application_id": {appID}}, pe.url)
	require.Equal(t, 200, p.Status, p.Body)
	require.Contains(t, p.Body, "Group All admins")
}

// TestPortalSecurityHeadersOnEveryPage visits every portal GET route signed in as an admin
// and checks the Content-Security-Policy (and friends) on each answer.
func TestPortalSecurityHeadersOnEveryPage(t *testing.T) {
	pe := newPortalEnv(t)
	f := pe.fixture()
	tech := pe.browser()
	tech.signIn("tech@msp.example")
	p := tech.post("/my/applications/"+f.appID+"/request", url.Values{"csrf_token": {tech.csrf()}}, pe.url)
	grantID := strings.TrimPrefix(p.URL.Path, "/my/grants/")

	b := pe.browser()
	b.signIn("admin@msp.example")
	params := map[string]string{":tenant_id": f.tenantID, ":application_id": f.appID, ":grant_id": grantID,
		":technician_id": f.techID, ":group_id": "all-admins", ":entitlement_id": "ent_x"}
	noFollow := &http.Client{Jar: b.client.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	checked := 0
	for _, rt := range pe.srv.Engine().Routes() {
		if rt.Method != "GET" || !portal.IsPortalRoute(rt.Path) || strings.HasPrefix(rt.Path, "/assets/") {
			continue
		}
		path := rt.Path
		for k, v := range params {
			path = strings.ReplaceAll(path, k, v)
		}
		resp, err := noFollow.Get(pe.url + path)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "frame-ancestors 'none'", "form-action 'self'"} {
			require.Contains(t, csp, d, "%s", rt.Path)
		}
		require.NotContains(t, csp, "unsafe-inline", rt.Path)
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), rt.Path)
		require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"), rt.Path)
		if resp.StatusCode == 200 && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			// No inline script or style, every input labelled.
			require.NotRegexp(t, `<script>|<style|style="|onclick=`, string(body), rt.Path)
			for _, id := range regexp.MustCompile(`<(?:input|select|textarea) id="([^"]+)"`).FindAllStringSubmatch(string(body), -1) {
				require.Contains(t, string(body), fmt.Sprintf(`for="%s"`, id[1]), "%s: input %s has no label", rt.Path, id[1])
			}
		}
		checked++
	}
	require.Greater(t, checked, 10)
}

// TestPortalTokensAndDeactivation: a technician creates (shown once), lists and revokes their
// API tokens in the portal; an admin deactivates them from the staff page, which ends their
// session, tokens and live grant.
func TestPortalTokensAndDeactivation(t *testing.T) {
	pe := newPortalEnv(t)
	f := pe.fixture()
	b := pe.browser()
	b.signIn("tech@msp.example")
	csrf := b.csrf()
	p := b.post("/my/tokens", url.Values{"csrf_token": {csrf}, "name": {"extension"}, "expires_in": {"720h0m0s"}}, pe.url)
	require.Equal(t, 201, p.Status, p.Body)
	m := regexp.MustCompile(`<code id="new-token">(jit_[^<]+)</code>`).FindStringSubmatch(p.Body)
	require.NotNil(t, m, p.Body)
	plain := m[1]
	require.Equal(t, 200, pe.do("GET", "/v1/me", plain, nil).Status)
	p = b.get("/my/tokens")
	require.Contains(t, p.Body, "extension")
	require.NotContains(t, p.Body, plain, "a token is shown once")
	ids := regexp.MustCompile(`action="/my/tokens/(tok_[a-z2-7]+)/revoke"`).FindAllStringSubmatch(p.Body, -1)
	require.Len(t, ids, 2, "the first token and the new one")
	p = b.post("/my/tokens/"+ids[0][1]+"/revoke", url.Values{"csrf_token": {csrf}}, pe.url)
	require.Equal(t, 200, p.Status)
	require.Contains(t, p.Body, "Token revoked")
	require.Equal(t, 401, pe.do("GET", "/v1/me", plain, nil).Status, "revoked from the portal: 401 at once")

	p = b.post("/my/applications/"+f.appID+"/request", url.Values{"csrf_token": {csrf}, "duration": {"1h"}}, pe.url)
	require.Equal(t, 200, p.Status, p.Body)
	grantID := strings.TrimPrefix(p.URL.Path, "/my/grants/")
	g, err := pe.store.Grant(context.Background(), grantID)
	require.NoError(t, err)
	require.NoError(t, pe.store.RecordGrant(context.Background(), store.GrantUpdate{GrantID: g.ID, Status: string(workflows.StatusActive)}))

	admin := pe.browser()
	admin.signIn("admin@msp.example")
	p = admin.get("/admin/staff")
	require.Contains(t, p.Body, `action="/admin/staff/`+f.techID+`/active"`)
	p = admin.post("/admin/staff/"+f.techID+"/active", url.Values{"csrf_token": {admin.csrf()}, "active": {"false"}}, pe.url)
	require.Equal(t, 200, p.Status, p.Body)
	require.Contains(t, p.Body, "Deactivated")
	require.Equal(t, 303, b.noFollow("/my").StatusCode, "the technician's session ended")
	pe.wf.mu.Lock()
	revoked := slices.Clone(pe.wf.revoked)
	pe.wf.mu.Unlock()
	require.Contains(t, revoked, g.WorkflowID, "the live grant is revoked")
}
