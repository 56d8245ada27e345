package e2e

import (
	"context"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jitaccess/jitaccess/internal/demo"
)

// consentAs answers the emulator's account picker for whoever follows an authorize URL,
// choosing userID and Accept (what the admin clicks in TestBrowserPortal), so that demo.Seed
// works on a stack whose auto-consent is off.
type consentAs struct {
	simURL, userID string
}

func (c consentAs) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && strings.HasPrefix(r.URL.String(), c.simURL) && strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/authorize") {
		form := r.URL.Query()
		form.Set("action", "accept")
		form.Set("user_id", c.userID)
		u := *r.URL
		u.RawQuery = ""
		post, err := http.NewRequestWithContext(r.Context(), http.MethodPost, u.String(), strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r = post
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestBrowserTAPSignIn is issue #16's browser test on the real stack: a technician requests
// access in the portal to an application set to TAP, reveals the pass, opens the emulator's
// sign-in for the Azure portal's client (mandatory MFA), signs in with the user name and the
// pass, registers a method when asked, and reaches the stand-in admin center showing the
// grant's roles. After the revoke the session is gone and the same pass and password are refused.
func TestBrowserTAPSignIn(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: apt-get install chromium")
	}
	s := newStack(t, stackOptions{Portal: true, MaxAccessDuration: "24h"})
	admin, ok := s.Sim.User("contoso", "admin@contoso.onmicrosoft.com")
	if !ok {
		t.Fatal("contoso's admin is not seeded")
	}
	d, err := demo.Seed(context.Background(), demo.Options{API: s.API, AdminToken: s.Admin, AccessDuration: "2h",
		HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: consentAs{simURL: s.SimURL, userID: admin.ID}}})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	appPath := "/v1/tenants/" + d.TenantID + "/applications/" + d.ApplicationID
	if code := s.call(s.Admin, http.MethodPatch, appPath, map[string]any{"sign_in_method": "tap"}, nil); code != http.StatusOK {
		t.Fatalf("set sign_in_method tap: %d", code)
	}

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoFirstRun,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	if err := chromedp.Do(browser); err != nil {
		t.Fatal(err)
	}
	deadline, cancelAll := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancelAll()
	stopWhenDone := context.AfterFunc(deadline, cancelBrowser)
	defer stopWhenDone()
	person := func() *pilot {
		ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		if err := chromedp.Do(ctx); err != nil {
			t.Fatal(err)
		}
		return &pilot{t: t, ctx: ctx, api: s.API, shots: t.TempDir()}
	}

	// The technician requests access in the portal and reveals the pass.
	tech := person()
	tech.do(chromedp.Navigate(s.API + "/"))
	tech.signIn(demo.Technician, false)
	tech.waitText("h1", "My access")
	tech.waitText("main", demo.Application)
	tech.do(chromedp.SendKeys(chromedp.CSS(`textarea[name=justification]`), "Ticket 4712: check sign-in logs"),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Request access"]`)))
	tech.waitFor(`!!document.getElementById("reveal")`, 90*time.Second)
	tech.waitFor(`!!document.getElementById("tap") && /\d+ s left/.test(document.getElementById("tap-countdown").textContent)`, 10*time.Second)
	if howTo := tech.eval(`document.getElementById("how-to-sign-in").innerText`); !strings.Contains(howTo, "Temporary Access Pass") {
		t.Fatalf("how to sign in: %q", howTo)
	}
	upn := tech.eval(`document.getElementById("upn").textContent`)
	grantPage := tech.location()
	tech.do(chromedp.Click(chromedp.ID("reveal")))
	tech.waitFor(`!document.getElementById("tap").textContent.startsWith("•")`, 20*time.Second)
	tap := tech.eval(`document.getElementById("tap").textContent`)
	password := tech.eval(`document.getElementById("password").textContent`)
	tech.waitFor(`!document.getElementById("copy-tap").hidden`, 5*time.Second)
	if len(tap) < 8 || strings.Contains(tap, " ") || len(password) < 12 {
		t.Fatalf("revealed pass %q / password of %d characters", tap, len(password))
	}
	if strings.Contains(s.Logs.String(), tap) {
		t.Fatal("the pass appears in the product's logs")
	}

	// The Azure portal's client: user name, then the pass; asked to register, registers.
	adminCenter := s.SimURL + "/_sim/admin-center?tenant=" + url.QueryEscape(demo.Domain)
	tech.do(chromedp.Navigate(adminCenter))
	tech.emulatorSignIn(upn, "tap", tap)
	tech.waitText("h1", "Keep your account secure")
	tech.do(chromedp.Click(chromedp.ID("register")))
	tech.waitText("h1", "Admin center")
	if got := tech.eval(`document.getElementById("account").textContent`); !strings.EqualFold(got, upn) {
		t.Fatalf("admin center signed in as %q, want %q", got, upn)
	}
	roles := tech.eval(`document.getElementById("roles").innerText`)
	for _, want := range []string{"User Administrator", "Helpdesk Administrator"} {
		if !strings.Contains(roles, want) {
			t.Fatalf("admin center roles %q lack %s", roles, want)
		}
	}
	if u, _ := s.Sim.User("contoso", upn); !hasMethod(u, "microsoftAuthenticator") || !hasMethod(u, "temporaryAccessPass") {
		t.Fatalf("after the sign-in the account has %+v", u.AuthMethods)
	}

	// Revoke in the portal.
	tech.do(chromedp.Navigate(grantPage))
	tech.waitFor(`!!document.getElementById("revoke")`, 20*time.Second)
	tech.do(chromedp.Click(chromedp.ID("revoke")))
	tech.waitText(".notice", "Access revoked")
	tech.waitFor(`/revoked/.test(document.getElementById("grant-status").textContent)`, 60*time.Second)
	if u, _ := s.Sim.User("contoso", upn); u.AccountEnabled || hasMethod(u, "temporaryAccessPass") {
		t.Fatalf("after the revoke: enabled %v, methods %+v", u.AccountEnabled, u.AuthMethods)
	}

	// The admin center session has ended; the same pass and password are refused.
	tech.do(chromedp.Navigate(adminCenter))
	tech.emulatorSignIn(upn, "tap", tap)
	tech.waitText("#error", "AADSTS")
	tapErr := tech.eval(`document.getElementById("error").textContent`)
	other := person() // a fresh browser: nothing left from the first sign-in
	other.do(chromedp.Navigate(adminCenter))
	other.emulatorSignIn(upn, "passwd", password)
	other.waitText("#error", "AADSTS")
	pwErr := other.eval(`document.getElementById("error").textContent`)
	for _, e := range []string{tapErr, pwErr} {
		if !strings.Contains(e, "AADSTS50057") && !strings.Contains(e, "AADSTS50126") {
			t.Fatalf("refusal %q is not a disabled account or bad credential", e)
		}
	}
	if strings.Contains(tech.eval(`document.body.innerText`), "Admin center") {
		t.Fatal("the admin center is still reachable after the revoke")
	}
	// Still refused without a browser: ROPC with the password.
	if aadsts := s.signIn(upn, password); aadsts == "" {
		t.Fatal("the password still works after the revoke")
	}
}

// emulatorSignIn types the user name, then the secret into field (passwd or tap), on the
// emulator's Microsoft-shaped sign-in page.
func (p *pilot) emulatorSignIn(upn, field, secret string) {
	p.t.Helper()
	p.waitFor(`!!document.getElementById("login")`, 20*time.Second)
	p.do(chromedp.SendKeys(chromedp.ID("login"), upn), chromedp.Click(chromedp.ID("next")))
	p.waitFor(`!!document.getElementById("`+field+`")`, 20*time.Second)
	p.do(chromedp.SendKeys(chromedp.ID(field), secret), chromedp.Click(chromedp.ID("signin")))
}
