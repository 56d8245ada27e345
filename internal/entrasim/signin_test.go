package entrasim

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// browser is a cookie-keeping HTTP client that stops at every redirect.
type browser struct {
	t   *testing.T
	c   *http.Client
	url string // the last authorize page
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// get follows redirects itself, remembering the last authorize URL, and returns the final page.
func (b *browser) get(u string) (int, string) {
	b.t.Helper()
	for i := 0; i < 10; i++ {
		if strings.Contains(u, "/oauth2/v2.0/authorize") {
			b.url = u
		}
		resp, err := b.c.Get(u)
		if err != nil {
			b.t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			return resp.StatusCode, string(body)
		}
		loc, _ := resp.Request.URL.Parse(resp.Header.Get("Location"))
		u = loc.String()
	}
	b.t.Fatal("too many redirects")
	return 0, ""
}

var hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// submit posts the current page's hidden fields plus fields to the authorize URL and follows redirects.
func (b *browser) submit(page string, fields ...string) (int, string) {
	b.t.Helper()
	form := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(page, -1) {
		form.Add(m[1], unescapeHTML(m[2]))
	}
	for i := 0; i+1 < len(fields); i += 2 {
		form.Set(fields[i], fields[i+1])
	}
	resp, err := b.c.PostForm(b.url, form)
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusFound {
		return b.get(resp.Header.Get("Location"))
	}
	return resp.StatusCode, string(body)
}

func unescapeHTML(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

// signIn runs user name then credentials through the sign-in page of the admin center.
func (b *browser) signIn(base, upn string, cred ...string) string {
	b.t.Helper()
	_, page := b.get(base + "/_sim/admin-center?tenant=contoso.com")
	if !strings.Contains(page, `name="login"`) {
		b.t.Fatalf("no user name field: %s", page)
	}
	_, page = b.submit(page, "step", "username", "login", upn)
	if !strings.Contains(page, "Enter password") {
		b.t.Fatalf("no password page: %s", page)
	}
	_, page = b.submit(page, append([]string{"step", "password"}, cred...)...)
	return page
}

func TestMandatoryMFASignInAndAdminCenter(t *testing.T) {
	e := newEnv(t, Options{AutoConsent: true})
	tok := e.userToken("contoso.onmicrosoft.com", ContosoAdminUPN, methodScopes...).AccessToken
	id := newTestUser(t, e, tok, "jit-carol@contoso.com")
	if st, _, body := e.do(http.MethodPost, "/v1.0/roleManagement/directory/roleAssignments", tok, map[string]any{
		"roleDefinitionId": roleGlobalReader, "principalId": id, "directoryScopeId": "/"}); st != http.StatusCreated {
		t.Fatalf("assign: %d %v", st, body)
	}

	// Unknown user, wrong password: Entra's AADSTS errors.
	b := newBrowser(t)
	_, page := b.get(e.ts.URL + "/_sim/admin-center?tenant=contoso.com")
	_, page = b.submit(page, "step", "username", "login", "nobody@contoso.com")
	if !strings.Contains(page, "AADSTS50034") {
		t.Fatalf("unknown user: %s", page)
	}
	if page = newBrowser(t).signIn(e.ts.URL, "jit-carol@contoso.com", "passwd", "wrong"); !strings.Contains(page, "AADSTS50126") {
		t.Fatalf("wrong password: %s", page)
	}

	// Password only, registration restricted: blocked.
	if err := e.sim.SetRegistrationRestricted("contoso", true); err != nil {
		t.Fatal(err)
	}
	if page = newBrowser(t).signIn(e.ts.URL, "jit-carol@contoso.com", "passwd", "Xy7-long-passw0rd"); !strings.Contains(page, "AADSTS50079") || strings.Contains(page, `id="register"`) {
		t.Fatalf("restricted registration: %s", page)
	}
	_ = e.sim.SetRegistrationRestricted("contoso", false)

	// Password only: interrupted to register MFA; it cannot be skipped.
	b = newBrowser(t)
	page = b.signIn(e.ts.URL, "jit-carol@contoso.com", "passwd", "Xy7-long-passw0rd")
	if !strings.Contains(page, "More information required") || strings.Contains(page, `id="skip"`) {
		t.Fatalf("interrupt: %s", page)
	}
	_, page = b.submit(page, "step", "register")
	if !strings.Contains(page, `<strong id="account">jit-carol@contoso.com</strong>`) || !strings.Contains(page, "<li>Global Reader</li>") {
		t.Fatalf("admin center after registration: %s", page)
	}
	u, _ := e.sim.User("contoso", id)
	if len(u.AuthMethods) != 2 || u.AuthMethods[1].Type != "microsoftAuthenticator" {
		t.Fatalf("registered: %v", u.AuthMethods)
	}
	// Registered now: the next password sign-in asks for approval.
	if page = newBrowser(t).signIn(e.ts.URL, "jit-carol@contoso.com", "passwd", "Xy7-long-passw0rd"); !strings.Contains(page, "Approve sign in request") {
		t.Fatalf("second factor: %s", page)
	}
}

func TestTAPSignInSessionEndsWithTheTAP(t *testing.T) {
	e := newEnv(t, Options{AutoConsent: true})
	tok := e.userToken("contoso.onmicrosoft.com", ContosoAdminUPN, methodScopes...).AccessToken
	id := newTestUser(t, e, tok, "jit-dave@contoso.com")
	st, _, body := e.do(http.MethodPost, "/v1.0/users/"+id+"/authentication/temporaryAccessPassMethods", tok, map[string]any{"lifetimeInMinutes": 60})
	if st != http.StatusCreated {
		t.Fatalf("TAP: %d %v", st, body)
	}
	pass := body["temporaryAccessPass"].(string)
	if page := newBrowser(t).signIn(e.ts.URL, "jit-dave@contoso.com", "tap", "wrong-tap"); !strings.Contains(page, "AADSTS50126") {
		t.Fatalf("wrong TAP: %s", page)
	}
	b := newBrowser(t)
	page := b.signIn(e.ts.URL, "jit-dave@contoso.com", "tap", pass)
	if !strings.Contains(page, "Keep your account secure") || !strings.Contains(page, `id="skip"`) {
		t.Fatalf("TAP passes MFA and offers registration: %s", page)
	}
	_, page = b.submit(page, "step", "register")
	if !strings.Contains(page, `id="account">jit-dave@contoso.com`) || !strings.Contains(page, "No directory roles") {
		t.Fatalf("admin center: %s", page)
	}
	// Still signed in 50 minutes later; not after the TAP's hour.
	e.clock.Advance(50 * time.Minute)
	if _, page = b.get(e.ts.URL + "/_sim/admin-center"); !strings.Contains(page, `id="account"`) {
		t.Fatalf("session within the TAP: %s", page)
	}
	e.clock.Advance(11 * time.Minute)
	if _, page = b.get(e.ts.URL + "/_sim/admin-center"); !strings.Contains(page, `name="login"`) {
		t.Fatalf("session outlived the TAP: %s", page)
	}
	// An expired TAP is refused.
	if page = newBrowser(t).signIn(e.ts.URL, "jit-dave@contoso.com", "tap", pass); !strings.Contains(page, "AADSTS50126") {
		t.Fatalf("expired TAP: %s", page)
	}

	// A fresh TAP; revoking sessions and disabling end the session and refuse both credentials.
	tok = e.appToken(ContosoTenantID)
	_, _, body = e.do(http.MethodPost, "/v1.0/users/"+id+"/authentication/temporaryAccessPassMethods", tok, map[string]any{"lifetimeInMinutes": 120})
	pass = body["temporaryAccessPass"].(string)
	b = newBrowser(t)
	page = b.signIn(e.ts.URL, "jit-dave@contoso.com", "tap", pass)
	if strings.Contains(page, "Keep your account secure") {
		_, page = b.submit(page, "step", "skip")
	}
	if !strings.Contains(page, `id="account"`) {
		t.Fatalf("second TAP sign-in: %s", page)
	}
	e.clock.Advance(time.Second)
	if st, _, _ := e.do(http.MethodPatch, "/v1.0/users/"+id, tok, map[string]any{"accountEnabled": false}); st != http.StatusNoContent {
		t.Fatal("disable")
	}
	e.do(http.MethodPost, "/v1.0/users/"+id+"/revokeSignInSessions", tok, nil)
	if _, page = b.get(e.ts.URL + "/_sim/admin-center"); !strings.Contains(page, `name="login"`) {
		t.Fatalf("session survived revoke: %s", page)
	}
	for _, cred := range [][]string{{"tap", pass}, {"passwd", "Xy7-long-passw0rd"}} {
		if page = newBrowser(t).signIn(e.ts.URL, "jit-dave@contoso.com", cred...); !strings.Contains(page, "AADSTS50057") {
			t.Fatalf("disabled account with %s: %s", cred[0], page)
		}
	}
}
