package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/store"
)

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
		require.NoError(t, st.BeginGrant(ctx, store.Begin{Claim: claimOf(g4, "run-4"), Status: "pending"}))
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

// A grant row is run by the run chain that claimed it first; anything else is refused.
func TestBeginGrantClaims(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		f := setup(t, st)
		claim := func(c store.Claim) error {
			return st.BeginGrant(ctx, store.Begin{Claim: c, Status: "provisioning",
				Event: &store.AuditEvent{ID: "aud-begin-" + c.GrantID + "-" + c.RunID, Action: "grant.requested", Target: c.GrantID}})
		}
		g := pendingGrant(t, st, f, time.Hour)
		require.NoError(t, claim(claimOf(g, "run-1")))
		got, err := st.Grant(ctx, g.ID)
		require.NoError(t, err)
		require.Equal(t, "run-1", got.FirstRunID)
		require.Equal(t, "provisioning", got.Status)

		reset := claimOf(g, "run-1")
		reset.RunID = "run-1-reset"
		require.NoError(t, claim(reset), "a Reset keeps the first run id: same grant")
		got, _ = st.Grant(ctx, g.ID)
		require.Equal(t, "run-1-reset", got.RunID)

		refused := map[string]store.Claim{
			"no such row":      claimOf(store.Grant{ID: "grt_forged", TenantID: g.TenantID, ApplicationID: g.ApplicationID, TechnicianID: g.TechnicianID, WorkflowID: g.WorkflowID}, "run-2"),
			"another chain":    claimOf(g, "run-2"),
			"other technician": func() store.Claim { c := claimOf(g, "run-1"); c.TechnicianID = f.admin.ID; return c }(),
			"other workflow":   func() store.Claim { c := claimOf(g, "run-1"); c.WorkflowID = "access/x"; return c }(),
		}
		for name, c := range refused {
			require.ErrorIs(t, claim(c), store.ErrClaimRefused, name)
		}
		g2 := pendingGrant(t, st, f, time.Hour)
		require.ErrorIs(t, claim(claimOf(g2, "run-1")), store.ErrClaimRefused, "one run chain claims one grant")
		got, _ = st.Grant(ctx, g2.ID)
		require.Equal(t, "pending", got.Status, "a refused claim writes nothing")

		require.NoError(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: g.ID, Status: "expired"}))
		require.ErrorIs(t, claim(claimOf(g, "run-1")), store.ErrClaimRefused, "an ended grant is not run again")

		// One event per begun run, even when repeated; none for the refusals.
		evs, err := st.AuditEventsAfter(ctx, 0, 20)
		require.NoError(t, err)
		require.Len(t, evs, 2)
	})
}

// One account, one live grant: the lock is unique and goes with the grant's end; a grant
// denied for it is begun without it.
func TestBeginGrantLocksTheAccount(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		f := setup(t, st)
		g1 := pendingGrant(t, st, f, time.Hour)
		g2 := pendingGrant(t, st, f, time.Hour)
		begin := func(g store.Grant, run, upn string) error {
			return st.BeginGrant(ctx, store.Begin{Claim: claimOf(g, run), Status: "provisioning", LockUPN: upn})
		}
		require.NoError(t, begin(g1, "run-1", "JIT-Alice@contoso.com"))
		require.NoError(t, begin(g1, "run-1", "jit-alice@contoso.com"), "the holder may lock again")
		err := begin(g2, "run-2", "jit-alice@CONTOSO.com")
		require.ErrorIs(t, err, store.ErrAccountInUse)
		require.ErrorContains(t, err, g1.ID)
		got, _ := st.Grant(ctx, g2.ID)
		require.Empty(t, got.FirstRunID, "nothing of the refused begin is written")
		require.NoError(t, st.BeginGrant(ctx, store.Begin{Claim: claimOf(g2, "run-2"), Status: "pending"}), "denied: begun without the lock")
		require.NoError(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: g1.ID, Status: "revoked"}))
		g3 := pendingGrant(t, st, f, time.Hour)
		require.NoError(t, begin(g3, "run-3", "jit-alice@contoso.com"))
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
