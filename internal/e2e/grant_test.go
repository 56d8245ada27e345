package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/jitaccess/jitaccess/internal/demo"
	"github.com/jitaccess/jitaccess/internal/entrasim"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// grantView is the grant shape of SPEC §4.
type grantView struct {
	ID            string     `json:"id"`
	TenantID      string     `json:"tenant_id"`
	ApplicationID string     `json:"application_id"`
	TechnicianID  string     `json:"technician_id"`
	Status        string     `json:"status"`
	Justification string     `json:"justification"`
	RequestedAt   *time.Time `json:"requested_at"`
	ActivatedAt   *time.Time `json:"activated_at"`
	ExpiresAt     *time.Time `json:"expires_at"`
	EndedAt       *time.Time `json:"ended_at"`
	Account       struct {
		UserPrincipalName string `json:"user_principal_name"`
		ObjectID          string `json:"object_id"`
	} `json:"account"`
	Roles      []string `json:"roles"`
	WorkflowID string   `json:"workflow_id"`
	RunID      string   `json:"run_id"`
	Failure    string   `json:"failure"`
}

type credentials struct {
	UserPrincipalName string    `json:"user_principal_name"`
	Password          string    `json:"password"`
	ExpiresAt         time.Time `json:"expires_at"`
	TAP               string    `json:"temporary_access_pass"`
}

// hasMethod reports whether the directory's account has an authentication method of type typ.
func hasMethod(u entrasim.UserView, typ string) bool {
	return slices.ContainsFunc(u.AuthMethods, func(m entrasim.AuthMethodView) bool { return m.Type == typ })
}

// waitStatus polls the grant until it reaches want (or a terminal status it cannot leave).
func (s *stack) waitStatus(token, id, want string, limit time.Duration) grantView {
	s.t.Helper()
	deadline := time.Now().Add(limit)
	var g grantView
	for {
		if code := s.call(token, http.MethodGet, "/v1/access-requests/"+id, nil, &g); code != http.StatusOK {
			s.t.Fatalf("read grant: %d", code)
		}
		if g.Status == want {
			return g
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("grant %s is %q after %s, want %q (failure %q)", id, g.Status, limit, want, g.Failure)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// signIn tries the technician's credentials against the emulator's token endpoint (ROPC), the
// way a person signing in would prove them; it returns the AADSTS error or "".
func (s *stack) signIn(upn, password string) string {
	s.t.Helper()
	form := url.Values{
		"grant_type": {"password"}, "client_id": {entrasim.ClientID}, "client_secret": {entrasim.ClientSecret},
		"username": {upn}, "password": {password}, "scope": {"https://graph.microsoft.com/.default"},
	}
	resp, err := http.PostForm(s.SimURL+"/organizations/oauth2/v2.0/token", form)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return ""
	}
	var e struct {
		Description string `json:"error_description"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&e)
	code, _, _ := strings.Cut(e.Description, ":")
	return code
}

func TestGrantLifecycleToExpiry(t *testing.T) {
	s := newStack(t, stackOptions{})
	d := s.seed("10s", demo.RoleUserAdministrator, demo.RoleHelpdeskAdministrator, demo.RolePasswordAdministrator)

	var g grantView
	if code := s.call(d.TechnicianToken, http.MethodPost, "/v1/access-requests",
		map[string]any{"application_id": d.ApplicationID, "justification": "ticket 4711"}, &g); code != http.StatusAccepted {
		t.Fatalf("request: %d %+v", code, g)
	}
	// A double click returns the same live grant and makes no second account.
	var again grantView
	if code := s.call(d.TechnicianToken, http.MethodPost, "/v1/access-requests",
		map[string]any{"application_id": d.ApplicationID}, &again); code != http.StatusOK || again.ID != g.ID {
		t.Fatalf("repeat request: %d, grant %s vs %s", code, again.ID, g.ID)
	}

	g = s.waitStatus(d.TechnicianToken, g.ID, "active", 60*time.Second)
	if g.ExpiresAt == nil || g.ActivatedAt == nil || g.ExpiresAt.Sub(*g.ActivatedAt) != 10*time.Second {
		t.Fatalf("active grant times: %+v", g)
	}
	if !strings.HasSuffix(g.Account.UserPrincipalName, "@"+demo.Domain) || g.Account.ObjectID == "" {
		t.Fatalf("account: %+v", g.Account)
	}

	var cred credentials
	if code := s.call(d.TechnicianToken, http.MethodGet, "/v1/access-requests/"+g.ID+"/credentials", nil, &cred); code != http.StatusOK {
		t.Fatalf("credentials: %d", code)
	}
	if cred.UserPrincipalName != g.Account.UserPrincipalName || len(cred.Password) < 16 {
		t.Fatalf("credentials: upn %q, password of %d chars", cred.UserPrincipalName, len(cred.Password))
	}
	// The password works, and the directory shows the account enabled with exactly the roles.
	if aadsts := s.signIn(cred.UserPrincipalName, cred.Password); aadsts != "" {
		t.Fatalf("sign-in with the issued password failed: %s", aadsts)
	}
	u, ok := s.Sim.User("contoso", cred.UserPrincipalName)
	if !ok || !u.AccountEnabled {
		t.Fatalf("account in the directory: %+v (found %v)", u, ok)
	}
	wantRoles := []string{demo.RoleHelpdeskAdministrator, demo.RolePasswordAdministrator, demo.RoleUserAdministrator}
	got := slices.Clone(u.RoleDefinitionIDs)
	slices.Sort(got)
	if !slices.Equal(got, wantRoles) {
		t.Fatalf("roles in the directory: %v, want %v", got, wantRoles)
	}
	activeSince := u.SignInSessionsValidFrom
	// password_and_tap (a new application's default): the account has a pass, shown once here.
	if cred.TAP == "" || !hasMethod(u, "temporaryAccessPass") {
		t.Fatalf("no Temporary Access Pass: credentials %t, directory %+v", cred.TAP != "", u.AuthMethods)
	}

	g = s.waitStatus(d.TechnicianToken, g.ID, "expired", 60*time.Second)
	assertDisabled(t, s, cred, activeSince)
	if u, _ := s.Sim.User("contoso", cred.UserPrincipalName); hasMethod(u, "temporaryAccessPass") {
		t.Fatalf("the Temporary Access Pass survived the expiry: %+v", u.AuthMethods)
	}
	// A method registered out of band on the dormant account (its admin, or an attacker).
	resp, err := http.Post(s.SimURL+"/_sim/tenants/contoso/users/"+url.PathEscape(cred.UserPrincipalName)+"/auth-methods",
		"application/json", strings.NewReader(`{"type":"fido2"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if u, _ := s.Sim.User("contoso", cred.UserPrincipalName); resp.StatusCode >= 300 || !hasMethod(u, "fido2") {
		t.Fatalf("out-of-band method: %d %+v", resp.StatusCode, u.AuthMethods)
	}
	if g.EndedAt == nil || g.EndedAt.Before(*g.ExpiresAt) {
		t.Fatalf("ended_at %v before expires_at %v", g.EndedAt, g.ExpiresAt)
	}
	if code := s.call(d.TechnicianToken, http.MethodGet, "/v1/access-requests/"+g.ID+"/credentials", nil, nil); code != http.StatusConflict {
		t.Fatalf("credentials after expiry: %d, want 409", code)
	}
	assertNoSecretsInHistory(t, s, g, cred.Password, d.TechnicianToken, d.AdminToken)

	// A second grant re-enables the same account with a new password.
	var g2 grantView
	if code := s.call(d.TechnicianToken, http.MethodPost, "/v1/access-requests",
		map[string]any{"application_id": d.ApplicationID}, &g2); code != http.StatusAccepted || g2.ID == g.ID {
		t.Fatalf("second request: %d %s", code, g2.ID)
	}
	s.waitStatus(d.TechnicianToken, g2.ID, "active", 60*time.Second)
	var cred2 credentials
	s.call(d.TechnicianToken, http.MethodGet, "/v1/access-requests/"+g2.ID+"/credentials", nil, &cred2)
	if cred2.UserPrincipalName != cred.UserPrincipalName || cred2.Password == cred.Password {
		t.Fatalf("second grant must reuse the account with a fresh password")
	}
	if u, _ := s.Sim.User("contoso", cred.UserPrincipalName); hasMethod(u, "fido2") {
		t.Fatalf("the out-of-band method survived the next grant: %+v", u.AuthMethods)
	}
	if n := len(s.Sim.Users("contoso")); n != 2 { // the tenant's admin and the one JIT account
		t.Fatalf("directory has %d users, want 2", n)
	}
}

func TestGrantRevokedEarly(t *testing.T) {
	s := newStack(t, stackOptions{})
	d := s.seed("30m")
	var g grantView
	if code := s.call(d.TechnicianToken, http.MethodPost, "/v1/access-requests",
		map[string]any{"application_id": d.ApplicationID, "justification": "incident"}, &g); code != http.StatusAccepted {
		t.Fatalf("request: %d", code)
	}
	g = s.waitStatus(d.TechnicianToken, g.ID, "active", 60*time.Second)
	var cred credentials
	s.call(d.TechnicianToken, http.MethodGet, "/v1/access-requests/"+g.ID+"/credentials", nil, &cred)
	u, _ := s.Sim.User("contoso", cred.UserPrincipalName)

	// The admin revokes it long before it would expire.
	if code := s.call(d.AdminToken, http.MethodPost, "/v1/access-requests/"+g.ID+"/revoke", map[string]any{"reason": "done early"}, nil); code != http.StatusAccepted {
		t.Fatalf("revoke: %d", code)
	}
	g = s.waitStatus(d.TechnicianToken, g.ID, "revoked", 60*time.Second)
	if g.EndedAt == nil || !g.EndedAt.Before(*g.ExpiresAt) {
		t.Fatalf("revoked grant ended at %v, expires %v", g.EndedAt, g.ExpiresAt)
	}
	assertDisabled(t, s, cred, u.SignInSessionsValidFrom)
	assertNoSecretsInHistory(t, s, g, cred.Password, d.TechnicianToken, d.AdminToken)

	// Asking again at once gets a new grant, never the ended one (whose run may still be
	// closing).
	var next grantView
	if code := s.call(d.TechnicianToken, http.MethodPost, "/v1/access-requests",
		map[string]any{"application_id": d.ApplicationID}, &next); code != http.StatusAccepted || next.ID == g.ID {
		t.Fatalf("request after revoke: %d, grant %s (status %s), previous %s", code, next.ID, next.Status, g.ID)
	}
	s.waitStatus(d.TechnicianToken, next.ID, "active", 60*time.Second)
}

// assertDisabled checks the directory itself: disabled, signed out, password changed, no roles.
func assertDisabled(t *testing.T, s *stack, cred credentials, sessionsBefore time.Time) {
	t.Helper()
	u, ok := s.Sim.User("contoso", cred.UserPrincipalName)
	if !ok {
		t.Fatal("account vanished from the directory")
	}
	if u.AccountEnabled {
		t.Error("account still enabled")
	}
	if !u.SignInSessionsValidFrom.After(sessionsBefore) {
		t.Errorf("sign-in sessions not revoked (valid from %v, before %v)", u.SignInSessionsValidFrom, sessionsBefore)
	}
	if len(u.RoleDefinitionIDs) != 0 {
		t.Errorf("role assignments left: %v", u.RoleDefinitionIDs)
	}
	// The old password no longer works: it was scrambled (AADSTS50126), and the account is
	// disabled (AADSTS50057) — Entra checks the password first.
	if aadsts := s.signIn(cred.UserPrincipalName, cred.Password); aadsts != "AADSTS50126" {
		t.Errorf("sign-in with the old password: %q, want AADSTS50126 (password changed)", aadsts)
	}
}

// assertNoSecretsInHistory fetches the grant's whole history and the product's logs and finds
// neither the password nor any token in them.
func assertNoSecretsInHistory(t *testing.T, s *stack, g grantView, secrets ...string) {
	t.Helper()
	iter := s.App.Temporal.GetWorkflowHistory(context.Background(), g.WorkflowID, g.RunID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var all strings.Builder
	events := 0
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := protojson.Marshal(ev)
		all.Write(b)
		events++
	}
	if events < 10 {
		t.Fatalf("history of %s has only %d events", g.WorkflowID, events)
	}
	desc, err := s.App.Temporal.DescribeWorkflowExecution(context.Background(), g.WorkflowID, g.RunID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := protojson.Marshal(desc)
	all.Write(b)
	history, logs := all.String(), s.Logs.String()
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		if strings.Contains(history, secret) {
			t.Errorf("a secret (%d chars) appears in the workflow history or search attributes", len(secret))
		}
		if strings.Contains(logs, secret) {
			t.Errorf("a secret (%d chars) appears in the logs", len(secret))
		}
	}
	// Refresh and access tokens the emulator issued are opaque; none may be in history either.
	if strings.Contains(history, "refresh_token") || strings.Contains(history, "Bearer ") {
		t.Error("token material in history")
	}
}

// A workflow started directly in Temporal (by anyone who can reach the namespace), even one
// naming a real technician and application, is refused: no account, no credential, no row,
// and a grant.refused audit event. The technician's own request afterwards works.
func TestWorkflowStartedOutsideTheAPIIsRefused(t *testing.T) {
	s := newStack(t, stackOptions{})
	d := s.seed("30m")
	ctx := context.Background()
	in := workflows.AccessRequestInput{GrantID: store.NewID("grt"), TenantID: d.TenantID, ApplicationID: d.ApplicationID, TechnicianID: d.TechnicianID}
	run, err := s.App.Temporal.ExecuteWorkflow(ctx, workflows.StartOptions(in, s.App.Cfg.TaskQueue), workflows.WorkflowType, in)
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.Result
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Refused == "" || res.AccountUPN != "" {
		t.Fatalf("a run the API did not create was not refused: %+v", res)
	}
	if got := s.auditEvents(d.AdminToken, "grant.refused", in.GrantID); len(got) != 1 {
		t.Fatalf("grant.refused events: %d, want 1", len(got))
	}
	if code := s.call(d.TechnicianToken, http.MethodGet, "/v1/access-requests/"+in.GrantID, nil, nil); code != http.StatusNotFound {
		t.Fatalf("the forged grant has a row: %d", code)
	}

	var g grantView
	code := s.call(d.TechnicianToken, http.MethodPost, "/v1/access-requests", map[string]any{"application_id": d.ApplicationID}, &g)
	if code != http.StatusAccepted || g.RunID == run.GetRunID() {
		t.Fatalf("request after the refused run: %d, run %s", code, g.RunID)
	}
	g = s.waitStatus(d.TechnicianToken, g.ID, "active", 60*time.Second)
	var cred credentials
	if code := s.call(d.TechnicianToken, http.MethodGet, "/v1/access-requests/"+g.ID+"/credentials", nil, &cred); code != http.StatusOK {
		t.Fatalf("credentials: %d", code)
	}
}
