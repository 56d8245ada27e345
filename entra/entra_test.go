package entra_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/entra"
	"github.com/jitaccess/jitaccess/internal/entrasim"
)

const (
	redirectURL = "http://127.0.0.1:9999/oauth/callback"
	appID       = "app_contoso0000000001"

	roleGlobalReader = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
	roleUserAdmin    = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	roleHelpdesk     = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
)

var threeRoles = []string{roleGlobalReader, roleUserAdmin, roleHelpdesk}

// memStore is an in-memory entra.CredentialStore that records every save.
type memStore struct {
	mu     sync.Mutex
	tenant map[string]string
	rt     map[string]string
	saves  []string
	reads  int
}

func newMemStore() *memStore {
	return &memStore{tenant: map[string]string{}, rt: map[string]string{}}
}

func (m *memStore) RefreshToken(_ context.Context, app string) (string, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	if m.rt[app] == "" {
		return "", "", directory.ErrNotAuthorized
	}
	return m.tenant[app], m.rt[app], nil
}

func (m *memStore) SaveRefreshToken(_ context.Context, app, rt string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rt[app] = rt
	m.saves = append(m.saves, rt)
	return nil
}

func (m *memStore) put(app string, c directory.Consent) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tenant[app], m.rt[app] = c.EntraTenantID, c.RefreshToken
}

func (m *memStore) current(app string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rt[app]
}

func (m *memStore) saveCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.saves)
}

type env struct {
	t     *testing.T
	sim   *entrasim.Server
	ts    *httptest.Server
	store *memStore
	c     *entra.Client
}

func (e *env) config() entra.Config {
	return entra.Config{
		Authority:    e.ts.URL,
		GraphURL:     e.ts.URL + "/v1.0",
		ClientID:     entrasim.ClientID,
		ClientSecret: entrasim.ClientSecret,
		RedirectURL:  redirectURL,
	}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	sim, err := entrasim.New(entrasim.Options{AutoConsent: true})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, sim: sim, ts: httptest.NewServer(sim), store: newMemStore()}
	t.Cleanup(e.ts.Close)
	e.c = entra.New(e.config(), e.store)
	return e
}

// authorize runs the sign-in against the emulator's auto-consent: it follows the authorize
// URL with a client that stops at the redirect to redirect_uri, and returns its query.
func (e *env) authorize(c *entra.Client, state, verifier, loginHint string) url.Values {
	e.t.Helper()
	stop := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirectURL) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := stop.Get(c.AuthCodeURL(state, verifier, loginHint))
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), redirectURL) {
		e.t.Fatalf("authorize ended with %d at %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query()
}

// consent authorizes appID as contoso's admin and stores the refresh token.
func (e *env) consent(app, loginHint string) directory.Consent {
	e.t.Helper()
	verifier := "verifier-" + strings.Repeat("x", 43)
	q := e.authorize(e.c, "state-1", verifier, loginHint)
	if q.Get("state") != "state-1" || q.Get("code") == "" {
		e.t.Fatalf("redirect query %v", q)
	}
	consent, err := e.c.Redeem(context.Background(), q.Get("code"), verifier)
	if err != nil {
		e.t.Fatalf("Redeem: %v", err)
	}
	e.store.put(app, consent)
	return consent
}

func (e *env) graphRoundTrips() int64 { return e.sim.Stats().Total }

func (e *env) user(upn string) entrasim.UserView {
	e.t.Helper()
	u, ok := e.sim.User(entrasim.ContosoTenant, upn)
	if !ok {
		e.t.Fatalf("user %s not in the emulator", upn)
	}
	return u
}

func aliceSpec(t *testing.T) directory.AccountSpec {
	spec, err := directory.NewAccountSpec("alice@msp.example", "Alice Smith", "contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func TestAuthCodeURL(t *testing.T) {
	c := entra.New(entra.Config{Authority: "https://login.example/", ClientID: "cid", RedirectURL: redirectURL}, newMemStore())
	raw := c.AuthCodeURL("st", "v3rifier-v3rifier-v3rifier-v3rifier-v3rifier", "admin@contoso.com")
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if u.Host != "login.example" || u.Path != "/organizations/oauth2/v2.0/authorize" {
		t.Errorf("authorize endpoint %s", raw)
	}
	q := u.Query()
	want := map[string]string{
		"client_id": "cid", "response_type": "code", "redirect_uri": redirectURL, "state": "st",
		"code_challenge_method": "S256", "login_hint": "admin@contoso.com", "prompt": "select_account",
		"scope": entra.ConsentScopes,
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if q.Get("code_challenge") == "" || strings.Contains(raw, "v3rifier") {
		t.Error("missing code_challenge or the verifier leaked into the URL")
	}
	if strings.Contains(entra.New(entra.Config{}, nil).AuthCodeURL("s", "v", ""), "login_hint") {
		t.Error("empty login hint sent")
	}
}

func TestAuthorizeRedeemAndRotation(t *testing.T) {
	e := newEnv(t)
	consent := e.consent(appID, entrasim.ContosoAdminUPN)
	if consent.Account != entrasim.ContosoAdminUPN || consent.EntraTenantID != entrasim.ContosoTenantID ||
		consent.RefreshToken == "" || consent.DisplayName == "" {
		t.Fatalf("consent %+v", consent)
	}

	// First Graph call redeems the stored refresh token; the rotated one is saved.
	if _, err := e.c.Domains(context.Background(), appID); err != nil {
		t.Fatal(err)
	}
	if e.store.saveCount() != 1 || e.store.current(appID) == consent.RefreshToken {
		t.Fatalf("rotated refresh token not persisted (saves %d)", e.store.saveCount())
	}
	// Cached access token: no second refresh.
	if _, err := e.c.Roles(context.Background(), appID); err != nil {
		t.Fatal(err)
	}
	if e.store.saveCount() != 1 {
		t.Errorf("access token not cached: %d saves", e.store.saveCount())
	}
	// A second worker (fresh cache) picks up the persisted rotated token.
	other := entra.New(e.config(), e.store)
	if _, err := other.Domains(context.Background(), appID); err != nil {
		t.Fatalf("fresh client with the rotated token: %v", err)
	}

	// Northwind's admin consents for another application: tenants stay apart.
	nw := e.consent("app_northwind", entrasim.NorthwindAdminUPN)
	if nw.EntraTenantID != entrasim.NorthwindTenantID || nw.Account != entrasim.NorthwindAdminUPN {
		t.Fatalf("northwind consent %+v", nw)
	}
	doms, err := e.c.Domains(context.Background(), "app_northwind")
	if err != nil || len(doms) == 0 || !strings.HasSuffix(doms[0].ID, "northwind.onmicrosoft.com") {
		t.Fatalf("northwind domains %+v, %v", doms, err)
	}
}

func TestRedeemErrors(t *testing.T) {
	e := newEnv(t)
	verifier := "verifier-" + strings.Repeat("y", 43)
	q := e.authorize(e.c, "s", verifier, "")
	if _, err := e.c.Redeem(context.Background(), q.Get("code"), "wrong-"+verifier); err == nil {
		t.Fatal("Redeem accepted a wrong PKCE verifier")
	}
	if _, err := e.c.Redeem(context.Background(), q.Get("code"), verifier); err != nil {
		t.Fatalf("a failed attempt burned the code: %v", err)
	}
	_, err := e.c.Redeem(context.Background(), q.Get("code"), verifier)
	if err == nil || strings.Contains(err.Error(), q.Get("code")) {
		t.Fatalf("reused code: %v", err)
	}
	if _, err := e.c.Domains(context.Background(), "app_never_authorized"); !errors.Is(err, directory.ErrNotAuthorized) {
		t.Fatalf("unauthorized application: %v", err)
	}
}

func TestAuthorizationLost(t *testing.T) {
	e := newEnv(t)
	e.consent(appID, "")
	if err := e.sim.RevokeConsent(entrasim.ContosoTenant); err != nil {
		t.Fatal(err)
	}
	c := entra.New(e.config(), e.store) // no cached access token
	_, err := c.Domains(context.Background(), appID)
	if !errors.Is(err, directory.ErrAuthorizationLost) {
		t.Fatalf("after revoked consent: %v", err)
	}
	if rt := e.store.current(appID); strings.Contains(err.Error(), rt) {
		t.Fatal("error contains the refresh token")
	}
	if !strings.Contains(err.Error(), "AADSTS") {
		t.Errorf("error does not name the AADSTS code: %v", err)
	}
	// An admin authorizes again: the same client picks the new token up from the store.
	e.consent(appID, "")
	if _, err := c.Domains(context.Background(), appID); err != nil {
		t.Fatalf("after re-authorization: %v", err)
	}
}

// A cached access token spares the store read on every Graph call, yet a re-authorization
// into another tenant takes effect within Config.StoreRecheck.
func TestStoreIsReadAgainAfterStoreRecheck(t *testing.T) {
	e := newEnv(t)
	e.consent(appID, "")
	cfg := e.config()
	cfg.StoreRecheck = 300 * time.Millisecond
	c := entra.New(cfg, e.store)
	ctx := context.Background()
	reads := func() int { e.store.mu.Lock(); defer e.store.mu.Unlock(); return e.store.reads }
	for range 5 {
		if _, err := c.Domains(ctx, appID); err != nil {
			t.Fatal(err)
		}
	}
	if n := reads(); n != 1 {
		t.Errorf("%d store reads for 5 calls within StoreRecheck, want 1", n)
	}
	// Re-authorized as northwind's admin: the next call after StoreRecheck goes there.
	e.consent(appID, "admin@northwind.onmicrosoft.com")
	time.Sleep(cfg.StoreRecheck)
	domains, err := c.Domains(ctx, appID)
	if err != nil {
		t.Fatal(err)
	}
	if len(domains) == 0 || !strings.Contains(domains[0].ID, "northwind") {
		t.Errorf("after re-authorization into northwind: domains %+v", domains)
	}
}

func TestDomainsAndRoles(t *testing.T) {
	e := newEnv(t)
	e.consent(appID, "")
	doms, err := e.c.Domains(context.Background(), appID)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]directory.Domain{}
	for _, d := range doms {
		byID[d.ID] = d
	}
	for id, supported := range map[string]bool{
		"contoso.onmicrosoft.com": true, "contoso.com": true, "fabrikam-federated.com": false, "unverified.example": false,
	} {
		d, ok := byID[id]
		if !ok {
			t.Errorf("domain %s missing from %+v", id, doms)
			continue
		}
		if d.Supported() != supported {
			t.Errorf("%s: %+v Supported()=%v", id, d, d.Supported())
		}
	}
	if !byID["contoso.onmicrosoft.com"].IsInitial || !byID["contoso.com"].IsDefault || byID["fabrikam-federated.com"].AuthenticationType != "Federated" {
		t.Errorf("domain flags wrong: %+v", doms)
	}

	roles, err := e.c.Roles(context.Background(), appID)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, r := range roles {
		found[r.ID] = r.DisplayName
	}
	if found["62e90394-69f5-4237-9190-012177145e10"] != "Global Administrator" || found[roleHelpdesk] != "Helpdesk Administrator" {
		t.Errorf("built-in roles wrong: %d roles", len(roles))
	}
	if !slices.IsSortedFunc(roles, func(a, b directory.Role) int { return strings.Compare(a.DisplayName, b.DisplayName) }) {
		t.Error("roles not sorted by name")
	}
}

// TestGrantLifecycleRoundTrips is the budget: create + assign 3 roles + disable ≤ 4 Graph
// round trips (3 for a new user, 4 for an existing one), the token endpoint not counted.
func TestGrantLifecycleRoundTrips(t *testing.T) {
	e := newEnv(t)
	e.consent(appID, "")
	ctx := context.Background()
	spec := aliceSpec(t)
	if _, err := e.c.Domains(ctx, appID); err != nil { // warm the token cache
		t.Fatal(err)
	}

	for grant, wantTrips := range []int64{3, 3} {
		e.sim.ResetStats()
		acct, err := e.c.EnsureAccount(ctx, appID, spec, directory.NewPassword())
		if err != nil {
			t.Fatalf("grant %d: EnsureAccount: %v", grant, err)
		}
		if acct.Created != (grant == 0) || acct.UPN != spec.UPN || acct.ObjectID == "" {
			t.Fatalf("grant %d: account %+v", grant, acct)
		}
		spec.ObjectID = acct.ObjectID // the product records it; an account without a record is never adopted
		u := e.user(spec.UPN)
		if !u.AccountEnabled || u.DisplayName != "Alice Smith (JIT admin, alice@msp.example)" || u.MailNickname != spec.MailNickname {
			t.Fatalf("grant %d: user after EnsureAccount %+v", grant, u)
		}
		ids, err := e.c.AssignRoles(ctx, appID, acct.ObjectID, threeRoles)
		if err != nil || len(ids) != 3 {
			t.Fatalf("grant %d: AssignRoles = %v, %v", grant, ids, err)
		}
		if got := e.user(spec.UPN).RoleDefinitionIDs; !sameSet(got, threeRoles) {
			t.Fatalf("grant %d: roles %v", grant, got)
		}
		for i, id := range ids {
			if id != entra.AssignmentID(threeRoles[i], acct.ObjectID) {
				t.Errorf("assignment id %s differs from the deterministic %s", id, entra.AssignmentID(threeRoles[i], acct.ObjectID))
			}
		}
		before := e.user(spec.UPN)
		time.Sleep(5 * time.Millisecond)
		if err := e.c.DisableAccount(ctx, appID, acct.ObjectID, ids, directory.NewPassword()); err != nil {
			t.Fatalf("grant %d: DisableAccount: %v", grant, err)
		}
		after := e.user(spec.UPN)
		if after.AccountEnabled || len(after.RoleDefinitionIDs) != 0 {
			t.Fatalf("grant %d: user after disable %+v", grant, after)
		}
		if !after.PasswordChangedAt.After(before.PasswordChangedAt) || !after.SignInSessionsValidFrom.After(before.SignInSessionsValidFrom) {
			t.Errorf("grant %d: password not scrambled or sessions not revoked: %+v", grant, after)
		}
		st := e.sim.Stats()
		t.Logf("grant %d (created=%v): %d Graph round trips %v", grant, acct.Created, st.Total, st.Requests)
		if st.Total > wantTrips {
			t.Errorf("grant %d: %d Graph round trips, budget %d", grant, st.Total, wantTrips)
		}
	}
}

// An account id remembered from an earlier grant saves the POST /users round trip; an id
// that no longer exists falls back to finding (or creating) the account by name.
func TestKnownObjectIDSavesARoundTrip(t *testing.T) {
	e := newEnv(t)
	e.consent(appID, "")
	ctx := context.Background()
	spec := aliceSpec(t)
	first, err := e.c.EnsureAccount(ctx, appID, spec, directory.NewPassword())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.c.DisableAccount(ctx, appID, first.ObjectID, nil, directory.NewPassword()); err != nil {
		t.Fatal(err)
	}

	known := spec
	known.ObjectID = first.ObjectID
	e.sim.ResetStats()
	acct, err := e.c.EnsureAccount(ctx, appID, known, directory.NewPassword())
	if err != nil || acct.ObjectID != first.ObjectID || acct.UPN != spec.UPN || acct.Created {
		t.Fatalf("EnsureAccount by id = %+v, %v", acct, err)
	}
	if st := e.sim.Stats(); st.Total != 1 {
		t.Errorf("re-enable by id took %d round trips %v, want one $batch", st.Total, st.Requests)
	}
	if !e.user(spec.UPN).AccountEnabled {
		t.Error("account not enabled")
	}

	for name, id := range map[string]string{"stale id": "0f0f0f0f-0000-4000-8000-000000000001"} {
		stale := spec
		stale.ObjectID = id
		acct, err := e.c.EnsureAccount(ctx, appID, stale, directory.NewPassword())
		if err != nil || acct.ObjectID != first.ObjectID || acct.Created {
			t.Fatalf("%s: EnsureAccount = %+v, %v", name, acct, err)
		}
	}
	bob := spec
	bob.UPN, bob.MailNickname, bob.ObjectID = strings.Replace(spec.UPN, "alice", "bob", 1), "", "0f0f0f0f-0000-4000-8000-000000000002"
	acct, err = e.c.EnsureAccount(ctx, appID, bob, directory.NewPassword())
	if err != nil || !acct.Created || acct.UPN != bob.UPN {
		t.Fatalf("deleted account not made anew: %+v, %v", acct, err)
	}
}

func TestIdempotentOperations(t *testing.T) {
	e := newEnv(t)
	e.consent(appID, "")
	ctx := context.Background()
	spec := aliceSpec(t)

	if _, err := e.c.FindUser(ctx, appID, spec.UPN); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("FindUser before create: %v", err)
	}
	a1, err := e.c.EnsureAccount(ctx, appID, spec, directory.NewPassword())
	if err != nil {
		t.Fatal(err)
	}
	// Retried activity: the create happened, the second call re-enables and resets.
	p2 := directory.NewPassword()
	before := e.user(spec.UPN)
	time.Sleep(5 * time.Millisecond)
	a2, err := e.c.EnsureAccount(ctx, appID, spec, p2)
	if err != nil || a2.Created || a2.ObjectID != a1.ObjectID {
		t.Fatalf("second EnsureAccount = %+v, %v (first %+v)", a2, err, a1)
	}
	if !e.user(spec.UPN).PasswordChangedAt.After(before.PasswordChangedAt) {
		t.Error("second EnsureAccount did not reset the password")
	}
	found, err := e.c.FindUser(ctx, appID, spec.UPN)
	if err != nil || found.ObjectID != a1.ObjectID {
		t.Fatalf("FindUser = %+v, %v", found, err)
	}

	ids1, err := e.c.AssignRoles(ctx, appID, a1.ObjectID, threeRoles)
	if err != nil {
		t.Fatal(err)
	}
	ids2, err := e.c.AssignRoles(ctx, appID, a1.ObjectID, append(threeRoles, roleUserAdmin)) // already assigned + duplicate
	if err != nil || !slices.Equal(ids1, ids2) {
		t.Fatalf("second AssignRoles = %v, %v; first %v", ids2, err, ids1)
	}
	listed, err := e.c.ListAssignments(ctx, appID, a1.ObjectID)
	if err != nil || len(listed) != 3 {
		t.Fatalf("ListAssignments = %+v, %v", listed, err)
	}
	for _, a := range listed {
		if a.PrincipalID != a1.ObjectID || a.DirectoryScopeID != "/" || !slices.Contains(ids1, a.ID) {
			t.Errorf("listed assignment %+v", a)
		}
	}

	for i := 0; i < 2; i++ {
		if err := e.c.RemoveAssignments(ctx, appID, ids1[:1]); err != nil {
			t.Fatalf("RemoveAssignments #%d: %v", i+1, err)
		}
	}
	for i := 0; i < 2; i++ {
		if err := e.c.DisableAccount(ctx, appID, a1.ObjectID, ids1, directory.NewPassword()); err != nil {
			t.Fatalf("DisableAccount #%d: %v", i+1, err)
		}
	}
	u := e.user(spec.UPN)
	if u.AccountEnabled || len(u.RoleDefinitionIDs) != 0 {
		t.Fatalf("after disable: %+v", u)
	}
	// Next grant: the disabled account comes back enabled.
	a3, err := e.c.EnsureAccount(ctx, appID, spec, directory.NewPassword())
	if err != nil || a3.Created || !e.user(spec.UPN).AccountEnabled {
		t.Fatalf("re-enable: %+v, %v", a3, err)
	}
}

func TestInputErrorsNeverReachGraph(t *testing.T) {
	e := newEnv(t)
	e.consent(appID, "")
	ctx := context.Background()
	e.sim.ResetStats()
	weak := "alllowercase"
	_, err := e.c.EnsureAccount(ctx, appID, aliceSpec(t), weak)
	if !errors.Is(err, directory.ErrWeakPassword) || strings.Contains(err.Error(), weak) {
		t.Fatalf("weak password: %v", err)
	}
	if _, err := e.c.EnsureAccount(ctx, appID, directory.AccountSpec{UPN: "bad..upn@contoso.com"}, directory.NewPassword()); !errors.Is(err, directory.ErrInvalidUPN) {
		t.Fatalf("bad UPN: %v", err)
	}
	if err := e.c.DisableAccount(ctx, appID, "00000000-0000-0000-0000-000000000001", nil, "short"); err == nil {
		t.Fatal("weak scramble accepted")
	}
	if n := e.graphRoundTrips(); n != 0 {
		t.Errorf("%d Graph round trips for refused input", n)
	}
}

func TestGraphErrors(t *testing.T) {
	e := newEnv(t)
	e.consent(appID, "")
	ctx := context.Background()

	// Unverified domain: Graph's 400 becomes a *directory.GraphError naming op and code.
	spec, _ := directory.NewAccountSpec("bob@msp.example", "Bob", "unverified.example")
	pw := directory.NewPassword()
	_, err := e.c.EnsureAccount(ctx, appID, spec, pw)
	var ge *directory.GraphError
	if !errors.As(err, &ge) || ge.Status != 400 || ge.Code != "Request_BadRequest" || ge.RequestID == "" || !strings.Contains(ge.Op, spec.UPN) {
		t.Fatalf("unverified domain: %#v", err)
	}
	if strings.Contains(err.Error(), pw) {
		t.Fatal("error contains the password")
	}

	acct, err := e.c.EnsureAccount(ctx, appID, aliceSpec(t), directory.NewPassword())
	if err != nil {
		t.Fatal(err)
	}
	// An unknown role is a permanent not-found, not replication lag.
	_, err = e.c.AssignRoles(ctx, appID, acct.ObjectID, []string{"00000000-1111-2222-3333-444444444444"})
	var lag *directory.ReplicationLagError
	if !errors.Is(err, directory.ErrNotFound) || errors.As(err, &lag) {
		t.Fatalf("unknown role: %v", err)
	}
	// A principal that never appears: replication lag until the caller gives up.
	cfg := e.config()
	cfg.ReplicationWait = 300 * time.Millisecond
	short := entra.New(cfg, e.store)
	_, err = short.AssignRoles(ctx, appID, "0badbad0-0000-4000-8000-000000000000", threeRoles)
	if !errors.As(err, &lag) {
		t.Fatalf("missing principal: %v", err)
	}
}

// TestAssignManyRolesSplitsBatches: Graph takes at most 20 requests per $batch.
func TestAssignManyRolesSplitsBatches(t *testing.T) {
	e := newEnv(t)
	e.consent(appID, "")
	ctx := context.Background()
	roles, err := e.c.Roles(ctx, appID)
	if err != nil {
		t.Fatal(err)
	}
	if len(roles) < 25 {
		t.Skipf("emulator has only %d built-in roles", len(roles))
	}
	var ids []string
	for _, r := range roles[:25] {
		ids = append(ids, r.ID)
	}
	acct, err := e.c.EnsureAccount(ctx, appID, aliceSpec(t), directory.NewPassword())
	if err != nil {
		t.Fatal(err)
	}
	e.sim.ResetStats()
	got, err := e.c.AssignRoles(ctx, appID, acct.ObjectID, ids)
	if err != nil || len(got) != 25 {
		t.Fatalf("AssignRoles 25 = %d ids, %v", len(got), err)
	}
	if n := e.sim.Stats().Requests["POST /v1.0/$batch"]; n != 2 {
		t.Errorf("%d $batch requests for 25 roles, want 2 (%v)", n, e.sim.Stats().Requests)
	}
	if err := e.c.DisableAccount(ctx, appID, acct.ObjectID, got, directory.NewPassword()); err != nil {
		t.Fatal(err)
	}
	if u := e.user(acct.UPN); u.AccountEnabled || len(u.RoleDefinitionIDs) != 0 {
		t.Fatalf("after disable: %+v", u)
	}
}

// retryLikeTemporal retries an activity-like step on the errors the activity retry policy
// treats as retryable, for at most a minute.
func retryLikeTemporal(t *testing.T, name string, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			if attempt > 1 {
				t.Logf("%s succeeded on attempt %d", name, attempt)
			}
			return
		}
		var te *directory.ThrottledError
		var le *directory.ReplicationLagError
		var ge *directory.GraphError
		retryable := errors.As(err, &te) || errors.As(err, &le) || (errors.As(err, &ge) && ge.Status >= 500)
		if !retryable || time.Now().After(deadline) {
			t.Fatalf("%s: attempt %d: %v", name, attempt, err)
		}
		t.Logf("%s: attempt %d: %v", name, attempt, err)
		time.Sleep(200 * time.Millisecond)
	}
}

func TestFaultsConverge(t *testing.T) {
	e := newEnv(t)
	e.consent(appID, "")
	ctx := context.Background()
	if err := e.sim.SetFaults(entrasim.Faults{ThrottleRate: 0.2, RetryAfterSeconds: 1, ErrorRate: 0.1, ReplicationLagMS: 1500}); err != nil {
		t.Fatal(err)
	}
	cfg := e.config()
	cfg.ReplicationWait = 500 * time.Millisecond // leave most of the waiting to the "activity" retries
	c := entra.New(cfg, e.store)

	for _, email := range []string{"carol@msp.example"} {
		spec, _ := directory.NewAccountSpec(email, "", "contoso.com")
		var acct directory.Account
		var ids []string
		for round := 0; round < 3; round++ { // later grants re-enable
			retryLikeTemporal(t, "EnsureAccount "+email, func() (err error) {
				acct, err = c.EnsureAccount(ctx, appID, spec, directory.NewPassword())
				return err
			})
			retryLikeTemporal(t, "AssignRoles "+email, func() (err error) {
				ids, err = c.AssignRoles(ctx, appID, acct.ObjectID, threeRoles)
				return err
			})
			if u := e.user(spec.UPN); !u.AccountEnabled || !sameSet(u.RoleDefinitionIDs, threeRoles) {
				t.Fatalf("%s round %d active: %+v", email, round, u)
			}
			retryLikeTemporal(t, "DisableAccount "+email, func() error {
				return c.DisableAccount(ctx, appID, acct.ObjectID, ids, directory.NewPassword())
			})
			if u := e.user(spec.UPN); u.AccountEnabled || len(u.RoleDefinitionIDs) != 0 {
				t.Fatalf("%s round %d disabled: %+v", email, round, u)
			}
		}
	}
}

func TestAppOnly(t *testing.T) {
	e := newEnv(t)
	c := entra.NewAppOnly(e.config(), entra.TenantLookupFunc(func(context.Context, string) (string, error) {
		return entrasim.ContosoTenantID, nil
	}))
	doms, err := c.Domains(context.Background(), appID)
	if err != nil || len(doms) == 0 {
		t.Fatalf("app-only Domains = %v, %v", doms, err)
	}
	acct, err := c.EnsureAccount(context.Background(), appID, aliceSpec(t), directory.NewPassword())
	if err != nil || !acct.Created {
		t.Fatalf("app-only EnsureAccount = %+v, %v", acct, err)
	}
}

func TestAssignmentID(t *testing.T) {
	// Global Administrator's documented assignment ids start with this prefix.
	got := entra.AssignmentID("62e90394-69f5-4237-9190-012177145e10", "00000000-0000-0000-0000-000000000000")
	if !strings.HasPrefix(got, "lAPpYvVpN0KRkAEhdxReE") || !strings.HasSuffix(got, "-1") {
		t.Errorf("AssignmentID = %s", got)
	}
	if entra.AssignmentID("not-a-guid", "x") != "" {
		t.Error("AssignmentID accepted a non-GUID")
	}
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// TestConcurrentRefreshRedeemsOnce: many activities of one application start at once with a
// cold cache; the refresh token is redeemed (and the rotated one saved) exactly once.
func TestConcurrentRefreshRedeemsOnce(t *testing.T) {
	e := newEnv(t)
	e.consent(appID, "")
	c := entra.New(e.config(), e.store)
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Domains(context.Background(), appID)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := e.store.saveCount(); n != 1 {
		t.Errorf("%d refresh-token saves for one cold start, want 1", n)
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// countingTransport counts the requests that go through Config.HTTPClient.
type countingTransport struct {
	mu    sync.Mutex
	paths []string
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.paths = append(c.paths, r.URL.Path)
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// TestExpiredAccessTokenAndHTTPClient: Graph's 401 for a token that expired early (here: the
// emulator's clock jumped) makes the client refresh and retry once; all traffic, token
// endpoint and Graph, goes through Config.HTTPClient.
func TestExpiredAccessTokenAndHTTPClient(t *testing.T) {
	clk := &clock{t: time.Now()}
	sim, err := entrasim.New(entrasim.Options{AutoConsent: true, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, sim: sim, ts: httptest.NewServer(sim), store: newMemStore()}
	t.Cleanup(e.ts.Close)
	ct := &countingTransport{}
	cfg := e.config()
	cfg.HTTPClient = &http.Client{Transport: ct, Timeout: 10 * time.Second}
	e.c = entra.New(cfg, e.store)
	e.consent(appID, "")
	ctx := context.Background()
	if _, err := e.c.Domains(ctx, appID); err != nil {
		t.Fatal(err)
	}
	clk.advance(2 * time.Hour) // the cached access token is now expired for the emulator
	if _, err := e.c.Roles(ctx, appID); err != nil {
		t.Fatalf("after the access token expired: %v", err)
	}
	if n := e.store.saveCount(); n != 2 {
		t.Errorf("%d refresh-token saves, want 2 (one per refresh)", n)
	}
	var token, graph int
	for _, p := range ct.paths {
		switch {
		case strings.HasSuffix(p, "/oauth2/v2.0/token"):
			token++
		case strings.HasPrefix(p, "/v1.0/"):
			graph++
		}
	}
	if token != 3 || graph < 5 { // redeem + 2 refreshes; /me, /organization, domains, roles twice
		t.Errorf("through Config.HTTPClient: %d token requests, %d Graph requests (%v)", token, graph, ct.paths)
	}
}
