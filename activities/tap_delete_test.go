package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/internal/entrasim"
	"github.com/jitaccess/jitaccess/workflows"
)

// DeleteTAP runs beside DisableAccount, so the disable may end first: the pass is still
// deleted by its id (one Graph round trip, no listing of the account's passes), and then
// nothing of the credential is left, in either order.
func TestDeleteTAPBesideTheDisableDeletesThePassByItsID(t *testing.T) {
	e := newProductEnv(t)
	ctx := context.Background()
	for i, disableFirst := range []bool{true, false} {
		tech, g := e.newGrant(t, i+1)
		plan, err := e.acts.BeginGrant(ctx, workflows.BeginInput{GrantID: g.ID, TenantID: e.tenant.ID, ApplicationID: e.app.ID,
			TechnicianID: tech.ID, WorkflowID: g.WorkflowID, RunID: "run-" + g.ID, FirstRunID: "run-" + g.ID})
		require.NoError(t, err)
		require.False(t, plan.Denied || plan.Refused, plan.Reason)
		acct, err := e.acts.EnsureAccount(ctx, workflows.EnsureAccountInput{GrantID: g.ID, ApplicationID: e.app.ID,
			TechnicianEmail: plan.TechnicianEmail, TechnicianDisplayName: plan.TechnicianDisplayName, Domain: plan.Domain})
		require.NoError(t, err)
		issued, err := e.signIn.IssueTAP(ctx, activities.IssueTAPInput{GrantID: g.ID, ApplicationID: e.app.ID, ObjectID: acct.ObjectID,
			ExpiresAt: time.Now().Add(time.Hour)})
		require.NoError(t, err)
		require.True(t, issued.Issued)

		disable := func() {
			_, err := e.acts.DisableAccount(ctx, workflows.DisableAccountInput{GrantID: g.ID, TenantID: e.tenant.ID, ApplicationID: e.app.ID,
				ObjectID: acct.ObjectID, UPN: acct.UPN})
			require.NoError(t, err)
		}
		deleteTAP := func() {
			e.sim.ResetStats()
			require.NoError(t, e.signIn.DeleteTAP(ctx, activities.DeleteTAPInput{GrantID: g.ID, ApplicationID: e.app.ID, ObjectID: acct.ObjectID}))
			calls := e.sim.Stats().Requests
			require.Equal(t, int64(1), calls["DELETE /v1.0/users/{id}/authentication/temporaryAccessPassMethods/{id}"], "deleted by id: %v", calls)
			require.Zero(t, calls["GET /v1.0/users/{id}/authentication/temporaryAccessPassMethods"], "the id was lost: the passes were listed")
		}
		if disableFirst {
			disable()
			deleteTAP()
		} else {
			deleteTAP()
			disable()
		}
		u, ok := e.sim.User(entrasim.ContosoTenant, acct.ObjectID)
		require.True(t, ok)
		require.False(t, u.AccountEnabled)
		for _, m := range u.AuthMethods {
			require.NotContains(t, m.Type, "temporaryAccessPass")
		}
		id, err := e.st.TAPID(ctx, g.ID)
		require.NoError(t, err)
		require.Empty(t, id, "the credential row ends")
		_, _, err = e.st.Credential(ctx, g.ID)
		require.Error(t, err)
	}
}
