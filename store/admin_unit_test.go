package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store"
)

type unitEnsurer struct {
	calls []string
	err   error
}

func (u *unitEnsurer) EnsureRestrictedUnit(_ context.Context, _, recorded string) (string, error) {
	u.calls = append(u.calls, recorded)
	if u.err != nil {
		return "", u.err
	}
	if recorded != "" {
		return recorded, nil
	}
	return "au-1", nil
}

// restricted_admin_unit: off by default; on is validated live (a refusal saves nothing); the
// unit id is recorded and reused after off/on.
func TestRestrictedAdminUnitSetting(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		f := setup(t, st)
		on, id, err := st.RestrictedAdminUnit(ctx, f.app.ID)
		require.NoError(t, err)
		require.False(t, on)
		require.Empty(t, id)

		refused := &unitEnsurer{err: directory.ErrRestrictedUnitRefused}
		err = st.SetRestrictedAdminUnit(ctx, f.app.ID, true, refused)
		require.True(t, errors.Is(err, directory.ErrRestrictedUnitRefused), "%v", err)
		on, _, err = st.RestrictedAdminUnit(ctx, f.app.ID)
		require.NoError(t, err)
		require.False(t, on, "a refused setting is not saved")

		u := &unitEnsurer{}
		require.NoError(t, st.SetRestrictedAdminUnit(ctx, f.app.ID, true, u))
		on, id, err = st.RestrictedAdminUnit(ctx, f.app.ID)
		require.NoError(t, err)
		require.True(t, on)
		require.Equal(t, "au-1", id)
		require.NoError(t, st.SetRestrictedAdminUnit(ctx, f.app.ID, false, u))
		require.NoError(t, st.SetRestrictedAdminUnit(ctx, f.app.ID, true, u))
		require.Equal(t, []string{"", "au-1"}, u.calls)
		require.NoError(t, st.SaveAdminUnitID(ctx, f.app.ID, "au-2"))
		_, id, err = st.RestrictedAdminUnit(ctx, f.app.ID)
		require.NoError(t, err)
		require.Equal(t, "au-2", id)
	})
}
