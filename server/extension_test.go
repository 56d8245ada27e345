package server_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/server"
)

const (
	testExtensionID  = "pgaljmpcpofkcdgcdcggecdnpapldpga"
	otherExtensionID = "abcdefghijklmnopabcdefghijklmnop"
)

func withExtension(d *server.Deps) { d.ExtensionIDs = []string{testExtensionID} }

func challengeOf(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func connectQuery(extensionID, verifier, state string) url.Values {
	return url.Values{"extension_id": {extensionID}, "code_challenge": {challengeOf(verifier)},
		"code_challenge_method": {"S256"}, "state": {state}}
}

// approve submits the connect page's form and returns the redirect it answers with.
func (b *browser) approve(q url.Values) *http.Response {
	b.t.Helper()
	form := url.Values{"csrf_token": {b.csrf()}}
	for k, v := range q {
		form[k] = v
	}
	req, err := http.NewRequest("POST", b.pe.url+"/extension/connect", strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.pe.url)
	c := &http.Client{Jar: b.client.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	require.NoError(b.t, err)
	resp.Body.Close()
	return resp
}

// connect runs the whole connect flow for a signed-in browser and returns the one-time code.
func (b *browser) connect(verifier string) string {
	b.t.Helper()
	q := connectQuery(testExtensionID, verifier, "st4te")
	p := b.get("/extension/connect?" + q.Encode())
	require.Equal(b.t, 200, p.Status, p.Body)
	require.Contains(b.t, p.Body, "Connect the jitaccess extension?")
	require.Contains(b.t, p.Header.Get("Content-Security-Policy"), "form-action chrome-extension://"+testExtensionID+" 'self'")
	resp := b.approve(q)
	require.Equal(b.t, http.StatusSeeOther, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(b.t, err)
	require.Equal(b.t, "chrome-extension", loc.Scheme)
	require.Equal(b.t, testExtensionID, loc.Host)
	require.Equal(b.t, "/connected.html", loc.Path)
	require.Equal(b.t, "st4te", loc.Query().Get("state"))
	require.NotEmpty(b.t, loc.Query().Get("code"))
	return loc.Query().Get("code")
}

func (pe *portalEnv) extensionSession(code, verifier string) response {
	pe.t.Helper()
	return pe.do("POST", "/v1/extension/sessions", "", map[string]string{"code": code, "code_verifier": verifier})
}

func TestExtensionConnectNeedsSessionAndKnownExtension(t *testing.T) {
	pe := newPortalEnv(t, withExtension)
	pe.fixture()
	b := pe.browser()
	resp := b.noFollow("/extension/connect?" + connectQuery(testExtensionID, "v", "s").Encode())
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "no portal session: sign in first")
	require.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/signin?next="), resp.Header.Get("Location"))

	b.signIn("tech@msp.example")
	for name, q := range map[string]url.Values{
		"unknown extension": connectQuery(otherExtensionID, "v", "s"),
		"no extension":      connectQuery("", "v", "s"),
		"bad state":         connectQuery(testExtensionID, "v", `"><script>`),
	} {
		t.Run(name, func(t *testing.T) {
			p := b.get("/extension/connect?" + q.Encode())
			require.Equal(t, 400, p.Status)
			require.NotContains(t, p.Body, "Connect the jitaccess extension?")
			require.Equal(t, 400, b.approve(q).StatusCode, "no code is made for it")
		})
	}
	q := connectQuery(testExtensionID, "v", "s")
	q.Set("code_challenge_method", "plain")
	require.Equal(t, 400, b.approve(q).StatusCode, "only S256")
}

func TestExtensionSessionLifecycle(t *testing.T) {
	pe := newPortalEnv(t, withExtension)
	pe.fixture()
	b := pe.browser()
	b.signIn("tech@msp.example")
	verifier := strings.Repeat("verifier-", 6)

	// A wrong verifier spends the code: the right one afterwards gets nothing.
	code := b.connect(verifier)
	require.Equal(t, "invalid_code", pe.must(400, pe.extensionSession(code, verifier+"x")).errorCode())
	pe.must(400, pe.extensionSession(code, verifier))

	code = b.connect(verifier)
	pe.must(400, pe.extensionSession(code, ""))
	code = b.connect(verifier)
	r := pe.must(201, pe.extensionSession(code, verifier))
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	token := r.str("token")
	require.True(t, strings.HasPrefix(token, "jit_"), token)
	require.NotEmpty(t, r.str("expires_at"))
	pe.must(400, pe.extensionSession(code, verifier)) // single use

	me := pe.must(200, pe.do("GET", "/v1/me", token, nil))
	require.Equal(t, "tech@msp.example", me.str("email"))
	cfg := pe.must(200, pe.do("GET", "/v1/extension/config", token, nil))
	require.Equal(t, "https://login.example", cfg.str("authority"))
	require.Equal(t, "https://login.example/_sim/admin-center", cfg.str("sign_in_url"))

	// The session shows on the portal's tokens page, as an extension session.
	p := b.get("/my/tokens")
	require.Contains(t, p.Body, "browser extension")
	list := pe.must(200, pe.do("GET", "/v1/tokens", token, nil)).items()
	var kinds []string
	for _, it := range list {
		kinds = append(kinds, it["kind"].(string))
	}
	require.Contains(t, kinds, "extension")

	// Signing out of the extension revokes it.
	pe.must(204, pe.do("DELETE", "/v1/extension/sessions/current", token, nil))
	pe.must(401, pe.do("GET", "/v1/me", token, nil))

	// An ordinary API token is not an extension session.
	_, apiToken := pe.createTechnician("other@msp.example")
	pe.must(404, pe.do("DELETE", "/v1/extension/sessions/current", apiToken, nil))
	pe.must(200, pe.do("GET", "/v1/me", apiToken, nil))

	// Revoked from the portal's list.
	token = pe.must(201, pe.extensionSession(b.connect(verifier), verifier)).str("token")
	pe.must(200, pe.do("GET", "/v1/me", token, nil))
	p = b.get("/my/tokens")
	rows := regexp.MustCompile(`(?s)<th scope="row">browser extension</th>.*?action="/my/tokens/(tok_[a-z2-7]+)/revoke"`).FindStringSubmatch(p.Body)
	require.NotNil(t, rows, p.Body)
	p = b.post("/my/tokens/"+rows[1]+"/revoke", url.Values{"csrf_token": {b.csrf()}}, pe.url)
	require.Equal(t, 200, p.Status)
	pe.must(401, pe.do("GET", "/v1/me", token, nil))
}

func TestExtensionSessionEndsWithDeactivation(t *testing.T) {
	pe := newPortalEnv(t, withExtension)
	f := pe.fixture()
	b := pe.browser()
	b.signIn("tech@msp.example")
	verifier := strings.Repeat("v", 43)
	token := pe.must(201, pe.extensionSession(b.connect(verifier), verifier)).str("token")
	pending := b.connect(verifier) // approved, not yet exchanged
	pe.must(200, pe.do("GET", "/v1/me", token, nil))

	pe.must(200, pe.do("PATCH", "/v1/technicians/"+f.techID, pe.adminToken, map[string]any{"active": false}))
	pe.must(401, pe.do("GET", "/v1/me", token, nil))
	require.Equal(t, "technician_inactive", pe.must(409, pe.extensionSession(pending, verifier)).errorCode())
}

func TestExtensionCORSOnlyForConfiguredExtensions(t *testing.T) {
	pe := newPortalEnv(t, withExtension)
	good := "chrome-extension://" + testExtensionID
	for _, tc := range []struct {
		origin, method, path string
		allowed              bool
	}{
		{good, "OPTIONS", "/v1/me", true},
		{good, "OPTIONS", "/v1/extension/sessions", true},
		{good, "GET", "/v1/me", true},
		{"chrome-extension://" + otherExtensionID, "OPTIONS", "/v1/me", false},
		{"chrome-extension://" + otherExtensionID, "GET", "/v1/me", false},
		{"https://evil.example", "OPTIONS", "/v1/me", false},
		{pe.url, "GET", "/v1/me", false},
		{good, "GET", "/my", false}, // the portal is never cross-origin
	} {
		t.Run(tc.origin+" "+tc.method+" "+tc.path, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, pe.url+tc.path, nil)
			require.NoError(t, err)
			req.Header.Set("Origin", tc.origin)
			if tc.method == "OPTIONS" {
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
			}
			if tc.method == "GET" {
				req.Header.Set("Authorization", "Bearer "+pe.adminToken)
			}
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := c.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			if !tc.allowed {
				require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
				return
			}
			require.Equal(t, tc.origin, resp.Header.Get("Access-Control-Allow-Origin"))
			require.Empty(t, resp.Header.Get("Access-Control-Allow-Credentials"))
			if tc.method == "OPTIONS" {
				require.Equal(t, http.StatusNoContent, resp.StatusCode)
				require.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "Authorization")
			} else {
				require.Equal(t, 200, resp.StatusCode)
			}
		})
	}
}
