package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/store"
)

// The consent callback is bound to the browser session that started it: a callback in
// another session, another person's session or (for a portal start) no session is refused
// with a clear error, the code is not redeemed and nothing is stored.
func TestConsentCallbackBoundToTheStartingSession(t *testing.T) {
	pe := newPortalEnv(t)
	tenantID := pe.createTenant("Contoso")
	appID := pe.createApplication(tenantID, "Entra ID")
	appPath := "/admin/tenants/" + tenantID + "/applications/" + appID

	admin := pe.browser()
	admin.signIn("admin@msp.example")
	token := admin.csrf()
	pe.createTechnician("tech@msp.example")
	tech := pe.browser()
	tech.signIn("tech@msp.example")
	require.NotNil(t, tech.sessionCookie())

	// portalStart clicks Authorize in the admin's portal and returns the state Entra gets.
	portalStart := func() string {
		noFollow := &http.Client{Jar: admin.client.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		req, _ := http.NewRequest("POST", pe.url+appPath+"/authorize", strings.NewReader(url.Values{"csrf_token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", pe.url)
		resp, err := noFollow.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, 303, resp.StatusCode)
		return stateOf(t, resp.Header.Get("Location"))
	}
	callback := func(b *browser, state string) page {
		return b.get("/oauth/callback?code=code-" + url.QueryEscape(state) + "&state=" + url.QueryEscape(state))
	}
	unchanged := func() {
		t.Helper()
		a, err := pe.store.Application(context.Background(), tenantID, appID)
		require.NoError(t, err)
		require.Nil(t, a.Authorization, "no consent stored")
		require.Equal(t, "unauthorized", a.Status)
		pe.dir.mu.Lock()
		defer pe.dir.mu.Unlock()
		require.Empty(t, pe.dir.redeemed, "no code redeemed")
	}
	refused := func(p page) {
		t.Helper()
		require.Equal(t, http.StatusForbidden, p.Status, p.Body)
		require.Contains(t, p.Body, "consent_session_mismatch")
		require.Contains(t, p.Body, "Nothing was changed")
		unchanged()
	}

	// Started in the admin's portal session, completed in the technician's browser.
	refused(callback(tech, portalStart()))
	// … or in a browser without any session.
	refused(callback(pe.browser(), portalStart()))
	// Started through the API with the admin's token, completed in another person's session.
	r := pe.must(200, pe.do("POST", "/v1/tenants/"+tenantID+"/applications/"+appID+"/authorize", pe.adminToken, nil))
	refused(callback(tech, stateOf(t, r.str("authorize_url"))))

	evs, _, err := pe.store.AuditEvents(context.Background(), store.AuditFilter{TenantID: tenantID}, store.Page{Limit: store.MaxLimit})
	require.NoError(t, err)
	n := 0
	for _, e := range evs {
		if e.Action == "application.authorization_refused" && e.Details["error"] == "consent_session_mismatch" {
			n++
		}
	}
	require.Equal(t, 3, n, "each refusal is recorded")

	// The starting session completes it.
	p := callback(admin, portalStart())
	require.Equal(t, 200, p.Status, p.Body)
	require.Equal(t, appPath, p.URL.Path)
	a, err := pe.store.Application(context.Background(), tenantID, appID)
	require.NoError(t, err)
	require.NotNil(t, a.Authorization)
	// Through the API, the consenting admin's browser holds no session of ours: allowed.
	r = pe.must(200, pe.do("POST", "/v1/tenants/"+tenantID+"/applications/"+appID+"/authorize", pe.adminToken, nil))
	require.Equal(t, 200, callback(pe.browser(), stateOf(t, r.str("authorize_url"))).Status)
}
