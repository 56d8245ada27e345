package e2e

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// roleGlobalAdministrator is Global Administrator's template id.
const roleGlobalAdministrator = "62e90394-69f5-4237-9190-012177145e10"

// browserPeople starts headless Chromium for t and returns a maker of people, each with a
// browser context (cookies) of their own.
func browserPeople(t *testing.T, s *stack, limit time.Duration) func() *pilot {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: apt-get install chromium")
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoFirstRun, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 800))
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatal(err)
	}
	deadline, cancelAll := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancelAll)
	stop := context.AfterFunc(deadline, cancelBrowser)
	t.Cleanup(func() { stop() })
	shots := t.TempDir()
	if os.Getenv("JIT_UPDATE_SCREENSHOTS") == "1" {
		shots = filepath.Join("..", "..", "docs", "screenshots")
	}
	return func() *pilot {
		ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		if err := chromedp.Do(ctx); err != nil {
			t.Fatal(err)
		}
		p := &pilot{t: t, ctx: ctx, api: s.API, shots: shots}
		p.do(chromedp.EmulateViewport(1280, 800))
		return p
	}
}

// TestBrowserApprovalOfGlobalAdministrator: an application whose roles include Global
// Administrator has no saved policy, so its requests wait in pending_approval and the
// emulator receives no call for them; a second admin approves in the portal and the account
// appears with the role.
func TestBrowserApprovalOfGlobalAdministrator(t *testing.T) {
	s := newStack(t, stackOptions{Portal: true, MaxAccessDuration: "24h"})
	person := browserPeople(t, s, 5*time.Minute)
	must := func(code, want int, what string) {
		t.Helper()
		if code != want {
			t.Fatalf("%s: %d, want %d", what, code, want)
		}
	}

	// The approving admin signs in first (the bootstrap admin of the portal).
	approver := person()
	approver.do(chromedp.Navigate(s.API + "/"))
	approver.signIn("admin@msp.example", true)
	approver.waitText("h1", "Customer tenants")

	// Tenant, the requesting admin, the application (authorized in the browser: the
	// emulator's consent is interactive here), Global Administrator, a rule for All admins.
	var tenant, app, requester struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	must(s.call(s.Admin, http.MethodPost, "/v1/tenants", map[string]any{"name": "Contoso Retail"}, &tenant), 201, "tenant")
	must(s.call(s.Admin, http.MethodPost, "/v1/technicians", map[string]any{"email": "ada@msp.example", "display_name": "Ada Admin", "role": "admin"}, &requester), 201, "requesting admin")
	must(s.call(s.Admin, http.MethodPut, "/v1/tenants/"+tenant.ID+"/members/"+requester.ID, nil, nil), 204, "membership")
	appPath := "/v1/tenants/" + tenant.ID + "/applications"
	must(s.call(s.Admin, http.MethodPost, appPath, map[string]any{"name": "Entra ID - Global admin", "type": "web", "credentials": "entra_oidc"}, &app), 201, "application")
	approver.do(chromedp.Navigate(s.API + "/admin/tenants/" + tenant.ID + "/applications/" + app.ID))
	approver.do(chromedp.Click(chromedp.ID("authorize")))
	approver.pickAccount("admin@contoso.onmicrosoft.com")
	approver.waitText("#authorize-state", "Authorized by admin@contoso.onmicrosoft.com")
	var saved struct {
		Status      string `json:"status"`
		PolicySaved bool   `json:"policy_saved"`
		Policy      struct {
			Approval struct {
				Required bool `json:"required"`
			} `json:"approval"`
		} `json:"policy"`
	}
	must(s.call(s.Admin, http.MethodPatch, appPath+"/"+app.ID, map[string]any{"domain": "contoso.com", "roles": []string{roleGlobalAdministrator}}, &saved), 200, "configure")
	if saved.Status != "ready" || saved.PolicySaved || !saved.Policy.Approval.Required {
		t.Fatalf("application: %+v, want ready with the default policy asking approval", saved)
	}
	must(s.call(s.Admin, http.MethodPost, "/v1/tenants/"+tenant.ID+"/entitlements", map[string]any{"name": "All admins",
		"condition": map[string]any{"type": "group", "group_id": "all-admins"}, "application_id": app.ID}, nil), 201, "rule")

	// The request waits for approval; the emulator sees no Graph call for it.
	s.Sim.ResetStats()
	var g grantView
	must(s.call(requester.Token, http.MethodPost, "/v1/access-requests", map[string]any{"application_id": app.ID,
		"justification": "P1: conditional access locked everyone out", "ticket_reference": "#48213"}, &g), 202, "request")
	s.waitStatus(requester.Token, g.ID, "pending_approval", 60*time.Second)
	time.Sleep(2 * time.Second) // a worker that went on would have called Graph by now
	if st := s.Sim.Stats(); st.Total != 0 {
		t.Fatalf("the emulator received Graph calls while the request waited for approval: %v", st.Requests)
	}
	var self struct {
		Error struct{ Code string } `json:"error"`
	}
	must(s.call(requester.Token, http.MethodPost, "/v1/access-requests/"+g.ID+"/approve", map[string]any{}, &self), 403, "self-approval")
	if self.Error.Code != "self_approval" {
		t.Fatalf("self-approval refused with %q", self.Error.Code)
	}

	// The second admin approves in the portal: the queue shows the request with its role,
	// justification and ticket; the decision page takes a comment.
	approver.do(chromedp.Click(chromedp.Search(`//a[normalize-space()="Approvals"]`)))
	approver.waitText("h1", "Approvals")
	approver.waitText("#approval-queue", "ada@msp.example")
	approver.waitText("#approval-queue", "Global Administrator")
	approver.waitText("#approval-queue", "#48213")
	approver.waitText("#approval-queue", "conditional access locked everyone out")
	approver.do(chromedp.Click(chromedp.CSS(`#approval-queue a.review`)))
	approver.waitText("#request-roles", "Global Administrator")
	approver.waitText("#approval-count", "0 of 1")
	approver.do(chromedp.SendKeys(chromedp.ID("comment"), "Confirmed with the customer on the phone"),
		chromedp.Click(chromedp.ID("approve")))
	approver.waitText(".notice", "Approved")
	approver.waitText("#decisions", "Confirmed with the customer on the phone")

	// Provisioned: the account exists in the customer's directory with Global Administrator.
	g = s.waitStatus(requester.Token, g.ID, "active", 90*time.Second)
	u, ok := s.Sim.User("contoso", g.Account.UserPrincipalName)
	if !ok || !u.AccountEnabled || !slices.Contains(u.RoleDefinitionIDs, roleGlobalAdministrator) {
		t.Fatalf("emulator after approval: found %t, enabled %t, roles %v", ok, u.AccountEnabled, u.RoleDefinitionIDs)
	}
	if !strings.HasSuffix(g.Account.UserPrincipalName, "@contoso.com") {
		t.Fatalf("account %q", g.Account.UserPrincipalName)
	}
	// The decision is in the audit log with the approver and the comment.
	evs := s.auditEvents(s.Admin, "grant.approved", g.ID)
	if len(evs) != 1 {
		t.Fatalf("grant.approved events: %+v", evs)
	}

	// An extension past the approved duration goes to the approvers: the call is refused
	// with approval_required and the grant shows the pending extension, its expiry unchanged.
	var refused struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	must(s.call(requester.Token, http.MethodPost, "/v1/access-requests/"+g.ID+"/extend", map[string]any{"duration": "30m"}, &refused), 409, "extension past the approved duration")
	if refused.Error.Code != "approval_required" || !strings.Contains(refused.Error.Message, "sent to the approvers") {
		t.Fatalf("extension refused with %+v", refused.Error)
	}
	var pending struct {
		ExpiresAt        time.Time `json:"expires_at"`
		PendingExtension *struct {
			Duration string `json:"duration"`
		} `json:"pending_extension"`
	}
	must(s.call(requester.Token, http.MethodGet, "/v1/access-requests/"+g.ID, nil, &pending), 200, "read grant")
	if pending.PendingExtension == nil || pending.PendingExtension.Duration != "30m0s" || !pending.ExpiresAt.Equal(*g.ExpiresAt) {
		t.Fatalf("grant while the extension waits: %+v (expires %v, was %v)", pending.PendingExtension, pending.ExpiresAt, g.ExpiresAt)
	}
	// A second admin's request waits beside it.
	var second struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	must(s.call(s.Admin, http.MethodPost, "/v1/technicians", map[string]any{"email": "grace@msp.example", "display_name": "Grace Hopper", "role": "admin"}, &second), 201, "second requester")
	must(s.call(s.Admin, http.MethodPut, "/v1/tenants/"+tenant.ID+"/members/"+second.ID, nil, nil), 204, "membership")
	var g2 grantView
	must(s.call(second.Token, http.MethodPost, "/v1/access-requests", map[string]any{"application_id": app.ID,
		"justification": "Reset MFA for the CFO", "ticket_reference": "#48230"}, &g2), 202, "second request")
	s.waitStatus(second.Token, g2.ID, "pending_approval", 60*time.Second)

	approver.do(chromedp.Navigate(s.API + "/approvals"))
	approver.waitText("#approval-queue", "grace@msp.example")
	approver.waitText("#approval-queue", "Extension by 30 min")
	approver.shot("approver-queue")
	approver.do(chromedp.Navigate(s.API + "/approvals/" + g.ID))
	approver.waitText("#request-extension", "30 min more")
	approver.do(chromedp.Click(chromedp.ID("approve")))
	approver.waitText(".notice", "Approved")
	// Applied as any extension: the expiry moves by 30 minutes, nothing is pending.
	deadline := time.Now().Add(30 * time.Second)
	for {
		pending.PendingExtension = nil // absent from the answer once applied
		must(s.call(requester.Token, http.MethodGet, "/v1/access-requests/"+g.ID, nil, &pending), 200, "read grant")
		if pending.PendingExtension == nil && pending.ExpiresAt.Equal(g.ExpiresAt.Add(30*time.Minute)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("approved extension not applied: %+v", pending)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// The pages an admin sets approvals and notifications up with.
	approver.do(chromedp.Navigate(s.API + "/admin/tenants/" + tenant.ID + "/applications/" + app.ID + "/policy"))
	approver.waitText("h1", "Policy of")
	approver.shot("admin-policy")
	must(s.call(s.Admin, http.MethodPost, "/v1/notification-destinations", map[string]any{"name": "PSA webhook", "type": "webhook",
		"url": "https://psa.example.com/hooks/jitaccess", "events": []string{"approval_needed", "approved", "denied", "extended"}}, nil), 201, "destination")
	approver.do(chromedp.Navigate(s.API + "/admin/notifications"))
	approver.waitText("h1", "Notifications")
	approver.waitText("main", "PSA webhook")
	approver.shot("admin-notifications")

	must(s.call(requester.Token, http.MethodPost, "/v1/access-requests/"+g.ID+"/revoke", map[string]any{"reason": "done"}, nil), 202, "revoke")
	s.waitStatus(requester.Token, g.ID, "revoked", 60*time.Second)
}
