package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store"
)

func TestMembersAndGroups(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		f := setup(t, st)
		require.NoError(t, st.AddMember(ctx, f.tenant.ID, f.tech.ID), "idempotent")
		require.ErrorIs(t, st.AddMember(ctx, f.tenant.ID, "tec_missing"), store.ErrNotFound)
		require.ErrorIs(t, st.AddMember(ctx, "tnt_missing", f.tech.ID), store.ErrNotFound)

		g, err := st.CreateGroup(ctx, f.tenant.ID, "Tier 2")
		require.NoError(t, err)
		_, err = st.CreateGroup(ctx, f.tenant.ID, "Tier 2")
		require.ErrorIs(t, err, store.ErrConflict)
		_, err = st.CreateGroup(ctx, f.tenant.ID, "all admins")
		require.ErrorIs(t, err, store.ErrConflict)
		require.NoError(t, st.AddGroupMember(ctx, f.tenant.ID, g.ID, f.admin.ID))
		require.ErrorIs(t, st.AddGroupMember(ctx, f.tenant.ID, store.AllAdminsGroupID, f.admin.ID), store.ErrBuiltinGroup)

		groups, err := st.Groups(ctx, f.tenant.ID)
		require.NoError(t, err)
		require.Len(t, groups, 2)
		require.Equal(t, store.AllAdminsGroupID, groups[0].ID)
		require.Equal(t, store.AllAdminsGroupName, groups[0].Name)
		require.True(t, groups[0].Builtin)
		require.Equal(t, []string{f.tech.ID}, groups[0].Members)
		require.Equal(t, []string{f.admin.ID}, groups[1].Members)

		other, err := st.CreateTenant(ctx, "Northwind")
		require.NoError(t, err)
		_, err = st.Group(ctx, other.ID, g.ID)
		require.ErrorIs(t, err, store.ErrNotFound, "groups are per tenant")

		require.NoError(t, st.RemoveMember(ctx, f.tenant.ID, f.tech.ID))
		all, err := st.Group(ctx, f.tenant.ID, store.AllAdminsGroupID)
		require.NoError(t, err)
		require.Empty(t, all.Members)
		require.NoError(t, st.RemoveGroupMember(ctx, f.tenant.ID, g.ID, f.admin.ID))
		require.NoError(t, st.DeleteGroup(ctx, f.tenant.ID, g.ID))
		require.ErrorIs(t, st.DeleteGroup(ctx, f.tenant.ID, g.ID), store.ErrNotFound)
		require.ErrorIs(t, st.DeleteGroup(ctx, f.tenant.ID, store.AllAdminsGroupID), store.ErrBuiltinGroup)
	})
}

func TestApplicationsAndAuthorization(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		tn, err := st.CreateTenant(ctx, "Contoso")
		require.NoError(t, err)
		admin, _, err := st.CreateTechnician(ctx, "admin@msp.example", "Admin", store.RoleAdmin)
		require.NoError(t, err)
		app, err := st.CreateApplication(ctx, tn.ID, store.NewApplication{Name: "Entra", Type: "web", Credentials: "entra_oidc"})
		require.NoError(t, err)
		require.Equal(t, store.AppUnauthorized, app.Status)
		require.Equal(t, 4*time.Hour, app.AccessDuration)
		require.Nil(t, app.Authorization)
		require.Equal(t, []string{}, app.Roles)
		_, err = st.CreateApplication(ctx, tn.ID, store.NewApplication{Name: "Entra", Type: "web", Credentials: "entra_oidc"})
		require.ErrorIs(t, err, store.ErrConflict)

		_, _, err = st.RefreshToken(ctx, app.ID)
		require.ErrorIs(t, err, directory.ErrNotAuthorized)
		require.ErrorIs(t, st.SaveRefreshToken(ctx, app.ID, "x"), directory.ErrNotAuthorized)

		// Domain and roles before authorization keep it unauthorized.
		domain, roles := "contoso.com", []string{"r1", "r2", "r1"}
		app, err = st.UpdateApplication(ctx, tn.ID, app.ID, store.ApplicationPatch{Domain: &domain, Roles: &roles})
		require.NoError(t, err)
		require.Equal(t, store.AppUnauthorized, app.Status)
		require.Equal(t, []string{"r1", "r2"}, app.Roles)

		app, err = st.SaveAuthorization(ctx, app.ID, directory.Consent{RefreshToken: "rt-1", Account: "admin@contoso.onmicrosoft.com", EntraTenantID: "tid-1"}, admin.ID)
		require.NoError(t, err)
		require.Equal(t, store.AppReady, app.Status)
		read, err := st.Application(ctx, tn.ID, app.ID)
		require.NoError(t, err)
		require.Equal(t, "admin@contoso.onmicrosoft.com", read.Authorization.Account)
		require.Equal(t, "tid-1", read.Authorization.EntraTenantID)
		require.Equal(t, admin.ID, read.Authorization.AuthorizedBy)
		require.False(t, read.Authorization.AuthorizedAt.IsZero())

		tid, rt, err := st.RefreshToken(ctx, app.ID)
		require.NoError(t, err)
		require.Equal(t, "tid-1", tid)
		require.Equal(t, "rt-1", rt)
		require.NoError(t, st.SaveRefreshToken(ctx, app.ID, "rt-2"))
		_, rt, err = st.RefreshToken(ctx, app.ID)
		require.NoError(t, err)
		require.Equal(t, "rt-2", rt)

		// Re-authorizing the same tenant keeps the configuration; another tenant is refused
		// (the application is pinned to its first tenant) and changes nothing.
		app, err = st.SaveAuthorization(ctx, app.ID, directory.Consent{RefreshToken: "rt-3", Account: "other@contoso.onmicrosoft.com", EntraTenantID: "tid-1"}, admin.ID)
		require.NoError(t, err)
		require.Equal(t, store.AppReady, app.Status)
		_, err = st.SaveAuthorization(ctx, app.ID, directory.Consent{RefreshToken: "rt-4", Account: "admin@northwind.onmicrosoft.com", EntraTenantID: "tid-2"}, admin.ID)
		var tm *directory.TenantMismatchError
		require.ErrorAs(t, err, &tm)
		require.Equal(t, "tid-1", tm.Pinned)
		require.Equal(t, "tid-2", tm.Got)
		app, err = st.Application(ctx, tn.ID, app.ID)
		require.NoError(t, err)
		require.Equal(t, store.AppReady, app.Status)
		require.Equal(t, "tid-1", app.Authorization.EntraTenantID)
		require.Equal(t, "other@contoso.onmicrosoft.com", app.Authorization.Account)
		tid, rt, err = st.RefreshToken(ctx, app.ID)
		require.NoError(t, err)
		require.Equal(t, "tid-1", tid)
		require.Equal(t, "rt-3", rt)

		other, err := st.CreateTenant(ctx, "Northwind")
		require.NoError(t, err)
		_, err = st.Application(ctx, other.ID, app.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = st.UpdateApplication(ctx, other.ID, app.ID, store.ApplicationPatch{})
		require.ErrorIs(t, err, store.ErrNotFound)

		list, next, err := st.Applications(ctx, tn.ID, store.Page{})
		require.NoError(t, err)
		require.Empty(t, next)
		require.Len(t, list, 1)
		require.NotNil(t, list[0].Authorization)

		require.NoError(t, st.DeleteApplication(ctx, tn.ID, app.ID))
		_, err = st.ApplicationByID(ctx, app.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

func TestCheckEntitlement(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		f := setup(t, st)

		e, err := st.CheckEntitlement(ctx, f.tenant.ID, f.app.ID, f.tech.ID)
		require.NoError(t, err)
		require.False(t, e.Allowed)
		require.Contains(t, e.Reason, "No entitlement rule")

		rule, err := st.CreateRule(ctx, store.Rule{TenantID: f.tenant.ID, Name: "Entra ID access for all admins", ConditionType: store.ConditionGroup,
			GroupID: store.AllAdminsGroupID, ApplicationID: f.app.ID})
		require.NoError(t, err)
		require.Equal(t, store.AllAdminsGroupID, rule.GroupID)
		_, err = st.CreateRule(ctx, store.Rule{TenantID: f.tenant.ID, Name: "Entra ID access for all admins", ConditionType: store.ConditionGroup,
			GroupID: store.AllAdminsGroupID, ApplicationID: f.app.ID})
		require.ErrorIs(t, err, store.ErrConflict)

		e, err = st.CheckEntitlement(ctx, f.tenant.ID, f.app.ID, f.tech.ID)
		require.NoError(t, err)
		require.True(t, e.Allowed, e.Reason)
		require.Equal(t, rule.ID, e.RuleID)
		require.Equal(t, rule.Name, e.RuleName)
		require.Equal(t, f.app.ID, e.Application.ID)
		require.Equal(t, "contoso.com", e.Application.Domain)
		require.Equal(t, []string{"role-1"}, e.Application.Roles)
		require.Equal(t, 4*time.Hour, e.Application.AccessDuration)
		require.Equal(t, "alice@msp.example", e.Technician.Email)

		// The admin is not a member: all-admins does not cover them.
		e, err = st.CheckEntitlement(ctx, f.tenant.ID, f.app.ID, f.admin.ID)
		require.NoError(t, err)
		require.False(t, e.Allowed)
		require.Contains(t, e.Reason, "no access to this customer tenant")

		// Wrong tenant, unknown technician, unknown app: refusals, not errors.
		other, err := st.CreateTenant(ctx, "Northwind")
		require.NoError(t, err)
		e, err = st.CheckEntitlement(ctx, other.ID, f.app.ID, f.tech.ID)
		require.NoError(t, err)
		require.False(t, e.Allowed)
		e, err = st.CheckEntitlement(ctx, f.tenant.ID, f.app.ID, "tec_missing")
		require.NoError(t, err)
		require.False(t, e.Allowed)

		// Replace the all-admins rule by a custom group rule, then by a technician rule.
		require.NoError(t, st.DeleteRule(ctx, f.tenant.ID, rule.ID))
		g, err := st.CreateGroup(ctx, f.tenant.ID, "Tier 2")
		require.NoError(t, err)
		grule, err := st.CreateRule(ctx, store.Rule{TenantID: f.tenant.ID, Name: "tier2", ConditionType: store.ConditionGroup, GroupID: g.ID, ApplicationID: f.app.ID})
		require.NoError(t, err)
		e, err = st.CheckEntitlement(ctx, f.tenant.ID, f.app.ID, f.tech.ID)
		require.NoError(t, err)
		require.False(t, e.Allowed, "not in the group yet")
		require.NoError(t, st.AddGroupMember(ctx, f.tenant.ID, g.ID, f.tech.ID))
		e, err = st.CheckEntitlement(ctx, f.tenant.ID, f.app.ID, f.tech.ID)
		require.NoError(t, err)
		require.True(t, e.Allowed)
		require.Equal(t, grule.ID, e.RuleID)

		// Group membership without tenant membership is not enough.
		require.NoError(t, st.RemoveMember(ctx, f.tenant.ID, f.tech.ID))
		e, err = st.CheckEntitlement(ctx, f.tenant.ID, f.app.ID, f.tech.ID)
		require.NoError(t, err)
		require.False(t, e.Allowed)
		require.NoError(t, st.AddMember(ctx, f.tenant.ID, f.tech.ID))

		require.NoError(t, st.DeleteRule(ctx, f.tenant.ID, grule.ID))
		trule, err := st.CreateRule(ctx, store.Rule{TenantID: f.tenant.ID, Name: "alice", ConditionType: store.ConditionTechnician, TechnicianID: f.tech.ID, ApplicationID: f.app.ID})
		require.NoError(t, err)
		e, err = st.CheckEntitlement(ctx, f.tenant.ID, f.app.ID, f.tech.ID)
		require.NoError(t, err)
		require.True(t, e.Allowed)
		require.Equal(t, trule.ID, e.RuleID)

		// Entitled but not ready.
		empty := []string{}
		_, err = st.UpdateApplication(ctx, f.tenant.ID, f.app.ID, store.ApplicationPatch{Roles: &empty})
		require.NoError(t, err)
		e, err = st.CheckEntitlement(ctx, f.tenant.ID, f.app.ID, f.tech.ID)
		require.NoError(t, err)
		require.False(t, e.Allowed)
		require.Equal(t, trule.ID, e.RuleID)
		require.Equal(t, store.AppAuthorized, e.Application.Status)
		require.Contains(t, e.Reason, "not ready")

		// References must be in the tenant.
		var ref *store.ErrInvalidReference
		_, err = st.CreateRule(ctx, store.Rule{TenantID: other.ID, Name: "x", ConditionType: store.ConditionGroup, GroupID: store.AllAdminsGroupID, ApplicationID: f.app.ID})
		require.True(t, errors.As(err, &ref))
		require.Equal(t, "application_id", ref.Field)
		_, err = st.CreateRule(ctx, store.Rule{TenantID: f.tenant.ID, Name: "x", ConditionType: store.ConditionGroup, GroupID: "grp_missing", ApplicationID: f.app.ID})
		require.True(t, errors.As(err, &ref))
		require.Equal(t, "condition.group_id", ref.Field)

		rules, _, err := st.Rules(ctx, f.tenant.ID, store.Page{})
		require.NoError(t, err)
		require.Len(t, rules, 1)
	})
}
