package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/server"
	"github.com/jitaccess/jitaccess/workflows"
)

// TestTemporalUIDecodesForAdminsOnly runs the dev server's real Temporal UI the way `make dev`
// does: under /temporal on the portal's origin (the portal's reverse proxy: admin session,
// read-only) with the codec at /temporal-codec on the same origin. A signed-in admin sees a
// grant's workflow input decoded in the UI; a technician and an anonymous browser get neither
// the UI (403 / sign-in) nor the codec (403 / 401), and the history itself holds only
// encrypted payloads.
func TestTemporalUIDecodesForAdminsOnly(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: apt-get install chromium")
	}
	apiPort, err := temporaldev.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	uiPort, err := temporaldev.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	api := fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	sas := map[string]string{}
	for _, d := range workflows.SearchAttributeDefinitions() {
		sas[d.Name] = d.Type
	}
	ts, err := temporaldev.Start(context.Background(), temporaldev.Options{SearchAttributes: sas, UIPort: uiPort,
		UIPublicPath: server.TemporalUIPath, UICodecEndpoint: api + server.TemporalCodecPath})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ts.Stop)
	s := newStack(t, stackOptions{Portal: true, AutoConsent: true, TemporalAddress: ts.Address, Port: apiPort, Configure: func(a *app.App) {
		a.TemporalUIUpstream = fmt.Sprintf("http://127.0.0.1:%d", uiPort)
		if a.Codec, err = app.CodecHandler(a.Cfg, a.Store, server.Sessions{Store: a.Store}, false); err != nil {
			t.Fatal(err)
		}
	}})
	d := s.seed("1h")
	var g grantView
	if code := s.call(d.TechnicianToken, http.MethodPost, "/v1/access-requests", map[string]any{"application_id": d.ApplicationID}, &g); code != http.StatusAccepted {
		t.Fatalf("request: %d", code)
	}
	g = s.waitStatus(d.TechnicianToken, g.ID, "active", 60*time.Second)
	// The grant id is in the workflow's input only (not in its id or search attributes):
	// visible in the UI only when the input is decoded.
	if strings.Contains(g.WorkflowID, g.ID) {
		t.Fatalf("workflow id %q names the grant id", g.WorkflowID)
	}
	page := fmt.Sprintf("%s/namespaces/default/workflows/%s/%s/history", server.TemporalUIPath, url.PathEscape(g.WorkflowID), g.RunID)
	raw := fmt.Sprintf("%s/api/v1/namespaces/default/workflows/%s/history?execution.runId=%s", server.TemporalUIPath, url.PathEscape(g.WorkflowID), g.RunID)

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoFirstRun, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 800))
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	if err := chromedp.Do(browser); err != nil {
		t.Fatal(err)
	}
	person := func(email string) *pilot {
		ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		if err := chromedp.Do(ctx); err != nil {
			t.Fatal(err)
		}
		p := &pilot{t: t, ctx: ctx, api: s.API}
		if email != "" { // auto-consent honours login_hint
			p.do(chromedp.Navigate(s.API + "/signin?login_hint=" + url.QueryEscape(email)))
			p.waitFor(`location.pathname === "/my" || location.pathname.startsWith("/admin")`, 30*time.Second)
		}
		p.do(chromedp.Navigate(s.API + "/"))
		return p
	}
	// status fetches path from the page (same origin: the browser's cookies go with it).
	status := func(p *pilot, method, path string) string {
		p.t.Helper()
		body := "undefined"
		if method == "POST" {
			body = `'{"payloads":[]}'`
		}
		ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
		defer cancel()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(
			`fetch(%q, {method: %q, body: %s, headers: {"Content-Type": "application/json", "X-Namespace": "default", "Accept": "application/json"}}).then(r => String(r.status))`,
			path, method, body), chromedp.EvalAwaitPromise))
		if err != nil {
			p.t.Fatalf("fetch %s %s: %v", method, path, err)
		}
		return v
	}

	// The admin: the UI through the portal, the input decoded by the same-origin codec.
	admin := person("admin@msp.example")
	if got := status(admin, "POST", server.TemporalCodecPath+"/decode"); got != "200" {
		t.Fatalf("admin's codec call: %s", got)
	}
	if got := status(admin, "POST", server.TemporalUIPath+"/api/v1/namespaces/default/workflows/x/terminate"); got != "405" {
		t.Fatalf("a write through the UI proxy: %s, want 405 (read-only)", got)
	}
	history := admin.fetchText(raw)
	if strings.Contains(history, g.ID) || !strings.Contains(history, "YmluYXJ5L2VuY3J5cHRlZA") { // base64("binary/encrypted")
		t.Fatalf("the stored history is not encrypted: %.400s", history)
	}
	admin.do(chromedp.Navigate(s.API + page))
	admin.waitFor(fmt.Sprintf(`document.body.innerText.includes(%q)`, g.ID), 90*time.Second)

	// A technician: signed in, but neither the UI nor the codec.
	tech := person("tech@msp.example")
	for _, c := range [][3]string{{"GET", page, "403"}, {"GET", raw, "403"}, {"POST", server.TemporalCodecPath + "/decode", "403"}} {
		if got := status(tech, c[0], c[1]); got != c[2] {
			t.Errorf("technician %s %s: %s, want %s", c[0], c[1], got, c[2])
		}
	}
	tech.do(chromedp.Navigate(s.API + page))
	if body := tech.evalQuiet(`document.body.innerText`); strings.Contains(body, g.ID) || strings.Contains(body, "Input") {
		t.Errorf("the technician sees the UI: %.300s", body)
	}

	// Nobody signed in: 401 from both, and the page sends the browser to sign in.
	anon := person("")
	for _, c := range [][3]string{{"GET", raw, "401"}, {"POST", server.TemporalCodecPath + "/decode", "401"}} {
		if got := status(anon, c[0], c[1]); got != c[2] {
			t.Errorf("anonymous %s %s: %s, want %s", c[0], c[1], got, c[2])
		}
	}
	// A page is answered with a redirect to sign in (not followed here: the emulator's
	// auto-consent would sign the browser in as the customer's admin).
	redirected := anon.await(fmt.Sprintf(`fetch(%q, {redirect: "manual", headers: {"Accept": "text/html"}}).then(r => r.type)`, page))
	if redirected != "opaqueredirect" {
		t.Errorf("anonymous GET %s: %s, want a redirect to sign in", page, redirected)
	}
}

// fetchText GETs path from the page and returns the body.
func (p *pilot) fetchText(path string) string {
	p.t.Helper()
	return p.await(fmt.Sprintf(`fetch(%q, {headers: {"Accept": "application/json"}}).then(r => r.text())`, path))
}

// await evaluates a promise-valued expression in the page and returns its string result.
func (p *pilot) await(expr string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("browser: %s: %v", expr, err)
	}
	return v
}
