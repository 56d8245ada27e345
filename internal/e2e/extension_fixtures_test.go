package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/jitaccess/jitaccess/internal/entrasim"
)

// The extension test's fixtures: the customer set up through the admin API and the look-alike
// sign-in page on another origin.

// portalSeed is the customer set up through the admin API, authorized through the emulator's
// account picker (the portal's emulator asks who signs in).
type portalSeed struct {
	adminToken, techToken, techID, tenantID, appID, appName string
}

func seedThroughPicker(t *testing.T, s *stack) portalSeed {
	t.Helper()
	d := portalSeed{adminToken: s.Admin, appName: "Entra ID - retail customer"}
	var tenant, app struct{ ID string }
	var tech struct{ ID, Token string }
	steps := []struct {
		method, path string
		in, out      any
	}{
		{http.MethodPost, "/v1/tenants", map[string]any{"name": "Contoso Retail"}, &tenant},
		{http.MethodPost, "/v1/technicians", map[string]any{"email": entrasim.MSPTechUPN, "display_name": "Tess Technician"}, &tech},
	}
	for _, st := range steps {
		if code := s.call(s.Admin, st.method, st.path, st.in, st.out); code >= 300 {
			t.Fatalf("%s %s: %d", st.method, st.path, code)
		}
	}
	d.tenantID, d.techToken, d.techID = tenant.ID, tech.Token, tech.ID
	if code := s.call(s.Admin, http.MethodPut, "/v1/tenants/"+tenant.ID+"/members/"+tech.ID, nil, nil); code >= 300 {
		t.Fatalf("member: %d", code)
	}
	if code := s.call(s.Admin, http.MethodPost, "/v1/tenants/"+tenant.ID+"/applications",
		map[string]any{"name": d.appName, "type": "web", "credentials": "entra_oidc"}, &app); code >= 300 {
		t.Fatalf("application: %d", code)
	}
	d.appID = app.ID
	appPath := "/v1/tenants/" + tenant.ID + "/applications/" + app.ID
	var auth struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	if code := s.call(s.Admin, http.MethodPost, appPath+"/authorize", nil, &auth); code >= 300 {
		t.Fatalf("authorize: %d", code)
	}
	admin, ok := s.Sim.User("contoso", "admin@contoso.onmicrosoft.com")
	if !ok {
		t.Fatal("no contoso admin in the emulator")
	}
	pickAccount(t, auth.AuthorizeURL, admin.ID)
	if code := s.call(s.Admin, http.MethodPatch, appPath, map[string]any{"domain": "contoso.onmicrosoft.com",
		"roles": []string{"fe930be7-5e62-47db-91af-98c3a49a38b1", "729827e3-9c14-49f7-bb1b-9608f156bbb8"}, "access_duration": "1h",
		// Both roles are privileged, so approval is required by default; one person walks this.
		"policy": map[string]any{"approval": map[string]any{"required": false}}}, nil); code >= 300 {
		t.Fatalf("configure application: %d", code)
	}
	if code := s.call(s.Admin, http.MethodPost, "/v1/tenants/"+tenant.ID+"/entitlements", map[string]any{
		"name": "Entra ID access for all admins", "condition": map[string]any{"type": "group", "group_id": "all-admins"}, "application_id": app.ID,
	}, nil); code >= 300 {
		t.Fatalf("entitlement: %d", code)
	}
	return d
}

// pickAccount answers the emulator's account picker as the given user (Accept), and follows
// the redirect to jitaccess's consent callback.
func pickAccount(t *testing.T, authorizeURL, userID string) {
	t.Helper()
	u, err := url.Parse(authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	form := u.Query()
	form.Set("action", "accept")
	form.Set("user_id", userID)
	u.RawQuery = ""
	resp, err := http.PostForm(u.String(), form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.Path, "/oauth/callback") {
		t.Fatalf("consent: %d at %s: %s", resp.StatusCode, resp.Request.URL, body)
	}
}

// liveGrant is the technician's one live grant.
func (s *stack) liveGrant(token string) grantView {
	s.t.Helper()
	var page struct {
		Items []grantView `json:"items"`
	}
	if code := s.call(token, http.MethodGet, "/v1/access-requests", nil, &page); code != http.StatusOK {
		s.t.Fatalf("list grants: %d", code)
	}
	for _, g := range page.Items {
		switch g.Status {
		case "pending", "provisioning", "active":
			return g
		}
	}
	s.t.Fatalf("no live grant in %+v", page.Items)
	return grantView{}
}

// lookalike is a page on another origin with the sign-in page's path and field names; it
// records every request it gets.
type lookalike struct {
	srv  *httptest.Server
	mu   sync.Mutex
	upn  string
	seen []string
}

func newLookalike(t *testing.T) *lookalike {
	l := &lookalike{}
	l.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		l.mu.Lock()
		l.seen = append(l.seen, r.Method+" "+r.URL.String()+" "+string(body))
		upn := l.upn
		l.mu.Unlock()
		if r.URL.Path == "/favicon.ico" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html><head><title>Sign in</title></head><body><main><p>Microsoft</p>
<p id="upn">%s</p><h1>Enter password</h1>
<form method="POST" action=""><input type="email" id="login" name="login"><input type="email" name="loginfmt">
<input type="password" id="passwd" name="passwd"><input type="password" id="tap" name="tap"><input type="password" name="accessPass">
<button type="submit" id="signin" name="step" value="password">Sign in</button></form></main></body></html>`, upn)
	}))
	t.Cleanup(l.srv.Close)
	return l
}

func (l *lookalike) setUPN(upn string) {
	l.mu.Lock()
	l.upn = upn
	l.mu.Unlock()
}

func (l *lookalike) origin() string { return l.srv.URL }

// signInURL has the path of the sign-in page the admin center sends to.
func (l *lookalike) signInURL() string {
	return l.srv.URL + "/organizations/oauth2/v2.0/authorize?client_id=" + entrasim.AzurePortalClientID
}

// assertNothingSent fails when the look-alike got anything but page loads.
func (l *lookalike) assertNothingSent(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.seen {
		if !strings.HasPrefix(r, "GET ") || !strings.HasSuffix(r, " ") {
			t.Fatalf("the look-alike received %q", r)
		}
	}
}
