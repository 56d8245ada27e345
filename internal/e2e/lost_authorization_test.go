package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/internal/demo"
)

// TestLostAuthorizationBlocksDisableUntilReauthorized: the customer revokes jitaccess's
// consent while a grant is live. When the grant expires the account cannot be disabled; the
// grant shows revoking with the reason, an audit event and the worker's metric raise the
// alarm, and once an admin authorizes the application again the account is disabled and the
// grant expires.
//
// Entra access tokens outlive a consent revocation (up to an hour), and a worker that still
// holds one simply disables the account. The worker is therefore restarted after the
// revocation, as a deployment would, so that it must redeem the dead refresh token.
func TestLostAuthorizationBlocksDisableUntilReauthorized(t *testing.T) {
	s, w := newSplitStack(t)
	d := s.seed("15s", demo.RoleUserAdministrator)

	var g grantView
	if code := s.call(d.TechnicianToken, http.MethodPost, "/v1/access-requests",
		map[string]any{"application_id": d.ApplicationID, "justification": "ticket 9000"}, &g); code != http.StatusAccepted {
		t.Fatalf("request: %d", code)
	}
	g = s.waitStatus(d.TechnicianToken, g.ID, "active", 60*time.Second)
	var cred credentials
	if code := s.call(d.TechnicianToken, http.MethodGet, "/v1/access-requests/"+g.ID+"/credentials", nil, &cred); code != http.StatusOK {
		t.Fatalf("credentials: %d", code)
	}
	u, _ := s.Sim.User("contoso", cred.UserPrincipalName)
	activeSince := u.SignInSessionsValidFrom

	// The customer's admin withdraws consent; the worker restarts without a cached token.
	if err := s.Sim.RevokeConsent("contoso"); err != nil {
		t.Fatal(err)
	}
	w.restart()

	// Expiry: the disable is refused and the grant says why.
	g = s.waitStatus(d.TechnicianToken, g.ID, "revoking", 60*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(g.Failure, "authorization") && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		s.call(d.TechnicianToken, http.MethodGet, "/v1/access-requests/"+g.ID, nil, &g)
	}
	if !strings.Contains(g.Failure, "authorization to the customer tenant was lost") || g.Status != "revoking" {
		t.Fatalf("blocked grant: status %q, failure %q", g.Status, g.Failure)
	}
	if u, _ := s.Sim.User("contoso", cred.UserPrincipalName); !u.AccountEnabled {
		t.Fatal("the account was disabled without authorization?")
	}
	blocked := s.auditEvents(d.AdminToken, "grant.disable_blocked", g.ID)
	if len(blocked) != 1 || !strings.Contains(fmt.Sprint(blocked[0].Details["reason"]), "authorize the application again") {
		t.Fatalf("grant.disable_blocked audit events: %+v", blocked)
	}
	if v := w.gauge("jitaccess_authorization_lost_applications"); v != 1 {
		t.Fatalf("jitaccess_authorization_lost_applications = %v, want 1", v)
	}

	// An admin authorizes the application again (the emulator consents at once); the next
	// attempt, at most a minute after the last, disables the account.
	reauthorize(t, s, d)
	g = s.waitStatus(d.TechnicianToken, g.ID, "expired", 90*time.Second)
	assertDisabled(t, s, cred, activeSince)
	if !strings.Contains(g.Failure, "disabled late") {
		t.Errorf("expired grant failure %q, want the note that the disable was late", g.Failure)
	}
	t.Logf("disabled %s after expires_at (authorization lost, then restored)", g.EndedAt.Sub(*g.ExpiresAt).Round(time.Second))
	if v := w.gauge("jitaccess_authorization_lost_applications"); v != 0 {
		t.Errorf("jitaccess_authorization_lost_applications = %v after the disable succeeded, want 0", v)
	}
	assertNoSecretsInHistory(t, s, g, cred.Password, d.TechnicianToken, d.AdminToken)
}

// reauthorize clicks Authorize as the admin and follows the sign-in URL through the
// emulator's auto-consent back to /oauth/callback.
func reauthorize(t *testing.T, s *stack, d demo.Demo) {
	t.Helper()
	var auth struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	path := "/v1/tenants/" + d.TenantID + "/applications/" + d.ApplicationID + "/authorize"
	if code := s.call(d.AdminToken, http.MethodPost, path, nil, &auth); code != http.StatusOK {
		t.Fatalf("authorize: %d", code)
	}
	u, err := url.Parse(auth.AuthorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("login_hint", "admin@contoso.onmicrosoft.com")
	u.RawQuery = q.Encode()
	resp, err := http.Get(u.String()) // follows the redirect to the callback
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("consent callback answered %d", resp.StatusCode)
	}
}

type auditEvent struct {
	Action  string         `json:"action"`
	Target  string         `json:"target"`
	Details map[string]any `json:"details"`
}

// auditEvents lists the audit events of one action about one target.
func (s *stack) auditEvents(adminToken, action, target string) []auditEvent {
	s.t.Helper()
	var page struct {
		Items []auditEvent `json:"items"`
	}
	if code := s.call(adminToken, http.MethodGet, "/v1/audit-events?limit=200", nil, &page); code != http.StatusOK {
		s.t.Fatalf("audit events: %d", code)
	}
	var out []auditEvent
	for _, e := range page.Items {
		if e.Action == action && e.Target == target {
			out = append(out, e)
		}
	}
	return out
}

// splitWorker is the worker of a split stack: its own process state (Temporal client, Entra
// token cache, metrics), restartable like a separate deployment.
type splitWorker struct {
	t      *testing.T
	cfg    config.Config
	logger *slog.Logger

	mu     sync.Mutex
	app    *app.App
	cancel context.CancelFunc
	done   chan struct{}
}

func (w *splitWorker) start() {
	w.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, w.cfg, w.logger)
	if err != nil {
		cancel()
		w.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = a.RunWorker(ctx) }()
	w.mu.Lock()
	w.app, w.cancel, w.done = a, cancel, done
	w.mu.Unlock()
}

func (w *splitWorker) stop() {
	w.mu.Lock()
	a, cancel, done := w.app, w.cancel, w.done
	w.app = nil
	w.mu.Unlock()
	if a == nil {
		return
	}
	cancel()
	<-done
	a.Close()
}

func (w *splitWorker) restart() { w.stop(); w.start() }

// gauge reads a gauge of the running worker's registry (-1 when absent).
func (w *splitWorker) gauge(name string) float64 {
	w.t.Helper()
	w.mu.Lock()
	a := w.app
	w.mu.Unlock()
	mfs, err := a.Registry.Gather()
	if err != nil {
		w.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

// newSplitStack is newStack with the worker in its own, restartable App.
func newSplitStack(t *testing.T) (*stack, *splitWorker) {
	t.Helper()
	s := newStack(t, stackOptions{SplitWorker: true})
	return s, s.Worker
}
