package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/jitaccess/jitaccess/internal/entrasim"
)

// extensionID is the id Chromium gives the repository's unpacked extension (manifest key).
const extensionID = "pgaljmpcpofkcdgcdcggecdnpapldpga"

// TestBrowserExtension loads the unpacked extension into headless Chromium against the whole
// stack: the technician connects it through the portal's Microsoft sign-in, requests access
// from the popup and clicks Sign in; the extension types the account's name and Temporary
// Access Pass on the emulator's sign-in pages and the technician lands in the stand-in admin
// center as the JIT account. No step of the test types a password. A look-alike page on
// another origin with the same fields gets nothing, a revoked grant fills nothing, and
// the extension's session ends when revoked on the portal's token list, when the technician
// signs out of it and when the person is deactivated.
func TestBrowserExtension(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: apt-get install chromium")
	}
	extDir, err := filepath.Abs(filepath.Join("..", "..", "extension"))
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, stackOptions{Portal: true, MaxAccessDuration: "24h", Env: map[string]string{"JIT_EXTENSION_IDS": extensionID}})
	d := seedThroughPicker(t, s)
	look := newLookalike(t)
	shots := t.TempDir()
	if os.Getenv("JIT_UPDATE_SCREENSHOTS") == "1" {
		shots = filepath.Join("..", "..", "docs", "screenshots")
	}

	b := startExtensionBrowser(t, chromium, extDir, s.API, shots)

	// --- Connect: the popup asks for the address, the portal's Microsoft sign-in, Connect. ---
	popup, token := b.connect(s, true)
	popup.waitText("#who", entrasim.MSPTechUPN)
	popup.waitFor(`document.querySelector("#apps h2").textContent === "Contoso Retail"`, 10*time.Second) // grouped by customer
	popup.waitText("#apps", d.appName)
	if got := popup.evalAwait(`chrome.storage.local.get(null).then((s) => JSON.stringify(s))`); strings.Contains(got, token) {
		t.Fatal("the session token is in the extension's persistent storage")
	}

	// --- Request access from the popup, with a justification. ---
	popup.do(chromedp.SendKeys(chromedp.CSS(`form.request input[name=justification]`), "Ticket 4711: reset a user's MFA"),
		chromedp.Click(chromedp.CSS(`form.request button[type=submit]`)))
	popup.waitFor(`[...document.querySelectorAll("button.signin")].length === 1 && /Active, \d/.test(document.getElementById("apps").innerText)`, 120*time.Second)
	popup.elementShot("body", "extension-popup")
	g := s.liveGrant(d.techToken)
	if g.Status != "active" || g.Justification != "Ticket 4711: reset a user's MFA" || g.Account.UserPrincipalName == "" {
		t.Fatalf("grant after the popup's request: %+v", g)
	}
	upn := g.Account.UserPrincipalName

	// --- Sign in, with the tab led to a look-alike first. ---
	// The popup (an extension page) steers the sign-in tab as a redirect would: the first time it
	// reaches the emulator it goes to the look-alike instead, on another origin, same path, same
	// field names, showing the same account.
	look.setUPN(upn)
	popup.eval(fmt.Sprintf(`(() => { window.__held = null;
		chrome.tabs.onUpdated.addListener((id, info) => {
			if (window.__held === null && info.url && info.url.startsWith(%q)) { window.__held = id; chrome.tabs.update(id, { url: %q }); }
		}); return "" })()`, s.SimURL, look.signInURL()))
	known := b.pages()
	popup.do(chromedp.Click(chromedp.CSS(`button.signin`)))
	popup.waitEval(fmt.Sprintf(`chrome.storage.session.get("lastSignIn").then(({ lastSignIn: l }) => !!l && l.tab_id === window.__held && l.outcome === "ignored" && l.origin === %q)`, look.origin()), 60*time.Second)
	signin := b.attach(b.newPage(known, func(u string) bool { return strings.HasPrefix(u, look.origin()) }))
	signin.waitText("h1", "Enter password")
	if v := signin.eval(`[...document.querySelectorAll("input")].map((i) => i.value).join("")`); v != "" {
		t.Fatalf("the look-alike's fields were filled: %q", v)
	}
	look.assertNothingSent(t)

	// The same tab, now at Microsoft's (the emulator's) admin center: the extension types the
	// account's name, then its pass, which it reads from jitaccess at that moment.
	signin.do(chromedp.Navigate(s.SimURL + "/_sim/admin-center"))
	signin.waitTextFor("h1", "Keep your account secure", 90*time.Second) // the pass was accepted: the registration interrupt
	signin.do(chromedp.Click(chromedp.ID("skip")))
	signin.waitTextFor("#account", upn, 60*time.Second)
	signin.shot("extension-admin-center")
	popup.waitEval(`chrome.storage.session.get("lastSignIn").then(({ lastSignIn: l }) => !!l && l.outcome === "filled" && l.kind === "tap")`, 30*time.Second)
	if n := len(s.auditEvents(d.adminToken, "credentials.read", g.ID)); n != 1 {
		t.Fatalf("%d credentials.read audit events for one Sign in, want 1", n)
	}
	look.assertNothingSent(t)

	// Nothing of the credentials stays in the extension's storage.
	var cred credentials
	if code := s.call(d.techToken, http.MethodGet, "/v1/access-requests/"+g.ID+"/credentials", nil, &cred); code != http.StatusOK || cred.TAP == "" {
		t.Fatalf("credentials: %d", code)
	}
	stored := popup.evalAwait(`Promise.all([chrome.storage.session.get(null), chrome.storage.local.get(null)]).then((s) => JSON.stringify(s))`)
	if strings.Contains(stored, cred.TAP) || strings.Contains(stored, cred.Password) {
		t.Fatal("a credential is in the extension's storage")
	}

	// --- A revoked grant fills nothing. ---
	// Sign in again while the grant is active, the tab held on the look-alike; then Revoke in
	// the popup, and the tab goes to the sign-in page.
	popup.eval(`window.__held = null, ""`)
	known = b.pages()
	popup.do(chromedp.Click(chromedp.CSS(`button.signin`)))
	popup.waitEval(`chrome.storage.session.get("lastSignIn").then(({ lastSignIn: l }) => !!l && l.tab_id === window.__held && l.outcome === "ignored")`, 60*time.Second)
	held := b.attach(b.newPage(known, func(u string) bool { return strings.HasPrefix(u, look.origin()) }))
	popup.do(chromedp.Click(chromedp.Search(`//button[normalize-space()="Revoke"]`)))
	s.waitStatus(d.techToken, g.ID, "revoked", 90*time.Second)
	held.do(chromedp.Navigate(s.SimURL + "/_sim/admin-center"))
	popup.waitEval(`chrome.storage.session.get("lastSignIn").then(({ lastSignIn: l }) => !!l && l.tab_id === window.__held && l.outcome === "ended")`, 90*time.Second)
	held.waitText("h1", "Sign in")
	if v := held.eval(`[...document.querySelectorAll("input:not([type=hidden])")].map((i) => i.value).join("")`); v != "" {
		t.Fatalf("the sign-in page was filled for a revoked grant: %q", v)
	}
	if n := len(s.auditEvents(d.adminToken, "credentials.read", g.ID)); n != 2 { // the Sign in's and the test's own read
		t.Fatalf("%d credentials.read audit events, want 2", n)
	}
	popup.waitText("#signin-note", "no longer active")

	// --- The portal lists the extension's session; revoking it there disconnects the popup. ---
	portal := b.tab()
	portal.do(chromedp.Navigate(s.API + "/my/tokens"))
	portal.waitText("table", "browser extension")
	portal.do(chromedp.Click(chromedp.Search(`//tr[th[normalize-space()="browser extension"]]//button[normalize-space()="Revoke"]`)))
	portal.waitText(".notice", "Token revoked")
	if code := s.call(token, http.MethodGet, "/v1/me", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("the revoked extension session answers %d, want 401", code)
	}
	popup.do(chromedp.Reload())
	popup.waitFor(`!document.getElementById("connect").hidden && document.getElementById("apps").hidden`, 30*time.Second)
	popup.waitText("#signin-note", "session has ended")
	if got := popup.evalAwait(`chrome.storage.session.get("token").then((s) => s.token || "")`); got != "" {
		t.Fatal("the extension kept the revoked session's token")
	}

	// --- Signing out of the extension ends its session on the server. ---
	popup, token = b.connect(s, false) // the portal still knows the technician: no sign-in page
	popup.do(chromedp.Click(chromedp.ID("signout")))
	popup.waitFor(`!document.getElementById("connect").hidden`, 30*time.Second)
	if code := s.call(token, http.MethodGet, "/v1/me", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("the signed-out extension session answers %d, want 401", code)
	}

	// --- Deactivating the person ends it too. ---
	popup, token = b.connect(s, false)
	if code := s.call(s.Admin, http.MethodPatch, "/v1/technicians/"+d.techID, map[string]any{"active": false}, nil); code != http.StatusOK {
		t.Fatalf("deactivate: %d", code)
	}
	if code := s.call(token, http.MethodGet, "/v1/me", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("the deactivated technician's extension session answers %d, want 401", code)
	}
	popup.do(chromedp.Reload())
	popup.waitFor(`!document.getElementById("connect").hidden && document.getElementById("apps").hidden`, 30*time.Second)
	popup.waitText("#signin-note", "session has ended")
}

// connect connects the extension as a technician does: the popup's Connect, the portal's
// Microsoft sign-in (pick) unless the portal already knows them, the portal's Connect. It
// returns the connected popup and the session's token, read from the extension's storage.
func (b *extensionBrowser) connect(s *stack, pick bool) (*pilot, string) {
	b.t.Helper()
	popupURL := "chrome-extension://" + extensionID + "/popup.html"
	popup := b.tab()
	popup.do(chromedp.Navigate(popupURL))
	popup.waitFor(`!document.getElementById("connect").hidden`, 30*time.Second)
	known := b.pages()
	if popup.eval(`document.getElementById("base").value`) == "" {
		popup.do(chromedp.SendKeys(chromedp.ID("base"), s.API))
	}
	popup.do(chromedp.Click(chromedp.ID("connect-btn")))
	conn := b.attach(b.newPage(known, func(u string) bool { return strings.HasPrefix(u, s.API) || strings.HasPrefix(u, s.SimURL) }))
	if pick {
		conn.waitTextFor("h1", "Pick an account", 60*time.Second)
		conn.pickAccount(entrasim.MSPTechUPN)
	}
	conn.waitTextFor("h1", "Connect the jitaccess extension?", 60*time.Second)
	conn.do(chromedp.Click(chromedp.Search(`//main//button[normalize-space()="Connect"]`)))

	// The connected page hands the code to the extension, which closes the tab.
	popup = b.tab()
	popup.do(chromedp.Navigate(popupURL))
	popup.waitFor(`!document.getElementById("apps").hidden && document.getElementById("apps").children.length > 0`, 60*time.Second)
	token := popup.evalAwait(`chrome.storage.session.get("token").then((s) => s.token || "")`)
	if !strings.HasPrefix(token, "jit_") {
		b.t.Fatalf("the extension holds no session after connecting (token %d chars)", len(token))
	}
	return popup, token
}

// extensionBrowser is headless Chromium with the unpacked extension loaded.
type extensionBrowser struct {
	t     *testing.T
	ctx   context.Context
	api   string
	shots string
}

func startExtensionBrowser(t *testing.T, chromium, extDir, api, shots string) *extensionBrowser {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		// --headless is the new headless mode in the Chromium this runs on (the old one, which
		// could not load extensions, is a separate binary since 132).
		chromedp.Flag("headless", true),
		chromedp.NoFirstRun,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("load-extension", extDir),
		chromedp.Flag("disable-extensions-except", extDir),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil { // starts the browser
		t.Fatal(err)
	}
	deadline, cancelAll := context.WithTimeout(context.Background(), 8*time.Minute)
	t.Cleanup(cancelAll)
	stop := context.AfterFunc(deadline, cancelBrowser)
	t.Cleanup(func() { stop() })
	b := &extensionBrowser{t: t, ctx: browser, api: api, shots: shots}
	// The extension's service worker runs before any of its pages is opened.
	sw := "chrome-extension://" + extensionID + "/background.js"
	b.waitTarget(func(i *target.Info) bool { return i.Type == "service_worker" && i.URL == sw }, 60*time.Second)
	return b
}

func (b *extensionBrowser) pilot(ctx context.Context, cancel context.CancelFunc) *pilot {
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // attaches; no timeout here, it would close the tab
		b.t.Fatal(err)
	}
	p := &pilot{t: b.t, ctx: ctx, api: b.api, shots: b.shots}
	p.do(chromedp.EmulateViewport(1280, 800))
	return p
}

// tab opens a new tab in the browser's own context (where the extension runs).
func (b *extensionBrowser) tab() *pilot {
	ctx, cancel := chromedp.NewContext(b.ctx)
	return b.pilot(ctx, cancel)
}

// attach drives a tab the extension opened.
func (b *extensionBrowser) attach(id target.ID) *pilot {
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(id))
	return b.pilot(ctx, cancel)
}

func (b *extensionBrowser) targets() []*target.Info {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	ts, err := chromedp.Targets(ctx)
	if err != nil {
		b.t.Fatalf("browser: targets: %v", err)
	}
	return ts
}

// pages are the ids of the open tabs.
func (b *extensionBrowser) pages() map[target.ID]bool {
	out := map[target.ID]bool{}
	for _, i := range b.targets() {
		if i.Type == "page" {
			out[i.TargetID] = true
		}
	}
	return out
}

func (b *extensionBrowser) waitTarget(match func(*target.Info) bool, timeout time.Duration) target.ID {
	b.t.Helper()
	end := time.Now().Add(timeout)
	for {
		ts := b.targets()
		for _, i := range ts {
			if match(i) {
				return i.TargetID
			}
		}
		if time.Now().After(end) {
			var seen []string
			for _, i := range ts {
				seen = append(seen, string(i.Type)+" "+i.URL)
			}
			b.t.Fatalf("browser: no such target within %s; targets: %s", timeout, strings.Join(seen, ", "))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// newPage waits for a tab not in known whose address matches.
func (b *extensionBrowser) newPage(known map[target.ID]bool, match func(url string) bool) target.ID {
	b.t.Helper()
	return b.waitTarget(func(i *target.Info) bool { return i.Type == "page" && !known[i.TargetID] && match(i.URL) }, 60*time.Second)
}

// evalAwait evaluates an expression that yields a promise of a string.
func (p *pilot) evalAwait(expr string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("browser: evaluate %s: %v (at %s)", expr, err, p.location())
	}
	return v
}

// waitEval polls an expression that yields a promise of a boolean.
func (p *pilot) waitEval(expr string, timeout time.Duration) {
	p.t.Helper()
	end := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(async () => { try { return !!(await (`+expr+`)) } catch (e) { return false } })()`, chromedp.EvalAwaitPromise))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(end) {
			p.t.Fatalf("browser: %s did not happen within %s (at %s): %v; last sign-in: %s", expr, timeout, p.location(), err, p.lastSignIn())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// waitTextFor is waitText with its own time limit.
func (p *pilot) waitTextFor(selector, text string, timeout time.Duration) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf(`(document.querySelector(%q)||{}).innerText && document.querySelector(%q).innerText.includes(%q)`, selector, selector, text), timeout)
}

// elementShot writes a screenshot of the first element matching the selector (the popup is
// 360 px wide) to <shots>/<name>.png.
func (p *pilot) elementShot(selector, name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(selector)))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(p.shots, name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// lastSignIn is what the extension recorded of the last Sign in, for failure messages.
func (p *pilot) lastSignIn() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`chrome.storage.session.get("lastSignIn").then((s) => JSON.stringify(s.lastSignIn || null))`, chromedp.EvalAwaitPromise))
	return v
}
