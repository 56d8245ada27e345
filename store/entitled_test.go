package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/store"
)

func TestEntitledApplicationsAgreesWithCheck(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		f := setup(t, st)
		list, err := st.EntitledApplications(ctx, f.tech.ID)
		require.NoError(t, err)
		require.Empty(t, list)

		rule, err := st.CreateRule(ctx, store.Rule{TenantID: f.tenant.ID, Name: "all", ConditionType: store.ConditionGroup, GroupID: store.AllAdminsGroupID, ApplicationID: f.app.ID})
		require.NoError(t, err)
		_, err = st.CreateRule(ctx, store.Rule{TenantID: f.tenant.ID, Name: "alice too", ConditionType: store.ConditionTechnician, TechnicianID: f.tech.ID, ApplicationID: f.app.ID})
		require.NoError(t, err)
		list, err = st.EntitledApplications(ctx, f.tech.ID)
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, f.app.ID, list[0].Application.ID)
		require.Equal(t, rule.ID, list[0].RuleID, "the oldest matching rule")
		require.NotNil(t, list[0].Application.Authorization)

		// Not a member of the tenant: nothing, as CheckEntitlement says.
		list, err = st.EntitledApplications(ctx, f.admin.ID)
		require.NoError(t, err)
		require.Empty(t, list)
	})
}
