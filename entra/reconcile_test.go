package entra_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/entra"
	"github.com/jitaccess/jitaccess/internal/entrasim"
)

// AccountStates reads enabled flag and every role assignment of up to ten accounts in one
// round trip; a missing account is Exists false; a UPN names the user too.
func TestAccountStates(t *testing.T) {
	e := newEnv(t)
	e.consent(appID, "")
	ctx := context.Background()
	spec := aliceSpec(t)
	acct, err := e.c.EnsureAccount(ctx, appID, spec, directory.NewPassword())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.AssignRoles(ctx, appID, acct.ObjectID, threeRoles); err != nil {
		t.Fatal(err)
	}
	admin, ok := e.sim.User(entrasim.ContosoTenant, "admin@contoso.onmicrosoft.com")
	if !ok {
		t.Fatal("no contoso admin")
	}
	missing := "00000000-0000-0000-0000-0000000000aa"

	e.sim.ResetStats()
	states, err := e.c.AccountStates(ctx, appID, []string{acct.ObjectID, missing, admin.ID})
	if err != nil {
		t.Fatal(err)
	}
	if n := e.graphRoundTrips(); n != 1 {
		t.Errorf("%d Graph round trips, want one $batch", n)
	}
	if len(states) != 3 {
		t.Fatalf("%d states", len(states))
	}
	a := states[0]
	if !a.Exists || !a.Enabled || !strings.EqualFold(a.UPN, spec.UPN) || a.ObjectID != acct.ObjectID || len(a.Assignments) != 3 {
		t.Errorf("alice: %+v", a)
	}
	var roles []string
	for _, ra := range a.Assignments {
		roles = append(roles, ra.RoleID)
		if ra.ID == "" || ra.DirectoryScopeID != "/" || ra.PrincipalID != acct.ObjectID {
			t.Errorf("assignment %+v", ra)
		}
	}
	if !sameSet(roles, threeRoles) {
		t.Errorf("roles %v, want %v", roles, threeRoles)
	}
	if states[1].Exists || states[1].ObjectID != missing || len(states[1].Assignments) != 0 {
		t.Errorf("missing account: %+v", states[1])
	}
	if !states[2].Exists || len(states[2].Assignments) == 0 {
		t.Errorf("the tenant's admin holds Global Administrator: %+v", states[2])
	}

	// Disabled, and named by UPN: the object id comes back, and the sessions' revoke time.
	revokedAfter := time.Now().Add(-time.Second)
	if err := e.c.DisableAccount(ctx, appID, acct.ObjectID, nil, directory.NewPassword()); err != nil {
		t.Fatal(err)
	}
	states, err = e.c.AccountStates(ctx, appID, []string{spec.UPN})
	if err != nil {
		t.Fatal(err)
	}
	if s := states[0]; !s.Exists || s.Enabled || s.ObjectID != acct.ObjectID {
		t.Errorf("by UPN after disable: %+v", s)
	}
	if s := states[0]; s.SessionsValidFrom.Before(revokedAfter) || s.SessionsValidFrom.After(time.Now()) {
		t.Errorf("signInSessionsValidFromDateTime after the disable's revoke: %s, want since %s", s.SessionsValidFrom, revokedAfter)
	}

	if _, err := e.c.AccountStates(ctx, appID, make([]string, entra.MaxAccountStates+1)); err != nil {
		t.Errorf("empty ids are dropped, not counted: %v", err)
	}
	many := make([]string, entra.MaxAccountStates+1)
	for i := range many {
		many[i] = strings.Repeat("a", i+1)
	}
	if _, err := e.c.AccountStates(ctx, appID, many); err == nil {
		t.Error("more than MaxAccountStates accounts accepted")
	}
}
