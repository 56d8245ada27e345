package store_test

import (
	"context"
	"fmt"
	"strings"
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
