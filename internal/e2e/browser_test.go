package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserPortal drives headless Chromium through the vendor's walkthrough on the full
// stack: the admin signs in with Microsoft (the emulator's account picker), creates the
// application, authorizes it through the consent page, picks duration, domain and two roles,
// saves, and entitles All admins; a technician requests access, reveals the password, sees
// the countdown and revokes; an outsider sees nothing of the customer. It takes the
// screenshots of docs/screenshots; they are written there with JIT_UPDATE_SCREENSHOTS=1, so an
// ordinary run leaves the working tree alone.
func TestBrowserPortal(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: apt-get install chromium")
	}
	s := newStack(t, stackOptions{Portal: true, MaxAccessDuration: "24h"})
	shots := t.TempDir()
	if os.Getenv("JIT_UPDATE_SCREENSHOTS") == "1" {
		shots = filepath.Join("..", "..", "docs", "screenshots")
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
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
	if err := chromedp.Do(browser); err != nil { // starts the browser
		t.Fatal(err)
	}
	deadline, cancelAll := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancelAll()
	stopWhenDone := context.AfterFunc(deadline, cancelBrowser)
	defer stopWhenDone()

	// Each person gets a browser context of their own (their own cookies).
	person := func() *pilot {
		ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		// The first run opens the tab; it must not carry a timeout, which would close it.
		if err := chromedp.Do(ctx); err != nil {
			t.Fatal(err)
		}
		p := &pilot{t: t, ctx: ctx, api: s.API, shots: shots}
		p.do(chromedp.EmulateViewport(1280, 800))
		return p
	}

	// --- The MSP admin walks the vendor's text. ---
	admin := person()
	admin.do(chromedp.Navigate(s.API + "/"))
	admin.waitText("h1", "Just-in-time admin access")
	admin.shot("signin")
	admin.signIn("admin@msp.example", true)
	admin.waitText("h1", "Customer tenants")

	// Staff and a customer tenant with the technician as a member.
	admin.do(chromedp.Navigate(s.API+"/admin/staff"),
		chromedp.SendKeys(chromedp.ID("staff-email"), "tech@msp.example"),
		chromedp.SendKeys(chromedp.ID("staff-name"), "Tess Technician"),
		chromedp.Click(chromedp.CSS(`form[action="/admin/staff"] button[type=submit]`)))
	admin.waitText(".notice", "Member of staff added")
	admin.do(chromedp.Navigate(s.API+"/admin/tenants"),
		chromedp.SendKeys(chromedp.ID("tenant-name"), "Contoso Retail"),
		chromedp.Click(chromedp.CSS(`form[action="/admin/tenants"] button[type=submit]`)))
	admin.waitText(".notice", "Tenant created")
	admin.selectByText("add-member", "tech@msp.example")
	admin.do(chromedp.Click(chromedp.CSS(`form[action$="/members"] button[type=submit]`)))
	admin.waitText(".notice", "Technician added")

	// Applications → Add app: name, type Web, credentials Entra ID OIDC.
	admin.do(chromedp.Click(chromedp.Search(`//a[normalize-space()="Applications"]`)))
	admin.waitText("h1", "Applications")
	admin.do(chromedp.SendKeys(chromedp.ID("app-name"), "Entra ID - retail customer"),
		chromedp.Click(chromedp.CSS(`form[action$="/applications"] button[type=submit]`)))
	admin.waitText(".notice", "Application created")
	admin.shot("admin-application-new")

	// Authorize: the emulator's sign-in and consent page, as contoso's Global Administrator.
	admin.do(chromedp.Click(chromedp.ID("authorize")))
	admin.pickAccount("admin@contoso.onmicrosoft.com")
	// Back on the application's form in the same tab, with the green check (no separate
	// "you can close this window" page).
	admin.waitText("#authorize-state", "Authorized by admin@contoso.onmicrosoft.com")
	admin.waitText(".notice", "Authorized. Now choose the access duration")

	// Duration (4 hours by default), a managed domain, two built-in roles, Save.
	if got := admin.eval(`document.getElementById("access_duration").value`); got != "4h0m0s" {
		t.Fatalf("default access duration %q, want 4h0m0s", got)
	}
	domains := admin.eval(`Array.from(document.querySelectorAll("#domain option")).map(o => o.value).join(",")`)
	if strings.Contains(domains, "fabrikam-federated.com") || strings.Contains(domains, "unverified.example") || !strings.Contains(domains, "contoso.com") {
		t.Fatalf("domain picker offers %s", domains)
	}
	admin.do(chromedp.SetValue(chromedp.ID("access_duration"), "4h0m0s"),
		chromedp.SetValue(chromedp.ID("domain"), "contoso.com"))
	if n := admin.eval(`(() => { let n = 0; for (const o of document.getElementById("roles").options) {
		if (o.text === "User Administrator" || o.text === "Helpdesk Administrator") { o.selected = true; n++ } } return String(n) })()`); n != "2" {
		t.Fatalf("selected %s roles, want 2", n)
	}
	admin.do(chromedp.Click(chromedp.ID("save")))
	admin.waitText(".notice", "Configuration saved")
	admin.waitText("h1", "ready")
	admin.eval(`document.getElementById("authorize").scrollIntoView({block: "start"}), ""`)
	admin.shot("admin-application")
	// Both roles are privileged, so by default an admin must approve each request; this
	// walkthrough is one technician's, so the policy waives approval.
	admin.do(chromedp.Click(chromedp.ID("edit-policy")))
	admin.waitText("#policy-origin", "the default applies")
	admin.do(chromedp.Click(chromedp.ID("approval_required")), chromedp.Click(chromedp.ID("save-policy")))
	admin.waitText(".notice", "Policy saved")
	admin.waitText("#policy-origin", "A saved policy applies")

	// Entitlements: IF Group All admins THEN the application.
	admin.do(chromedp.Click(chromedp.Search(`//a[normalize-space()="Entitlements"]`)))
	admin.waitText("h1", "Entitlements")
	admin.do(chromedp.SendKeys(chromedp.ID("rule-name"), "Entra ID access for all admins"),
		chromedp.SetValue(chromedp.ID("condition_type"), "group"))
	admin.selectByText("group_id", "All admins")
	admin.selectByText("application_id", "Entra ID - retail customer")
	admin.do(chromedp.Click(chromedp.CSS(`form.rule-form button[type=submit]`)))
	admin.waitText(".notice", "Entitlement rule created")
	admin.waitText("table", "Group All admins")
	admin.shot("admin-entitlements")
	admin.do(chromedp.Navigate(s.API + "/admin/tenants"))
	admin.waitText("table", "Contoso Retail")
	admin.shot("admin-tenants")

	// --- The technician requests access. ---
	tech := person()
	tech.do(chromedp.Navigate(s.API + "/"))
	tech.signIn("tech@msp.example", false)
	tech.waitText("h1", "My access")
	tech.waitText("main", "Entra ID - retail customer")
	tech.shot("technician-my-access")
	tech.do(chromedp.SendKeys(chromedp.CSS(`textarea[name=justification]`), "Ticket 4711: reset a user's MFA"),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Request access"]`)))
	// The page refreshes itself while the account is provisioned.
	tech.waitFor(`!!document.getElementById("reveal")`, 90*time.Second)
	tech.waitFor(`/\d+ s left/.test(document.getElementById("countdown").textContent)`, 10*time.Second)
	upn := tech.eval(`document.getElementById("upn").textContent`)
	if !strings.HasSuffix(upn, "@contoso.com") {
		t.Fatalf("account %q is not in contoso.com", upn)
	}
	tech.shot("technician-grant")
	tech.do(chromedp.Click(chromedp.ID("reveal")))
	tech.waitFor(`!document.getElementById("password").textContent.startsWith("•")`, 20*time.Second)
	password := tech.eval(`document.getElementById("password").textContent`)
	if len(password) < 12 || strings.Contains(password, "•") || strings.Contains(password, " ") {
		t.Fatalf("revealed password %q does not look like a managed password", password)
	}
	tech.waitFor(`!document.getElementById("copy-password").hidden`, 5*time.Second)
	if strings.Contains(s.Logs.String(), password) {
		t.Fatal("the password appears in the product's logs")
	}

	// The admin sees the live grant, its workflow link, and the audit trail.
	admin.do(chromedp.Navigate(s.API + "/admin/grants"))
	admin.waitText("table", "tech@msp.example")
	admin.shot("admin-grants")
	admin.do(chromedp.Navigate(s.API + "/admin/audit"))
	admin.waitText("table", "credentials.read")
	admin.shot("admin-audit")

	// The technician revokes.
	tech.do(chromedp.Click(chromedp.ID("revoke")))
	tech.waitText(".notice", "Access revoked")
	tech.waitFor(`/revoked/.test(document.getElementById("grant-status").textContent)`, 60*time.Second)

	// --- An outsider signs in and sees nothing of the customer. ---
	outsider := person()
	outsider.do(chromedp.Navigate(s.API + "/"))
	outsider.signIn("outsider@msp.example", false)
	outsider.waitText("h1", "Not a member of this MSP")
	outsider.shot("outsider")
	// Without a session every page leads back to the sign-in page (the emulator's, which
	// lists the MSP's own accounts); nothing of the customer shows anywhere.
	for _, path := range []string{"/", "/my", "/admin/tenants", "/admin/grants"} {
		outsider.do(chromedp.Navigate(s.API + path))
		body := outsider.eval(`document.body.innerText`)
		for _, secret := range []string{"Contoso", "contoso.com", "Entra ID - retail customer", upn} {
			if strings.Contains(body, secret) {
				t.Fatalf("the outsider sees %q on %s", secret, path)
			}
		}
	}

	// Sign-out ends the admin's session.
	admin.do(chromedp.Click(chromedp.Search(`//button[normalize-space()="Sign out"]`)))
	admin.waitText(".notice", "You are signed out")
	admin.do(chromedp.Navigate(s.API + "/admin/tenants"))
	admin.waitFor(`location.pathname.includes("/oauth2/v2.0/authorize")`, 10*time.Second) // back to the IdP
}

// pilot drives one person's browser context.
type pilot struct {
	t     *testing.T
	ctx   context.Context
	api   string
	shots string
}

func (p *pilot) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("browser: %v (at %s)", err, p.location())
	}
}

func (p *pilot) location() string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

// eval runs a JavaScript expression and returns its result as a string.
func (p *pilot) eval(expr string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		p.t.Fatalf("browser: evaluate %s: %v (at %s)", expr, err, p.location())
	}
	return v
}

// waitFor polls a JavaScript condition across page loads (the grant page reloads itself).
func (p *pilot) waitFor(cond string, timeout time.Duration) {
	p.t.Helper()
	end := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { try { return !!(`+cond+`) } catch (e) { return false } })()`))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(end) {
			body := p.evalQuiet(`document.body ? document.body.innerText : ""`)
			p.t.Fatalf("browser: %s did not happen within %s (at %s): %v\n%s", cond, timeout, p.location(), err, body)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (p *pilot) evalQuiet(expr string) string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	return v
}

// waitText waits until the first element matching the CSS selector contains text.
func (p *pilot) waitText(selector, text string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf(`(document.querySelector(%q)||{}).innerText && document.querySelector(%q).innerText.includes(%q)`, selector, selector, text), 30*time.Second)
}

// selectByText picks the option of a <select> whose label contains text.
func (p *pilot) selectByText(id, text string) {
	p.t.Helper()
	got := p.eval(fmt.Sprintf(`(() => { const s = document.getElementById(%q); for (const o of s.options) {
		if (o.text.includes(%q)) { s.value = o.value; return o.value } } return "" })()`, id, text))
	if got == "" {
		p.t.Fatalf("no option %q in #%s (at %s)", text, id, p.location())
	}
}

// signIn goes through "Sign in with Microsoft" and the emulator's account picker.
func (p *pilot) signIn(email string, fromHome bool) {
	p.t.Helper()
	if !fromHome {
		p.waitText("h1", "Just-in-time admin access")
	}
	p.do(chromedp.Click(chromedp.Search(`//a[normalize-space()="Sign in with Microsoft"]`)))
	p.pickAccount(email)
}

// pickAccount chooses the account on the emulator's sign-in page and accepts.
func (p *pilot) pickAccount(email string) {
	p.t.Helper()
	p.waitText("h1", "Pick an account")
	p.do(chromedp.Click(chromedp.Search(`//label[contains(., "(`+email+`)")]/input`)),
		chromedp.Click(chromedp.CSS(`button[value=accept]`)))
}

// shot writes a 1280×800 screenshot of the page to <shots>/<name>.png.
func (p *pilot) shot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(p.shots, name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}
