package activities_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/activities/activitiestest"
	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/entra"
	"github.com/jitaccess/jitaccess/internal/entrasim"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

var (
	_ activities.RestrictedUnitStore     = (*store.Store)(nil)
	_ activities.RestrictedUnitDirectory = (*entra.Client)(nil)
)

// unitStore adds the restricted_admin_unit setting to the activities' test store.
type unitStore struct {
	*activitiestest.Store
	mu   sync.Mutex
	on   bool
	unit string
}

func (s *unitStore) RestrictedAdminUnit(context.Context, string) (bool, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.on, s.unit, nil
}

func (s *unitStore) SaveAdminUnitID(_ context.Context, _ string, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unit = id
	return nil
}

// The issue #16 scenario against the emulator: with restricted_admin_unit on, a new JIT account
// goes into the RMAU; the customer's tenant admin can no longer add a method to the dormant
// account; the grant lifecycle (enable, roles, TAP, disable, clean, re-enable) still works
// through the connector's AU-scoped roles. With the setting off nothing changes.
func TestRestrictedUnitGrantLifecycleAgainstEmulator(t *testing.T) {
	e := newSignInEnv(t, "contoso.onmicrosoft.com", entrasim.ContosoAdminUPN)
	st := &unitStore{Store: &activitiestest.Store{}}
	acts := &activities.Activities{Store: st, Directory: e.dir}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	ensure := func(grant, email string) workflows.AccountResult {
		t.Helper()
		v, err := env.ExecuteActivity(acts.EnsureAccount, workflows.EnsureAccountInput{GrantID: grant, ApplicationID: signInApp,
			TechnicianEmail: email, TechnicianDisplayName: "Tech", Domain: "contoso.com"})
		require.NoError(t, err)
		var r workflows.AccountResult
		require.NoError(t, v.Get(&r))
		return r
	}

	// Off (the default): an account is created outside any unit.
	plain := ensure("g0", "bob@msp.example")
	u, _ := e.sim.User(entrasim.ContosoTenant, plain.ObjectID)
	require.Empty(t, u.AdministrativeUnits)
	require.Empty(t, st.unit)

	// On: the unit is created, recorded, and the new account is its member.
	st.on = true
	acct := ensure("g1", "alice@msp.example")
	require.True(t, acct.Created)
	require.NotEmpty(t, st.unit)
	u, _ = e.sim.User(entrasim.ContosoTenant, acct.ObjectID)
	require.Equal(t, []string{st.unit}, u.AdministrativeUnits)
	restricted, err := e.dir.ManagementRestricted(context.Background(), signInApp, acct.ObjectID)
	require.NoError(t, err)
	require.True(t, restricted)

	// Grant: roles, TAP; then disable while the roles are still held.
	v, err := env.ExecuteActivity(acts.AssignRoles, workflows.AssignRolesInput{GrantID: "g1", ApplicationID: signInApp,
		ObjectID: acct.ObjectID, RoleIDs: []string{"62e90394-69f5-4237-9190-012177145e10"}})
	require.NoError(t, err)
	var assigned workflows.AssignRolesResult
	require.NoError(t, v.Get(&assigned))
	_, err = e.env.ExecuteActivity(e.a.IssueTAP, activities.IssueTAPInput{GrantID: "g1", ApplicationID: signInApp,
		ObjectID: acct.ObjectID, ExpiresAt: time.Now().Add(2 * time.Hour)})
	require.NoError(t, err)
	_, err = e.env.ExecuteActivity(e.a.DeleteTAP, activities.DeleteTAPInput{GrantID: "g1", ApplicationID: signInApp, ObjectID: acct.ObjectID})
	require.NoError(t, err)
	_, err = env.ExecuteActivity(acts.DisableAccount, workflows.DisableAccountInput{GrantID: "g1", ApplicationID: signInApp,
		ObjectID: acct.ObjectID, UPN: acct.UPN, AssignmentIDs: assigned.AssignmentIDs})
	require.NoError(t, err)
	u, _ = e.sim.User(entrasim.ContosoTenant, acct.ObjectID)
	require.False(t, u.AccountEnabled)
	require.Empty(t, u.RoleDefinitionIDs)

	// Dormant: the tenant's own admin tries to plant a method; the directory refuses.
	_, err = e.sim.AddAuthMethod(entrasim.ContosoTenant, acct.ObjectID, "fido2")
	require.ErrorIs(t, err, entrasim.ErrManagementRestricted)
	// ...whereas the account outside the unit still takes one (what the setting protects against).
	_, err = e.sim.AddAuthMethod(entrasim.ContosoTenant, plain.ObjectID, "fido2")
	require.NoError(t, err)

	// Next grant: prepare (clean) and re-enable through the AU-scoped roles; same unit.
	e.st.known = acct.ObjectID
	_, err = e.env.ExecuteActivity(e.a.PrepareAccount, activities.PrepareAccountInput{GrantID: "g2", ApplicationID: signInApp, UPN: acct.UPN})
	require.NoError(t, err)
	unit := st.unit
	again := ensure("g2", "alice@msp.example")
	require.Equal(t, acct.ObjectID, again.ObjectID)
	require.Equal(t, unit, st.unit)
	u, _ = e.sim.User(entrasim.ContosoTenant, acct.ObjectID)
	require.True(t, u.AccountEnabled)
	require.Equal(t, []string{unit}, u.AdministrativeUnits)
}

// signInUnitStore is the sign-in store with the restricted_admin_unit setting of st.
type signInUnitStore struct {
	*signInStore
	units *unitStore
}

func (s signInUnitStore) RestrictedAdminUnit(ctx context.Context, app string) (bool, string, error) {
	return s.units.RestrictedAdminUnit(ctx, app)
}
func (s signInUnitStore) SaveAdminUnitID(ctx context.Context, app, id string) error {
	return s.units.SaveAdminUnitID(ctx, app, id)
}

// Authorized again by another Global Administrator: that admin holds no role at the unit's
// scope, so cleaning the account is refused until PrepareAccount ensures the scoped roles.
func TestRestrictedUnitAfterReauthorization(t *testing.T) {
	e := newSignInEnv(t, "contoso.onmicrosoft.com", entrasim.ContosoAdminUPN)
	ctx := context.Background()
	st := &unitStore{Store: &activitiestest.Store{}, on: true}
	acts := &activities.Activities{Store: st, Directory: e.dir}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	v, err := env.ExecuteActivity(acts.EnsureAccount, workflows.EnsureAccountInput{GrantID: "g1", ApplicationID: signInApp,
		TechnicianEmail: "alice@msp.example", TechnicianDisplayName: "Alice", Domain: "contoso.com"})
	require.NoError(t, err)
	var acct workflows.AccountResult
	require.NoError(t, v.Get(&acct))

	// A second Global Administrator of the tenant authorizes the application again.
	spec, err := directory.NewAccountSpec("admin2@msp.example", "Second admin", "contoso.com")
	require.NoError(t, err)
	admin2, err := e.dir.EnsureAccount(ctx, signInApp, spec, directory.NewPassword())
	require.NoError(t, err)
	_, err = e.dir.AssignRoles(ctx, signInApp, admin2.ObjectID, []string{"62e90394-69f5-4237-9190-012177145e10"})
	require.NoError(t, err)
	dir2 := reauthorize(t, e, admin2.UPN)

	_, err = dir2.CleanAccount(ctx, signInApp, acct.ObjectID, nil)
	require.Error(t, err, "a tenant-scoped Global Administrator cannot modify an RMAU member")

	a2 := &activities.SignIn{Store: signInUnitStore{signInStore: e.st, units: st}, Directory: dir2}
	env2 := suite.NewTestActivityEnvironment()
	env2.RegisterActivity(a2)
	e.st.known = acct.ObjectID
	_, err = e.sim.AddAuthMethod(entrasim.ContosoTenant, acct.ObjectID, "phone")
	require.ErrorIs(t, err, entrasim.ErrManagementRestricted)
	v, err = env2.ExecuteActivity(a2.PrepareAccount, activities.PrepareAccountInput{GrantID: "g2", ApplicationID: signInApp, UPN: acct.UPN})
	require.NoError(t, err)
	var prep activities.PrepareAccountResult
	require.NoError(t, v.Get(&prep))
	require.Equal(t, acct.ObjectID, prep.ObjectID)
	require.True(t, prep.SessionsRevoked)
}

// reauthorize consents as upn and returns a fresh connector over the same store.
func reauthorize(t *testing.T, e *signInEnv, upn string) *entra.Client {
	t.Helper()
	redirect := "http://127.0.0.1:9999/oauth/callback"
	dir := entra.New(entra.Config{Authority: e.base, GraphURL: e.base + "/v1.0", ClientID: entrasim.ClientID,
		ClientSecret: entrasim.ClientSecret, RedirectURL: redirect}, e.st)
	verifier := "verifier-" + strings.Repeat("w", 43)
	stop := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := stop.Get(dir.AuthCodeURL("s2", verifier, upn))
	require.NoError(t, err)
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	consent, err := dir.Redeem(context.Background(), loc.Query().Get("code"), verifier)
	require.NoError(t, err)
	e.st.mu.Lock()
	e.st.rt = consent.RefreshToken
	e.st.mu.Unlock()
	return dir
}
