package activities_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/activities/activitiestest"
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
