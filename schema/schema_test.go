package schema_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/schema"
)

var tables = []string{
	"tenants", "technicians", "api_tokens", "tenant_members", "groups", "group_members",
	"applications", "application_authorizations", "oauth_states", "entitlements",
	"grants", "grant_credentials", "audit_events",
	"grant_approvals", "notification_destinations", "notification_deliveries",
	"audit_chain_heads", "audit_checkpoints", "siem_cursors", "reports", "auditor_tenants",
}

func tableExists(t *testing.T, db *bun.DB, name string) bool {
	t.Helper()
	var n int
	var err error
	if schema.IsPostgres(db) {
		err = db.NewRaw(`SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?`, name).Scan(context.Background(), &n)
	} else {
		err = db.NewRaw(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(context.Background(), &n)
	}
	require.NoError(t, err)
	return n == 1
}

func TestMigrateUpDownUp(t *testing.T) {
	for _, d := range testenv.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			db := testenv.OpenDB(t, d)

			require.NoError(t, schema.Migrate(ctx, db))
			require.NoError(t, schema.Migrate(ctx, db), "idempotent")
			for _, tb := range tables {
				require.True(t, tableExists(t, db, tb), tb)
			}
			applied, err := schema.Applied(ctx, db)
			require.NoError(t, err)
			require.Contains(t, applied, "20261130000007_reconcile")
			require.Contains(t, applied, "20260601000003_sessions")
			require.Contains(t, applied, "20261130000005_staff_identity")
			require.Contains(t, applied, "20261130000008_governance")
			require.Contains(t, applied, "20261130000009_evidence")

			require.NoError(t, schema.Rollback(ctx, db))
			for _, tb := range tables {
				require.False(t, tableExists(t, db, tb), tb)
			}
			applied, err = schema.Applied(ctx, db)
			require.NoError(t, err)
			require.Empty(t, applied)

			require.NoError(t, schema.Migrate(ctx, db))
			for _, tb := range tables {
				require.True(t, tableExists(t, db, tb), tb)
			}
		})
	}
}

func TestConcurrentMigrateOnPostgres(t *testing.T) {
	ctx := context.Background()
	url := testenv.Postgres(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := schema.Open(ctx, url, "", 0)
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			errs[i] = schema.Migrate(ctx, db)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
}

func TestModelsRoundTripAndConstraints(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		tn := &schema.Tenant{ID: "tnt_a", Name: "Contoso", CreatedAt: now}
		_, err := db.NewInsert().Model(tn).Exec(ctx)
		require.NoError(t, err)
		app := &schema.Application{ID: "app_a", TenantID: "tnt_a", Name: "Entra", Type: "web", Credentials: "entra_oidc",
			AccessDuration: 4 * time.Hour, Roles: schema.StringList{"r1", "r2"}, Status: "unauthorized", CreatedAt: now, UpdatedAt: now}
		_, err = db.NewInsert().Model(app).Exec(ctx)
		require.NoError(t, err)

		var got schema.Application
		require.NoError(t, db.NewSelect().Model(&got).Where("id = ?", "app_a").Scan(ctx))
		require.Equal(t, schema.StringList{"r1", "r2"}, got.Roles)
		require.Equal(t, 4*time.Hour, got.AccessDuration)
		require.True(t, now.Equal(got.CreatedAt), "%s vs %s", now, got.CreatedAt)
		require.Empty(t, got.Domain)

		// Unique name per tenant.
		dup := *app
		dup.ID = "app_b"
		_, err = db.NewInsert().Model(&dup).Exec(ctx)
		require.Error(t, err)

		// Foreign keys are enforced (SQLite needs them switched on).
		orphan := *app
		orphan.ID, orphan.Name, orphan.TenantID = "app_c", "Other", "tnt_missing"
		_, err = db.NewInsert().Model(&orphan).Exec(ctx)
		require.Error(t, err)

		// Deleting the tenant cascades.
		_, err = db.NewDelete().Model((*schema.Tenant)(nil)).Where("id = ?", "tnt_a").Exec(ctx)
		require.NoError(t, err)
		n, err := db.NewSelect().Model((*schema.Application)(nil)).Count(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
	})
}

func TestOpenRejectsUnknownScheme(t *testing.T) {
	_, err := schema.Open(context.Background(), "mysql://x", "", 0)
	require.ErrorContains(t, err, "postgres://")
}
