package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/store"
)

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
