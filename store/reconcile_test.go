package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/store"
)

// TestReconcileQueries covers what the reconciler reads and writes, on both databases.
func TestReconcileQueries(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		f := setup(t, st)
		at := time.Now().UTC().Add(-time.Hour).Truncate(time.Microsecond)
		activated := map[string]time.Time{}
		record := func(run, status, account string) string {
			t.Helper()
			g, err := st.CreatePendingGrant(ctx, store.PendingGrant{WorkflowID: "wf-1", TenantID: f.tenant.ID,
				ApplicationID: f.app.ID, TechnicianID: f.tech.ID, RequestedAt: at})
			require.NoError(t, err)
			require.NoError(t, st.AttachRun(ctx, g.ID, run))
			require.NoError(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: g.ID, RunID: run, Status: status, AccountID: account,
				AccountUPN: account + "@contoso.com", Roles: []string{"role-1"}, ActivatedAt: at.Add(time.Second)}))
			activated[account] = at.Add(time.Second)
			at = at.Add(time.Minute)
			return g.ID
		}
		record("run-1", "expired", "obj-a")
		liveID := record("run-2", "active", "obj-a")
		record("run-3", "expired", "obj-b")
		require.NoError(t, st.SaveCredential(ctx, liveID, "obj-a@contoso.com", "Secret-pass-1!"))

		apps, err := st.ReconcileApplications(ctx, "")
		require.NoError(t, err)
		require.Equal(t, []string{f.app.ID}, apps)
		apps, err = st.ReconcileApplications(ctx, "tnt_nobody")
		require.NoError(t, err)
		require.Empty(t, apps)

		open, err := st.OpenGrants(ctx, f.app.ID, "", 10)
		require.NoError(t, err)
		require.Len(t, open, 1)
		require.Equal(t, liveID, open[0].ID)

		// Distinct accounts, paged by object id.
		accts, err := st.CreatedAccounts(ctx, f.app.ID, "", 1)
		require.NoError(t, err)
		// LastActivatedAt is the latest grant's activation (run-2's for obj-a).
		require.Equal(t, []store.CreatedAccount{{TenantID: f.tenant.ID, ApplicationID: f.app.ID, AccountID: "obj-a", AccountUPN: "obj-a@contoso.com",
			TechnicianID: f.tech.ID, LastActivatedAt: activated["obj-a"]}}, accts)
		accts, err = st.CreatedAccounts(ctx, f.app.ID, "obj-a", 10)
		require.NoError(t, err)
		require.Len(t, accts, 1)
		require.Equal(t, "obj-b", accts[0].AccountID)
		require.True(t, accts[0].LastActivatedAt.Equal(activated["obj-b"]), "obj-b last activated %s, want %s", accts[0].LastActivatedAt, activated["obj-b"])

		live, err := st.LiveGrantsOfAccount(ctx, f.tenant.ID, f.tech.ID, "obj-a")
		require.NoError(t, err)
		require.Len(t, live, 1)
		require.Equal(t, liveID, live[0].ID)
		live, err = st.LiveGrantsOfAccount(ctx, f.tenant.ID, f.tech.ID, "obj-b")
		require.NoError(t, err)
		require.Empty(t, live)

		g, err := st.GrantOfRun(ctx, "wf-1", "run-2")
		require.NoError(t, err)
		require.Equal(t, liveID, g.ID)
		_, err = st.GrantOfRun(ctx, "wf-1", "run-9")
		require.ErrorIs(t, err, store.ErrNotFound)

		// Terminate: final, reason kept, credential gone, event logged; then never again.
		ev := store.AuditEvent{ID: store.DerivedID("aud", "t1"), TenantID: f.tenant.ID, Action: "grant.terminated", Target: liveID}
		ended := time.Now().UTC().Add(-time.Minute).Truncate(time.Microsecond)
		ok, err := st.TerminateGrant(ctx, liveID, "run terminated", ended, ev)
		require.NoError(t, err)
		require.True(t, ok)
		g, err = st.Grant(ctx, liveID)
		require.NoError(t, err)
		require.Equal(t, store.StatusTerminated, g.Status)
		require.Equal(t, "run terminated", g.Failure)
		require.True(t, g.EndedAt.Equal(ended), "%s vs %s", g.EndedAt, ended)
		_, _, err = st.Credential(ctx, liveID)
		require.ErrorIs(t, err, store.ErrNotFound)
		ok, err = st.TerminateGrant(ctx, liveID, "again", time.Time{}, store.AuditEvent{Action: "grant.terminated", Target: liveID})
		require.NoError(t, err)
		require.False(t, ok)
		events, _, err := st.AuditEvents(ctx, store.AuditFilter{TenantID: f.tenant.ID}, store.Page{Limit: 100})
		require.NoError(t, err)
		n := 0
		for _, e := range events {
			if e.Action == "grant.terminated" {
				n++
			}
		}
		require.Equal(t, 1, n)

		// A terminated grant stays terminated when a late projection write arrives.
		require.NoError(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: liveID, Status: "active"}))
		g, err = st.Grant(ctx, liveID)
		require.NoError(t, err)
		require.Equal(t, store.StatusTerminated, g.Status)
		require.True(t, store.IsTerminal(store.StatusTerminated))

		live, err = st.LiveGrantsOfAccount(ctx, f.tenant.ID, f.tech.ID, "obj-a")
		require.NoError(t, err)
		require.Empty(t, live)
		open, err = st.OpenGrants(ctx, f.app.ID, "", 10)
		require.NoError(t, err)
		require.Empty(t, open)
	})
}
