package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store"
)

// TAPExpiry reads a pass's end without unsealing it (none before SaveTAP); LatestGrantEvent
// gives the reason of the newest event of an action about a grant.
func TestTAPExpiryAndLatestGrantEvent(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		f := setup(t, st)
		g := startGrant(t, st, f)

		_, ok, err := st.TAPExpiry(ctx, g.ID)
		require.NoError(t, err)
		require.False(t, ok, "no credential row yet")
		require.NoError(t, st.SaveCredential(ctx, g.ID, "jit@contoso.com", "Secret-pass-1!"))
		_, ok, err = st.TAPExpiry(ctx, g.ID)
		require.NoError(t, err)
		require.False(t, ok, "a password but no pass")
		end := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
		require.NoError(t, st.SaveTAP(ctx, g.ID, directory.TAP{ID: "tap-1", Pass: "pass-1", StartsAt: time.Now(), ExpiresAt: end}))
		got, ok, err := st.TAPExpiry(ctx, g.ID)
		require.NoError(t, err)
		require.True(t, ok)
		require.True(t, end.Equal(got), "%s vs %s", got, end)

		_, _, ok, err = st.LatestGrantEvent(ctx, g.ID, "grant.tap_not_renewed")
		require.NoError(t, err)
		require.False(t, ok)
		for _, r := range []string{"first", "second"} {
			require.NoError(t, st.RecordAudit(ctx, store.AuditEvent{TenantID: f.tenant.ID, ActorID: "system", ActorKind: "system",
				Action: "grant.tap_not_renewed", Target: g.ID, Details: map[string]any{"reason": r}}))
			time.Sleep(5 * time.Millisecond)
		}
		reason, at, ok, err := st.LatestGrantEvent(ctx, g.ID, "grant.tap_not_renewed")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "second", reason)
		require.WithinDuration(t, time.Now(), at, time.Minute)
	})
}
