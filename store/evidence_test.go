package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/auditchain"
	"github.com/jitaccess/jitaccess/permission"
	"github.com/jitaccess/jitaccess/store"
)

// Purging old events leaves a chain that still verifies from the retention checkpoint, and
// deleting rows past the cut by hand is still caught.
func TestPurgeKeepsTheChainVerifiable(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, db *bun.DB) {
		ctx := context.Background()
		keys := chainKeys(t, "a")
		old := time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range 4 {
			require.NoError(t, st.RecordAudit(ctx, store.AuditEvent{CreatedAt: old.Add(time.Duration(i) * time.Hour), Action: "old", Target: "x"}))
		}
		tn, err := st.CreateTenant(ctx, "Contoso")
		require.NoError(t, err)
		tech, _, err := st.CreateTechnician(ctx, "alice@msp.example", "Alice", "")
		require.NoError(t, err)
		app, err := st.CreateApplication(ctx, tn.ID, store.NewApplication{Name: "Entra", Type: "web", Credentials: "entra_oidc"})
		require.NoError(t, err)
		pg, err := st.CreatePendingGrant(ctx, store.PendingGrant{WorkflowID: "w", TenantID: tn.ID, ApplicationID: app.ID,
			TechnicianID: tech.ID, RequestedAt: old})
		require.NoError(t, err)
		require.NoError(t, st.AttachRun(ctx, pg.ID, "r"))
		require.NoError(t, st.RecordTransition(ctx, store.GrantUpdate{GrantID: pg.ID, RunID: "r", Status: "expired", EndedAt: old.Add(time.Hour)}, nil))
		_, _, err = st.SealAuditChain(ctx, keys)
		require.NoError(t, err)
		for range 3 {
			require.NoError(t, st.RecordAudit(ctx, store.AuditEvent{Action: "new", Target: "y"}))
		}
		p, err := st.PurgeBefore(ctx, keys, time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC))
		require.NoError(t, err)
		require.Equal(t, store.Purged{AuditEvents: 4, Grants: 1, CutSeq: 4}, p)
		res, err := st.VerifyAuditChain(ctx, keys, time.Time{})
		require.NoError(t, err)
		require.Equal(t, 3, res.Rows)
		require.Equal(t, int64(5), res.FirstSeq)

		again, err := st.PurgeBefore(ctx, keys, time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC))
		require.NoError(t, err)
		require.Equal(t, store.Purged{}, again)

		exec(t, db, `DELETE FROM audit_events WHERE seq = 5`)
		_, err = st.VerifyAuditChain(ctx, keys, time.Time{})
		var f *auditchain.Finding
		require.True(t, errors.As(err, &f), "got %v", err)
		require.Equal(t, auditchain.Deleted, f.Kind)
		require.Equal(t, int64(5), f.Seq)
	})
}

func TestVerifySinceStartsAtACheckpoint(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, db *bun.DB) {
		ctx := context.Background()
		keys := chainKeys(t, "a")
		seedChain(t, st, keys) // checkpoint after seq 3
		exec(t, db, `UPDATE audit_events SET target = 'changed' WHERE seq = 1`)
		_, err := st.VerifyAuditChain(ctx, keys, time.Time{})
		require.Error(t, err)
		// From the checkpoint on, the chain is intact.
		res, err := st.VerifyAuditChain(ctx, keys, time.Now().Add(time.Hour))
		require.NoError(t, err)
		require.Equal(t, 2, res.Rows)
		require.Equal(t, int64(4), res.FirstSeq)
	})
}

func TestSIEMCursorOnlyMovesForward(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		c, err := st.SIEMCursor(ctx, "syslog:x")
		require.NoError(t, err)
		require.Zero(t, c)
		require.NoError(t, st.AckSIEM(ctx, "syslog:x", 9))
		require.NoError(t, st.AckSIEM(ctx, "syslog:x", 4))
		c, err = st.SIEMCursor(ctx, "syslog:x")
		require.NoError(t, err)
		require.Equal(t, int64(9), c)
	})
}

func TestAuditorScope(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		aud, _, err := st.CreateTechnician(ctx, "auditor@msp.example", "Auditor", store.RoleAuditor)
		require.NoError(t, err)
		p, err := st.Principal(ctx, aud)
		require.NoError(t, err)
		require.False(t, permission.Allowed(p, permission.ReadGrants, "ten_a"), "no tenant until given")
		require.NoError(t, st.SetAuditorTenants(ctx, aud.ID, []string{"ten_a"}))
		p, err = st.Principal(ctx, aud)
		require.NoError(t, err)
		require.True(t, permission.Allowed(p, permission.ReadGrants, "ten_a"))
		require.False(t, permission.Allowed(p, permission.ReadGrants, "ten_b"))
		require.NoError(t, st.SetAuditorTenants(ctx, aud.ID, []string{store.AllTenants}))
		p, err = st.Principal(ctx, aud)
		require.NoError(t, err)
		require.True(t, permission.Allowed(p, permission.ReadAudit, "ten_b"))
		require.False(t, permission.Allowed(p, permission.ReadCredentials, "ten_b"))

		tech, _, err := st.CreateTechnician(ctx, "tech@msp.example", "Tech", "")
		require.NoError(t, err)
		require.ErrorIs(t, st.SetAuditorTenants(ctx, tech.ID, []string{"ten_a"}), store.ErrConflict)
	})
}

// Concurrent writers append one at a time: the chain has no fork and no gap.
func TestConcurrentAuditWritersKeepOneChain(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		errs := make(chan error, 80)
		for w := range 8 {
			go func() {
				for i := range 10 {
					errs <- st.RecordAudit(ctx, store.AuditEvent{Action: "test.concurrent", Target: fmt.Sprint(w, "-", i)})
				}
			}()
		}
		for range 80 {
			require.NoError(t, <-errs)
		}
		res, err := st.VerifyAuditChain(ctx, chainKeys(t, "a"), time.Time{})
		require.NoError(t, err)
		require.Equal(t, 80, res.Rows)
		require.Equal(t, int64(80), res.LastSeq)
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
