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

type fakePolicy struct {
	p     directory.TAPPolicy
	err   error
	calls int
}

func (f *fakePolicy) TAPPolicy(context.Context, string) (directory.TAPPolicy, error) {
	f.calls++
	return f.p, f.err
}

func TestSignInMethod(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		f := setup(t, st)
		m, err := st.SignInMethod(ctx, f.app.ID)
		require.NoError(t, err)
		require.Equal(t, store.DefaultSignInMethod, m, "a new application gets password_and_tap")
		require.Equal(t, store.DefaultSignInMethod, f.app.SignInMethod)

		off := &fakePolicy{p: directory.TAPPolicy{Enabled: false}}
		for _, method := range []string{store.SignInTAP, store.SignInPasswordAndTAP} {
			err := st.SetSignInMethod(ctx, f.app.ID, method, off)
			require.ErrorIs(t, err, directory.ErrTAPPolicyDisabled)
			require.Contains(t, err.Error(), "Temporary Access Pass")
		}
		require.NoError(t, st.SetSignInMethod(ctx, f.app.ID, store.SignInPassword, off))
		require.Equal(t, 2, off.calls, "password alone needs no policy read")
		m, _ = st.SignInMethod(ctx, f.app.ID)
		require.Equal(t, store.SignInPassword, m)

		on := &fakePolicy{p: directory.TAPPolicy{Enabled: true}}
		require.NoError(t, st.SetSignInMethod(ctx, f.app.ID, store.SignInTAP, on))
		m, _ = st.SignInMethod(ctx, f.app.ID)
		require.Equal(t, store.SignInTAP, m)
		app, err := st.ApplicationByID(ctx, f.app.ID)
		require.NoError(t, err)
		require.Equal(t, store.SignInTAP, app.SignInMethod)

		require.ErrorIs(t, st.SetSignInMethod(ctx, f.app.ID, "sms", on), store.ErrInvalidSignInMethod)
		broken := &fakePolicy{err: errors.New("graph down")}
		require.Error(t, st.SetSignInMethod(ctx, f.app.ID, store.SignInTAP, broken))
		require.ErrorIs(t, st.SetSignInMethod(ctx, "app_missing", store.SignInPassword, on), store.ErrNotFound)
	})
}

func TestTenantPinningAndTAPCredential(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, db *bun.DB) {
		ctx := context.Background()
		f := setup(t, st)
		pinned, err := st.PinnedEntraTenant(ctx, f.app.ID)
		require.NoError(t, err)
		require.Equal(t, "tid-contoso", pinned)

		g, err := st.CreatePendingGrant(ctx, store.PendingGrant{WorkflowID: "wf-1", TenantID: f.tenant.ID,
			ApplicationID: f.app.ID, TechnicianID: f.tech.ID, RequestedAt: time.Now()})
		require.NoError(t, err)
		grantID := g.ID
		require.NoError(t, st.AttachRun(ctx, grantID, "run-1"))
		require.NoError(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: grantID, RunID: "run-1", Status: "provisioning"}))
		tid, err := st.PinGrantTenant(ctx, grantID)
		require.NoError(t, err)
		require.Equal(t, "tid-contoso", tid)

		// A consent from another tenant is refused and touches neither the application nor the grant.
		_, err = st.SaveAuthorization(ctx, f.app.ID, directory.Consent{RefreshToken: "rt-evil", Account: "admin@northwind.onmicrosoft.com", EntraTenantID: "tid-northwind"}, f.admin.ID)
		var tm *directory.TenantMismatchError
		require.ErrorAs(t, err, &tm)
		require.Contains(t, err.Error(), "tid-contoso")
		require.Contains(t, err.Error(), "tid-northwind")
		tid, rt, err := st.RefreshToken(ctx, f.app.ID)
		require.NoError(t, err)
		require.Equal(t, "tid-contoso", tid)
		require.Equal(t, "rt-1", rt)
		tid, err = st.PinGrantTenant(ctx, grantID)
		require.NoError(t, err)
		require.Equal(t, "tid-contoso", tid)

		// The TAP is sealed beside the password and goes with the credential.
		_, err = st.TAP(ctx, grantID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, st.SaveTAP(ctx, grantID, directory.TAP{ID: "tap-1", Pass: "Abc+defg"}), store.ErrNotFound, "needs the credential row")
		require.NoError(t, st.SaveCredential(ctx, grantID, "alice@contoso.com", "Pw-1234567890!"))
		_, err = st.TAP(ctx, grantID)
		require.ErrorIs(t, err, store.ErrNotFound, "password only")
		exp := time.Now().Add(4 * time.Hour).UTC().Truncate(time.Second)
		require.NoError(t, st.SaveTAP(ctx, grantID, directory.TAP{ID: "tap-1", Pass: "Abc+defg", ExpiresAt: exp}))
		tap, err := st.TAP(ctx, grantID)
		require.NoError(t, err)
		require.Equal(t, store.GrantTAP{ID: "tap-1", Pass: "Abc+defg", ExpiresAt: exp}, tap)
		id, err := st.TAPID(ctx, grantID)
		require.NoError(t, err)
		require.Equal(t, "tap-1", id)
		// The disable forgets every secret but keeps the pass's id for DeleteTAP, which runs
		// beside it and may read it later; ForgetTAP then ends the row.
		require.NoError(t, st.DeleteCredential(ctx, grantID))
		_, err = st.TAP(ctx, grantID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, ok, err := st.TAPExpiry(ctx, grantID)
		require.NoError(t, err)
		require.False(t, ok)
		id, err = st.TAPID(ctx, grantID)
		require.NoError(t, err)
		require.Equal(t, "tap-1", id, "the id outlives the disable")
		var secrets []string
		require.NoError(t, db.NewSelect().Table("grant_credentials").Column("password_sealed").Where("grant_id = ?", grantID).Scan(ctx, &secrets))
		require.Equal(t, []string{""}, secrets, "no password left at rest")
		require.NoError(t, st.ForgetTAP(ctx, grantID))
		id, err = st.TAPID(ctx, grantID)
		require.NoError(t, err)
		require.Empty(t, id)
		n, err := db.NewSelect().Table("grant_credentials").Where("grant_id = ?", grantID).Count(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "the row ends")

		// The other order: the pass deleted first, then the disable; and a password-only row.
		require.NoError(t, st.SaveCredential(ctx, grantID, "alice@contoso.com", "Pw-1234567890!"))
		require.NoError(t, st.SaveTAP(ctx, grantID, directory.TAP{ID: "tap-2", Pass: "Abc+defg", ExpiresAt: exp}))
		require.NoError(t, st.ForgetTAP(ctx, grantID))
		_, err = st.TAP(ctx, grantID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NoError(t, st.DeleteCredential(ctx, grantID))
		n, err = db.NewSelect().Table("grant_credentials").Where("grant_id = ?", grantID).Count(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "the row ends")
		require.NoError(t, st.DeleteCredential(ctx, grantID), "idempotent")
		require.NoError(t, st.ForgetTAP(ctx, grantID), "idempotent")
	})
}
