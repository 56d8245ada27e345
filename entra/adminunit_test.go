package entra_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/entra"
	"github.com/jitaccess/jitaccess/internal/entrasim"
)

// With the JIT account in a restricted-management AU, a tenant admin can no longer add a
// method to it, and the connector still runs the whole lifecycle through its AU-scoped roles.
func TestRestrictedUnitLifecycle(t *testing.T) {
	e := newEnv(t)
	e.consent(appID, "")
	ctx := context.Background()
	unit, err := e.c.EnsureRestrictedUnit(ctx, appID, "")
	if err != nil || unit == "" {
		t.Fatalf("EnsureRestrictedUnit: %q %v", unit, err)
	}
	if again, err := e.c.EnsureRestrictedUnit(ctx, appID, unit); err != nil || again != unit {
		t.Fatalf("EnsureRestrictedUnit(recorded) = %q %v, want %q", again, err, unit)
	}
	acct, err := e.c.EnsureAccount(ctx, appID, aliceSpec(t), directory.NewPassword())
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // idempotent
		if err := e.c.AddToRestrictedUnit(ctx, appID, unit, acct.ObjectID); err != nil {
			t.Fatalf("AddToRestrictedUnit: %v", err)
		}
	}
	if r, err := e.c.ManagementRestricted(ctx, appID, acct.ObjectID); err != nil || !r {
		t.Fatalf("ManagementRestricted = %v %v", r, err)
	}
	if u := e.user(acct.UPN); len(u.AdministrativeUnits) != 1 || u.AdministrativeUnits[0] != unit {
		t.Fatalf("units %v", u.AdministrativeUnits)
	}
	// The dormant account: a tenant admin's out-of-band method is refused by the directory.
	if _, err := e.sim.AddAuthMethod(entrasim.ContosoTenant, acct.ObjectID, "fido2"); !errors.Is(err, entrasim.ErrManagementRestricted) {
		t.Fatalf("tenant admin adds a method: %v", err)
	}

	// Grant: roles, TAP, then disable (while the roles are still held) and re-enable.
	ids, err := e.c.AssignRoles(ctx, appID, acct.ObjectID, []string{"62e90394-69f5-4237-9190-012177145e10"})
	if err != nil {
		t.Fatalf("AssignRoles: %v", err)
	}
	if _, err := e.c.IssueTAP(ctx, appID, acct.ObjectID, time.Hour); err != nil {
		t.Fatalf("IssueTAP: %v", err)
	}
	if err := e.c.DisableAccount(ctx, appID, acct.ObjectID, ids, directory.NewPassword()); err != nil {
		t.Fatalf("DisableAccount: %v", err)
	}
	if u := e.user(acct.UPN); u.AccountEnabled || len(u.RoleDefinitionIDs) != 0 {
		t.Fatalf("after disable: %+v", u)
	}
	if _, err := e.c.CleanAccount(ctx, appID, acct.ObjectID, nil); err != nil {
		t.Fatalf("CleanAccount: %v", err)
	}
	again, err := e.c.EnsureAccount(ctx, appID, aliceSpec(t), directory.NewPassword())
	if err != nil || !e.user(again.UPN).AccountEnabled {
		t.Fatalf("re-enable: %+v %v", again, err)
	}
}

// A signed-in admin without Privileged Role Administrator gets an error naming what to grant.
func TestRestrictedUnitRefusedNamesTheRole(t *testing.T) {
	e := newEnv(t)
	c := entra.New(e.config(), e.store)
	e.consent(appID, "admin@msp.example") // tenant-wide consent by msp's Global Administrator
	e.store.put("app_tech", consentAs(t, e, c, "tech@msp.example"))
	_, err := c.EnsureRestrictedUnit(context.Background(), "app_tech", "")
	if !errors.Is(err, entra.ErrRestrictedUnitRefused) {
		t.Fatalf("EnsureRestrictedUnit as a non-admin: %v", err)
	}
}

func consentAs(t *testing.T, e *env, c *entra.Client, upn string) directory.Consent {
	t.Helper()
	verifier := "verifier-" + "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
	q := e.authorize(c, "state-2", verifier, upn)
	consent, err := c.Redeem(context.Background(), q.Get("code"), verifier)
	if err != nil {
		t.Fatalf("Redeem as %s: %v", upn, err)
	}
	return consent
}

// An application authorized before AdministrativeUnit.ReadWrite.All was asked keeps working (a
// refresh sends no scope, so it keeps the scopes granted then); only the unit is refused, naming
// what to do.
func TestAuthorizationBeforeAdminUnitScopeStillRefreshes(t *testing.T) {
	e := newEnv(t)
	old := &oauth2.Config{ClientID: entrasim.ClientID, ClientSecret: entrasim.ClientSecret, RedirectURL: redirectURL,
		Scopes: strings.Fields("openid profile offline_access https://graph.microsoft.com/User.ReadWrite.All " +
			"https://graph.microsoft.com/RoleManagement.ReadWrite.Directory https://graph.microsoft.com/Domain.Read.All " +
			"https://graph.microsoft.com/Directory.Read.All https://graph.microsoft.com/UserAuthenticationMethod.ReadWrite.All " +
			"https://graph.microsoft.com/Policy.Read.All"),
		Endpoint: oauth2.Endpoint{AuthURL: e.ts.URL + "/organizations/oauth2/v2.0/authorize",
			TokenURL: e.ts.URL + "/organizations/oauth2/v2.0/token", AuthStyle: oauth2.AuthStyleInParams}}
	verifier := oauth2.GenerateVerifier()
	stop := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := stop.Get(old.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("login_hint", entrasim.ContosoAdminUPN)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %v %s", err, resp.Header.Get("Location"))
	}
	tok, err := old.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	e.store.put(appID, directory.Consent{EntraTenantID: entrasim.ContosoTenantID, RefreshToken: tok.RefreshToken})
	if doms, err := e.c.Domains(context.Background(), appID); err != nil || len(doms) == 0 {
		t.Fatalf("Domains with an older authorization: %v %v", doms, err)
	}
	if _, err := e.c.EnsureRestrictedUnit(context.Background(), appID, ""); !errors.Is(err, entra.ErrRestrictedUnitRefused) {
		t.Fatalf("EnsureRestrictedUnit without the scope: %v", err)
	}
}
