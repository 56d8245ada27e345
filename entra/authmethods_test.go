package entra_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/internal/entrasim"
)

func methodTypes(u entrasim.UserView) []string {
	var out []string
	for _, m := range u.AuthMethods {
		out = append(out, m.Type)
	}
	return out
}

func TestTAPIssueCapAndDelete(t *testing.T) {
	e := newEnv(t)
	e.consent(appID, "")
	ctx := context.Background()
	acct, err := e.c.EnsureAccount(ctx, appID, aliceSpec(t), directory.NewPassword())
	if err != nil {
		t.Fatal(err)
	}
	if got := e.user(acct.UPN).EmployeeType; got != directory.AccountMarker {
		t.Fatalf("created account's employeeType %q, want the marker", got)
	}
	pol, err := e.c.TAPPolicy(ctx, appID)
	if err != nil {
		t.Fatal(err)
	}
	if !pol.Enabled || pol.MinLifetime != time.Hour || pol.MaxLifetime != 8*time.Hour || !pol.AllUsers {
		t.Fatalf("policy %+v", pol)
	}

	for _, tc := range []struct {
		want, got time.Duration
		trips     int64
	}{
		{4 * time.Hour, 4 * time.Hour, 1},
		{4*time.Hour + time.Second, 4*time.Hour + time.Minute, 1}, // rounded up to a minute
		{10 * time.Hour, 8 * time.Hour, 3},                        // capped: refused, policy read, issued
		{10 * time.Minute, time.Hour, 3},                          // raised to the policy's minimum
	} {
		e.sim.ResetStats()
		tap, err := e.c.IssueTAP(ctx, appID, acct.ObjectID, tc.want)
		if err != nil {
			t.Fatalf("IssueTAP(%s): %v", tc.want, err)
		}
		if tap.Pass == "" || tap.ID == "" || tap.ExpiresAt.Sub(tap.StartsAt) != tc.got {
			t.Fatalf("IssueTAP(%s) = %s lasting %s, want %s", tc.want, tap, tap.ExpiresAt.Sub(tap.StartsAt), tc.got)
		}
		if strings.Contains(tap.String(), tap.Pass) {
			t.Fatal("TAP.String shows the pass")
		}
		if n := e.graphRoundTrips(); n != tc.trips {
			t.Errorf("IssueTAP(%s): %d round trips, want %d", tc.want, n, tc.trips)
		}
	}
	u := e.user(acct.UPN)
	if types := methodTypes(u); len(types) != 2 || types[1] != "temporaryAccessPass" {
		t.Fatalf("methods %v: one TAP replaces the other", types)
	}
	if err := e.c.DeleteTAP(ctx, appID, acct.ObjectID, u.AuthMethods[1].ID); err != nil {
		t.Fatal(err)
	}
	if err := e.c.DeleteTAP(ctx, appID, acct.ObjectID, u.AuthMethods[1].ID); err != nil {
		t.Fatalf("deleting a TAP that is gone: %v", err)
	}
	if _, err := e.c.IssueTAP(ctx, appID, acct.ObjectID, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := e.c.DeleteTAP(ctx, appID, acct.ObjectID, ""); err != nil {
		t.Fatal(err)
	}
	if types := methodTypes(e.user(acct.UPN)); len(types) != 1 {
		t.Fatalf("after DeleteTAP all: %v", types)
	}

	// Policy off: a typed error, never a silently missing pass.
	if err := e.sim.SetTAPPolicyEnabled(entrasim.ContosoTenant, false); err != nil {
		t.Fatal(err)
	}
	if pol, err := e.c.TAPPolicy(ctx, appID); err != nil || pol.Enabled {
		t.Fatalf("policy after disabling: %+v %v", pol, err)
	}
	_, err = e.c.IssueTAP(ctx, appID, acct.ObjectID, time.Hour)
	if !errors.Is(err, directory.ErrTAPPolicyDisabled) {
		t.Fatalf("IssueTAP with the policy off: %v", err)
	}
}

func TestCleanAccountRemovesWhatOthersAdded(t *testing.T) {
	e := newEnv(t)
	e.consent(appID, "")
	ctx := context.Background()
	acct, err := e.c.EnsureAccount(ctx, appID, aliceSpec(t), directory.NewPassword())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.AssignRoles(ctx, appID, acct.ObjectID, []string{roleGlobalReader, roleHelpdesk}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.IssueTAP(ctx, appID, acct.ObjectID, time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"phone", "fido2", "microsoftAuthenticator"} {
		if _, err := e.sim.AddAuthMethod(entrasim.ContosoTenant, acct.ObjectID, typ); err != nil {
			t.Fatal(err)
		}
	}
	before := e.user(acct.UPN)
	time.Sleep(5 * time.Millisecond)
	e.sim.ResetStats()
	got, err := e.c.CleanAccount(ctx, appID, acct.ObjectID, []string{roleHelpdesk})
	if err != nil {
		t.Fatal(err)
	}
	if n := e.graphRoundTrips(); n != 2 {
		t.Errorf("CleanAccount: %d round trips, want 2", n)
	}
	var removed []string
	for _, m := range got.RemovedMethods {
		removed = append(removed, m.Type)
	}
	if strings.Join(removed, ",") != "temporaryAccessPass,phone,fido2,microsoftAuthenticator" {
		t.Fatalf("removed methods %v", removed)
	}
	if len(got.RemovedAssignments) != 1 || got.RemovedAssignments[0].RoleID != roleGlobalReader || !got.SessionsRevoked {
		t.Fatalf("cleanup %+v", got)
	}
	after := e.user(acct.UPN)
	if types := methodTypes(after); len(types) != 1 || types[0] != "password" {
		t.Fatalf("left methods %v", types)
	}
	if !sameSet(after.RoleDefinitionIDs, []string{roleHelpdesk}) || !after.SignInSessionsValidFrom.After(before.SignInSessionsValidFrom) {
		t.Fatalf("after cleaning %+v", after)
	}
	methods, err := e.c.AuthMethods(ctx, appID, acct.ObjectID)
	if err != nil || len(methods) != 1 || methods[0].Type != "password" {
		t.Fatalf("AuthMethods = %v, %v", methods, err)
	}
}

// appToken is a client-credentials token for contoso, to act as the customer's own admin.
func (e *env) appToken() string {
	e.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {entrasim.ClientID},
		"client_secret": {entrasim.ClientSecret}, "scope": {"https://graph.microsoft.com/.default"}}
	resp, err := http.PostForm(e.ts.URL+"/"+entrasim.ContosoTenantID+"/oauth2/v2.0/token", form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		e.t.Fatalf("client credentials: %v", err)
	}
	return tok.AccessToken
}

func TestPreCreatedAccountIsNeverAdopted(t *testing.T) {
	e := newEnv(t)
	e.consent(appID, "")
	ctx := context.Background()
	spec := aliceSpec(t)
	// A customer admin pre-creates the predictable name, disabled, with a phone of their own.
	body := `{"accountEnabled":false,"displayName":"trap","mailNickname":"` + spec.MailNickname + `","userPrincipalName":"` + spec.UPN +
		`","passwordProfile":{"password":"Attacker-Passw0rd!"}}`
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/v1.0/users", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.appToken())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("pre-create: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	before := e.user(spec.UPN)

	if err := e.c.CheckAdoption(ctx, appID, spec.UPN, ""); !errors.Is(err, directory.ErrAccountConflict) || !strings.Contains(err.Error(), spec.UPN) {
		t.Fatalf("CheckAdoption without a record: %v", err)
	}
	if err := e.c.CheckAdoption(ctx, appID, spec.UPN, before.ID); !errors.Is(err, directory.ErrAccountConflict) {
		t.Fatalf("CheckAdoption without the marker: %v", err)
	}
	_, err = e.c.EnsureAccount(ctx, appID, spec, directory.NewPassword())
	if !errors.Is(err, directory.ErrAccountConflict) {
		t.Fatalf("EnsureAccount on a pre-created account: %v", err)
	}
	after := e.user(spec.UPN)
	if after.AccountEnabled || !after.PasswordChangedAt.Equal(before.PasswordChangedAt) || after.DisplayName != "trap" {
		t.Fatalf("the pre-created account was touched: %+v", after)
	}
	if _, err := e.sim.AddAuthMethod(entrasim.ContosoTenant, before.ID, "phone"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.CleanAccount(ctx, appID, before.ID, nil); !errors.Is(err, directory.ErrAccountConflict) {
		t.Fatalf("CleanAccount of an account without the marker: %v", err)
	}
	if n := len(e.user(spec.UPN).AuthMethods); n != 2 {
		t.Fatalf("CleanAccount removed methods of an account that is not ours: %d left", n)
	}
	if err := e.c.CheckAdoption(ctx, appID, "nobody@contoso.com", ""); err != nil {
		t.Fatalf("CheckAdoption for a free name: %v", err)
	}

	// Our own account, id on record and marker present, is adoptable.
	bob, _ := directory.NewAccountSpec("bob@msp.example", "Bob", "contoso.com")
	acct, err := e.c.EnsureAccount(ctx, appID, bob, directory.NewPassword())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.c.CheckAdoption(ctx, appID, bob.UPN, acct.ObjectID); err != nil {
		t.Fatalf("CheckAdoption of our account: %v", err)
	}
	// A retried create (no id recorded yet) of our own account still converges.
	again, err := e.c.EnsureAccount(ctx, appID, bob, directory.NewPassword())
	if err != nil || again.ObjectID != acct.ObjectID || again.Created {
		t.Fatalf("retried create: %+v %v", again, err)
	}
}

func TestCallsArePinnedToTheGrantTenant(t *testing.T) {
	e := newEnv(t)
	e.consent(appID, "")
	ctx := context.Background()
	if _, err := e.c.Domains(directory.WithTenant(ctx, entrasim.ContosoTenantID), appID); err != nil {
		t.Fatalf("pinned to the right tenant: %v", err)
	}
	e.sim.ResetStats()
	pinned := directory.WithTenant(ctx, entrasim.NorthwindTenantID)
	err := e.c.DisableAccount(pinned, appID, "00000000-0000-0000-0000-000000000001", nil, directory.NewPassword())
	var tm *directory.TenantMismatchError
	if !errors.As(err, &tm) || tm.Pinned != strings.ToLower(entrasim.NorthwindTenantID) || tm.Got != strings.ToLower(entrasim.ContosoTenantID) {
		t.Fatalf("disable in a re-pointed application: %v", err)
	}
	if errors.Is(err, directory.ErrNotFound) {
		t.Fatal("a tenant mismatch must never look like not found")
	}
	if n := e.graphRoundTrips(); n != 0 {
		t.Fatalf("%d Graph round trips sent to the wrong tenant", n)
	}
}

// Graph round trips of whole lifecycles with a Temporary Access Pass and 3 roles, as the
// activities make them: a first grant (account created) and a second (account cleaned, then
// re-enabled by its recorded id).
func TestLifecycleWithTAPRoundTrips(t *testing.T) {
	e := newEnv(t)
	e.consent(appID, "")
	ctx := directory.WithTenant(context.Background(), entrasim.ContosoTenantID)
	spec := aliceSpec(t)
	if _, err := e.c.Domains(ctx, appID); err != nil { // warm the token cache
		t.Fatal(err)
	}
	for grant, want := range []int64{6, 7} {
		e.sim.ResetStats()
		if spec.ObjectID == "" {
			if err := e.c.CheckAdoption(ctx, appID, spec.UPN, ""); err != nil {
				t.Fatal(err)
			}
		} else if _, err := e.c.CleanAccount(ctx, appID, spec.ObjectID, threeRoles); err != nil {
			t.Fatal(err)
		}
		acct, err := e.c.EnsureAccount(ctx, appID, spec, directory.NewPassword())
		if err != nil {
			t.Fatal(err)
		}
		spec.ObjectID = acct.ObjectID
		tap, err := e.c.IssueTAP(ctx, appID, acct.ObjectID, 4*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := e.c.AssignRoles(ctx, appID, acct.ObjectID, threeRoles)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.c.DeleteTAP(ctx, appID, acct.ObjectID, tap.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.c.DisableAccount(ctx, appID, acct.ObjectID, ids, directory.NewPassword()); err != nil {
			t.Fatal(err)
		}
		st := e.sim.Stats()
		t.Logf("grant %d with TAP: %d Graph round trips %v", grant, st.Total, st.Requests)
		if st.Total > want {
			t.Errorf("grant %d: %d round trips, want at most %d", grant, st.Total, want)
		}
	}
}
