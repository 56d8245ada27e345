package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store"
)

func newSealer(t *testing.T) *seal.Sealer {
	t.Helper()
	s, err := seal.New([]byte(strings.Repeat("k", seal.KeySize)))
	require.NoError(t, err)
	return s
}

// eachStore runs fn against a fresh store on PostgreSQL and on SQLite.
func eachStore(t *testing.T, fn func(t *testing.T, st *store.Store, db *bun.DB)) {
	testenv.EachDatabase(t, func(t *testing.T, db *bun.DB) {
		fn(t, store.New(db, newSealer(t)), db)
	})
}

// fixture is a tenant with a ready application, an admin and a member technician.
type fixture struct {
	tenant store.Tenant
	app    store.Application
	admin  store.Technician
	tech   store.Technician
}

func setup(t *testing.T, st *store.Store) fixture {
	t.Helper()
	ctx := context.Background()
	var f fixture
	var err error
	f.tenant, err = st.CreateTenant(ctx, "Contoso")
	require.NoError(t, err)
	f.admin, _, err = st.CreateTechnician(ctx, "admin@msp.example", "Admin", store.RoleAdmin)
	require.NoError(t, err)
	f.tech, _, err = st.CreateTechnician(ctx, "Alice@MSP.example", "Alice", "")
	require.NoError(t, err)
	require.NoError(t, st.AddMember(ctx, f.tenant.ID, f.tech.ID))
	f.app, err = st.CreateApplication(ctx, f.tenant.ID, store.NewApplication{Name: "Entra ID - Contoso", Type: "web", Credentials: "entra_oidc"})
	require.NoError(t, err)
	_, err = st.SaveAuthorization(ctx, f.app.ID, directory.Consent{RefreshToken: "rt-1", Account: "admin@contoso.onmicrosoft.com", EntraTenantID: "tid-contoso"}, f.admin.ID)
	require.NoError(t, err)
	domain, roles := "contoso.com", []string{"role-1"}
	f.app, err = st.UpdateApplication(ctx, f.tenant.ID, f.app.ID, store.ApplicationPatch{Domain: &domain, Roles: &roles})
	require.NoError(t, err)
	require.Equal(t, store.AppReady, f.app.Status)
	return f
}

func TestNewID(t *testing.T) {
	id := store.NewID("tnt")
	require.Regexp(t, `^tnt_[a-z2-7]{16}$`, id)
	require.NotEqual(t, id, store.NewID("tnt"))
}

func TestTenantsTechniciansTokens(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		tn, err := st.CreateTenant(ctx, " Contoso ")
		require.NoError(t, err)
		require.Equal(t, "Contoso", tn.Name)
		_, err = st.CreateTenant(ctx, "Contoso")
		require.ErrorIs(t, err, store.ErrConflict)
		got, err := st.Tenant(ctx, tn.ID)
		require.NoError(t, err)
		require.Equal(t, tn, got)
		_, err = st.Tenant(ctx, "tnt_missing")
		require.ErrorIs(t, err, store.ErrNotFound)

		tech, token, err := st.CreateTechnician(ctx, "Bob@MSP.example", "Bob", "")
		require.NoError(t, err)
		require.Equal(t, "bob@msp.example", tech.Email)
		require.Equal(t, store.RoleTechnician, tech.Role)
		require.True(t, strings.HasPrefix(token, "jit_"))
		_, _, err = st.CreateTechnician(ctx, "bob@msp.example", "Bob again", "")
		require.ErrorIs(t, err, store.ErrConflict)

		who, err := st.Authenticate(ctx, token)
		require.NoError(t, err)
		require.Equal(t, tech.ID, who.ID)
		_, err = st.Authenticate(ctx, token+"x")
		require.ErrorIs(t, err, store.ErrUnauthenticated)
		_, err = st.Authenticate(ctx, "")
		require.ErrorIs(t, err, store.ErrUnauthenticated)

		_, second, err := st.CreateToken(ctx, store.NewToken{TechnicianID: tech.ID, Name: "laptop"})
		require.NoError(t, err)
		who, err = st.Authenticate(ctx, second)
		require.NoError(t, err)
		require.Equal(t, tech.ID, who.ID)

		// Bootstrap: a fixed token for an ensured admin, idempotent.
		admin, err := st.EnsureAdmin(ctx, "root@msp.example", "Root")
		require.NoError(t, err)
		require.Equal(t, store.RoleAdmin, admin.Role)
		require.NoError(t, st.AddToken(ctx, admin.ID, "jit_bootstrap"))
		require.NoError(t, st.AddToken(ctx, admin.ID, "jit_bootstrap"))
		require.ErrorIs(t, st.AddToken(ctx, tech.ID, "jit_bootstrap"), store.ErrConflict)
		again, err := st.EnsureAdmin(ctx, "ROOT@msp.example", "Root")
		require.NoError(t, err)
		require.Equal(t, admin.ID, again.ID)
		promoted, err := st.EnsureAdmin(ctx, "bob@msp.example", "Bob")
		require.NoError(t, err)
		require.Equal(t, tech.ID, promoted.ID)
		require.Equal(t, store.RoleAdmin, promoted.Role)
	})
}

func TestPaginationNewestFirst(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		base := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
		var created []string
		for i := range 7 {
			// Two tenants share each instant, so the id breaks ties.
			at := base.Add(time.Duration(i/2) * time.Second)
			tn, err := st.WithClock(func() time.Time { return at }).CreateTenant(ctx, fmt.Sprintf("T%d", i))
			require.NoError(t, err)
			created = append(created, tn.ID)
		}
		var seen []string
		cursor := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 10)
			items, next, err := st.Tenants(ctx, store.Page{Limit: 3, Cursor: cursor})
			require.NoError(t, err)
			require.LessOrEqual(t, len(items), 3)
			for _, it := range items {
				seen = append(seen, it.ID)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		require.Len(t, seen, 7)
		require.ElementsMatch(t, created, seen)
		for i := 1; i < len(seen); i++ {
			a, _ := st.Tenant(ctx, seen[i-1])
			b, _ := st.Tenant(ctx, seen[i])
			require.False(t, a.CreatedAt.Before(b.CreatedAt), "newest first")
		}
		_, _, err := st.Tenants(ctx, store.Page{Cursor: "garbage"})
		require.ErrorIs(t, err, store.ErrBadCursor)
	})
}

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

func TestOAuthStatesAreSingleUseAndExpire(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		f := setup(t, st)
		state, err := st.CreateOAuthState(ctx, f.app.ID, f.admin.ID, "verifier-123", 10*time.Minute)
		require.NoError(t, err)
		got, err := st.ConsumeOAuthState(ctx, state)
		require.NoError(t, err)
		require.Equal(t, store.OAuthState{ApplicationID: f.app.ID, AdminID: f.admin.ID, CodeVerifier: "verifier-123"}, got)
		_, err = st.ConsumeOAuthState(ctx, state)
		require.ErrorIs(t, err, store.ErrStateUsed)
		require.ErrorIs(t, err, store.ErrInvalidState)

		_, err = st.ConsumeOAuthState(ctx, "forged")
		require.ErrorIs(t, err, store.ErrStateUnknown)
		_, err = st.ConsumeOAuthState(ctx, "")
		require.ErrorIs(t, err, store.ErrStateUnknown)

		old, err := st.CreateOAuthState(ctx, f.app.ID, f.admin.ID, "v", time.Minute)
		require.NoError(t, err)
		later := st.WithClock(func() time.Time { return time.Now().Add(2 * time.Minute) })
		_, err = later.ConsumeOAuthState(ctx, old)
		require.ErrorIs(t, err, store.ErrStateExpired)

		// Concurrent callbacks with one state: exactly one wins.
		race, err := st.CreateOAuthState(ctx, f.app.ID, f.admin.ID, "v", time.Minute)
		require.NoError(t, err)
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := st.ConsumeOAuthState(ctx, race); err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		require.Equal(t, 1, wins)
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

// pendingGrant creates the API's row of a grant of f.tech for f.app.
func pendingGrant(t *testing.T, st *store.Store, f fixture, d time.Duration) store.Grant {
	t.Helper()
	g, err := st.CreatePendingGrant(context.Background(), store.PendingGrant{WorkflowID: "access/" + f.tenant.ID + "/" + f.app.ID + "/" + f.tech.ID,
		TenantID: f.tenant.ID, ApplicationID: f.app.ID, TechnicianID: f.tech.ID, Justification: "ticket 42", Duration: d})
	require.NoError(t, err)
	return g
}

func claimOf(g store.Grant, firstRun string) store.Claim {
	return store.Claim{GrantID: g.ID, TenantID: g.TenantID, ApplicationID: g.ApplicationID, TechnicianID: g.TechnicianID,
		WorkflowID: g.WorkflowID, RunID: firstRun, FirstRunID: firstRun}
}

func TestGrantsProjection(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		f := setup(t, st)
		g := pendingGrant(t, st, f, 90*time.Minute)
		require.Equal(t, "pending", g.Status)
		require.Empty(t, g.RunID)
		require.NoError(t, st.AttachRun(ctx, g.ID, "run-1"))
		got, err := st.Grant(ctx, g.ID)
		require.NoError(t, err)
		require.Equal(t, "run-1", got.RunID)
		require.Equal(t, 90*time.Minute, got.RequestedDuration)
		// A sub-second request is kept as one second, never as 0 ("the application's duration").
		short, err := st.Grant(ctx, pendingGrant(t, st, fixture{tenant: f.tenant, app: f.app, tech: f.admin}, 200*time.Millisecond).ID)
		require.NoError(t, err)
		require.Equal(t, time.Second, short.RequestedDuration)
		byRun, err := st.GrantOfRun(ctx, g.WorkflowID, "run-1")
		require.NoError(t, err)
		require.Equal(t, g.ID, byRun.ID)

		// The workflow writes its transitions; zero fields leave columns alone.
		now := time.Now().UTC()
		require.NoError(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: g.ID, Status: "provisioning"}))
		require.NoError(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: g.ID, Status: "active", ActivatedAt: now,
			ExpiresAt: now.Add(time.Hour), AccountUPN: "alice@contoso.com", AccountID: "oid-1", Roles: []string{"role-1"}}))
		require.NoError(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: g.ID, Status: "active"}), "repeatable")
		got, err = st.Grant(ctx, g.ID)
		require.NoError(t, err)
		require.Equal(t, "active", got.Status)
		require.Equal(t, "ticket 42", got.Justification)
		require.Equal(t, "alice@contoso.com", got.AccountUPN)
		require.Equal(t, []string{"role-1"}, got.Roles)
		require.WithinDuration(t, now.Add(time.Hour), got.ExpiresAt, time.Millisecond)

		live, err := st.LiveGrant(ctx, f.tenant.ID, f.app.ID, f.tech.ID)
		require.NoError(t, err)
		require.Equal(t, g.ID, live.ID)

		require.NoError(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: g.ID, Status: "revoked", EndedAt: now, RevokedBy: f.admin.ID}))
		// Terminal statuses are final.
		require.NoError(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: g.ID, Status: "active"}))
		require.NoError(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: g.ID, Status: "expired"}))
		got, err = st.Grant(ctx, g.ID)
		require.NoError(t, err)
		require.Equal(t, "revoked", got.Status)
		require.Equal(t, f.admin.ID, got.RevokedBy)
		_, err = st.LiveGrant(ctx, f.tenant.ID, f.app.ID, f.tech.ID)
		require.ErrorIs(t, err, store.ErrNotFound)

		require.Error(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: g.ID, Status: "bogus"}))
		require.ErrorIs(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: "grt_missing", Status: "active"}), store.ErrNotFound,
			"the workflow never creates a row")
		// SPEC §10 statuses are accepted by the schema.
		for _, status := range []string{"pending_approval", "expired_unapproved", "terminated"} {
			g := pendingGrant(t, st, f, time.Hour)
			require.NoError(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: g.ID, Status: status}), status)
		}

		g2 := pendingGrant(t, st, f, time.Hour)
		list, next, err := st.Grants(ctx, store.GrantFilter{TechnicianID: f.tech.ID}, store.Page{Limit: 1})
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, g2.ID, list[0].ID, "newest first")
		require.NotEmpty(t, next)
		list, _, err = st.Grants(ctx, store.GrantFilter{Status: "revoked"}, store.Page{})
		require.NoError(t, err)
		require.Len(t, list, 1)
		list, _, err = st.Grants(ctx, store.GrantFilter{TenantID: "tnt_other"}, store.Page{})
		require.NoError(t, err)
		require.Empty(t, list)

		// A live grant blocks deleting its application.
		require.NoError(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: g2.ID, Status: "active"}))
		require.ErrorIs(t, st.DeleteApplication(ctx, f.tenant.ID, f.app.ID), store.ErrInUse)

		// The account an earlier grant of the same technician and application made.
		id, err := st.KnownAccountID(ctx, g2.ID, "alice@contoso.com")
		require.NoError(t, err)
		require.Equal(t, "oid-1", id)
		id, err = st.KnownAccountID(ctx, g2.ID, "someone-else@contoso.com")
		require.NoError(t, err)
		require.Empty(t, id)
		id, err = st.KnownAccountID(ctx, g.ID, "alice@contoso.com")
		require.NoError(t, err)
		require.Equal(t, "oid-1", id, "a grant's own account counts: a Reset replays its steps")

		// A pending row no run took is discarded; a claimed one is kept.
		g3 := pendingGrant(t, st, f, time.Hour)
		require.NoError(t, st.DiscardPendingGrant(ctx, g3.ID))
		_, err = st.Grant(ctx, g3.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		g4 := pendingGrant(t, st, f, time.Hour)
		_, err = st.ClaimGrant(ctx, claimOf(g4, "run-4"))
		require.NoError(t, err)
		require.NoError(t, st.DiscardPendingGrant(ctx, g4.ID))
		_, err = st.Grant(ctx, g4.ID)
		require.NoError(t, err)
	})
}

// Credentials are handed out only while the grant is truly active: status active and
// now before expires_at, in the query itself.
func TestCredentialsOnlyWhileTrulyActive(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		f := setup(t, st)
		now := time.Now().UTC()
		tests := []struct {
			name    string
			status  string
			expires time.Time
			ok      bool
		}{
			{"active, before expiry", "active", now.Add(time.Hour), true},
			{"active, past expires_at (disable blocked)", "active", now.Add(-time.Second), false},
			{"revoking", "revoking", now.Add(time.Hour), false},
			{"provisioning", "provisioning", time.Time{}, false},
		}
		for _, tc := range tests {
			g := pendingGrant(t, st, f, time.Hour)
			require.NoError(t, st.SaveCredential(ctx, g.ID, "alice@contoso.com", "Pw-1!aaaaaaaaaaaa"))
			require.NoError(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: g.ID, Status: tc.status, ExpiresAt: tc.expires}))
			_, pw, err := st.Credential(ctx, g.ID)
			if tc.ok {
				require.NoError(t, err, tc.name)
				require.Equal(t, "Pw-1!aaaaaaaaaaaa", pw)
			} else {
				require.ErrorIs(t, err, store.ErrNotFound, tc.name)
			}
			require.NoError(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: g.ID, Status: "expired"}))
		}
	})
}

func TestCredentials(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		f := setup(t, st)
		g := pendingGrant(t, st, f, time.Hour)
		require.NoError(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: g.ID, Status: "active", ExpiresAt: time.Now().Add(time.Hour)}))
		_, _, err := st.Credential(ctx, g.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NoError(t, st.SaveCredential(ctx, g.ID, "alice@contoso.com", "Pw-1!aaaaaaaaaaaa"))
		require.NoError(t, st.SaveCredential(ctx, g.ID, "alice@contoso.com", "Pw-2!bbbbbbbbbbbb"))
		upn, pw, err := st.Credential(ctx, g.ID)
		require.NoError(t, err)
		require.Equal(t, "alice@contoso.com", upn)
		require.Equal(t, "Pw-2!bbbbbbbbbbbb", pw)
		require.NoError(t, st.DeleteCredential(ctx, g.ID))
		require.NoError(t, st.DeleteCredential(ctx, g.ID))
		_, _, err = st.Credential(ctx, g.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, st.SaveCredential(ctx, "grt_missing", "u", "p"), store.ErrNotFound)
	})
}

func TestAuditEvents(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		for i := range 5 {
			tenant := "tnt_a"
			if i%2 == 1 {
				tenant = "tnt_b"
			}
			require.NoError(t, st.RecordAudit(ctx, store.AuditEvent{CreatedAt: base.Add(time.Duration(i) * time.Minute), TenantID: tenant,
				ActorID: "tec_x", ActorKind: store.ActorAdmin, Action: "tenant.created", Target: fmt.Sprint(i), Details: map[string]any{"n": i}}))
		}
		require.NoError(t, st.RecordAudit(ctx, store.AuditEvent{Action: "system.started", CreatedAt: base.Add(-time.Hour)}))

		all, next, err := st.AuditEvents(ctx, store.AuditFilter{}, store.Page{})
		require.NoError(t, err)
		require.Empty(t, next)
		require.Len(t, all, 6)
		require.Equal(t, "4", all[0].Target)
		require.Equal(t, store.ActorSystem, all[5].ActorKind)
		require.EqualValues(t, 4, all[0].Details["n"])

		a, _, err := st.AuditEvents(ctx, store.AuditFilter{TenantID: "tnt_a"}, store.Page{})
		require.NoError(t, err)
		require.Len(t, a, 3)
		since, _, err := st.AuditEvents(ctx, store.AuditFilter{Since: base.Add(2 * time.Minute)}, store.Page{})
		require.NoError(t, err)
		require.Len(t, since, 3)
		page1, next, err := st.AuditEvents(ctx, store.AuditFilter{}, store.Page{Limit: 4})
		require.NoError(t, err)
		require.Len(t, page1, 4)
		page2, next2, err := st.AuditEvents(ctx, store.AuditFilter{}, store.Page{Limit: 4, Cursor: next})
		require.NoError(t, err)
		require.Len(t, page2, 2)
		require.Empty(t, next2)
	})
}

// A grant row is run by the run chain that claimed it first; anything else is refused.
func TestClaimGrant(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		f := setup(t, st)
		g := pendingGrant(t, st, f, time.Hour)
		claimed, err := st.ClaimGrant(ctx, claimOf(g, "run-1"))
		require.NoError(t, err)
		require.Equal(t, "run-1", claimed.FirstRunID)

		reset := claimOf(g, "run-1")
		reset.RunID = "run-1-reset"
		_, err = st.ClaimGrant(ctx, reset)
		require.NoError(t, err, "a Reset keeps the first run id: same grant")
		got, _ := st.Grant(ctx, g.ID)
		require.Equal(t, "run-1-reset", got.RunID)

		refused := map[string]store.Claim{
			"no such row":      claimOf(store.Grant{ID: "grt_forged", TenantID: g.TenantID, ApplicationID: g.ApplicationID, TechnicianID: g.TechnicianID, WorkflowID: g.WorkflowID}, "run-2"),
			"another chain":    claimOf(g, "run-2"),
			"other technician": func() store.Claim { c := claimOf(g, "run-1"); c.TechnicianID = f.admin.ID; return c }(),
			"other workflow":   func() store.Claim { c := claimOf(g, "run-1"); c.WorkflowID = "access/x"; return c }(),
		}
		for name, c := range refused {
			_, err := st.ClaimGrant(ctx, c)
			require.ErrorIs(t, err, store.ErrClaimRefused, name)
		}
		g2 := pendingGrant(t, st, f, time.Hour)
		_, err = st.ClaimGrant(ctx, claimOf(g2, "run-1"))
		require.ErrorIs(t, err, store.ErrClaimRefused, "one run chain claims one grant")

		require.NoError(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: g.ID, Status: "expired"}))
		_, err = st.ClaimGrant(ctx, claimOf(g, "run-1"))
		require.ErrorIs(t, err, store.ErrClaimRefused, "an ended grant is not run again")
	})
}

// One account, one live grant: the lock is unique and goes with the grant's end.
func TestLockAccount(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		f := setup(t, st)
		g1 := pendingGrant(t, st, f, time.Hour)
		g2 := pendingGrant(t, st, f, time.Hour)
		require.NoError(t, st.LockAccount(ctx, g1.ID, "JIT-Alice@contoso.com"))
		require.NoError(t, st.LockAccount(ctx, g1.ID, "jit-alice@contoso.com"), "the holder may lock again")
		err := st.LockAccount(ctx, g2.ID, "jit-alice@CONTOSO.com")
		require.ErrorIs(t, err, store.ErrAccountInUse)
		require.ErrorContains(t, err, g1.ID)
		require.NoError(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: g1.ID, Status: "revoked"}))
		require.NoError(t, st.LockAccount(ctx, g2.ID, "jit-alice@contoso.com"))
	})
}

func TestGrantActor(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		f := setup(t, st)
		g := pendingGrant(t, st, f, time.Hour)
		other, _, err := st.CreateTechnician(ctx, "bob@msp.example", "Bob", store.RoleTechnician)
		require.NoError(t, err)
		for actor, want := range map[string]string{f.tech.ID: store.ActorTechnician, f.admin.ID: store.ActorAdmin, other.ID: "", "tec_unknown": "", "": ""} {
			kind, ok, err := st.GrantActor(ctx, g.ID, actor)
			require.NoError(t, err)
			require.Equal(t, want != "", ok, actor)
			require.Equal(t, want, kind, actor)
		}
	})
}
