package activities_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/internal/entrasim"
)

// RenewTAP against the emulator: a pass covering the new end is left alone; one ending before
// it is replaced (the old pass is gone from the directory at once), capped by the policy's
// 8 hours; a policy turned off is tap_policy_disabled and leaves the old pass in place.
func TestRenewTAPAgainstEmulator(t *testing.T) {
	e := newSignInEnv(t, "contoso.onmicrosoft.com", entrasim.ContosoAdminUPN)
	spec, err := directory.NewAccountSpec("alice@msp.example", "Alice", "contoso.com")
	require.NoError(t, err)
	acct, err := e.dir.EnsureAccount(t.Context(), signInApp, spec, directory.NewPassword())
	require.NoError(t, err)
	v, err := e.env.ExecuteActivity(e.a.IssueTAP, activities.IssueTAPInput{GrantID: "g1", ApplicationID: signInApp, ObjectID: acct.ObjectID, ExpiresAt: time.Now().Add(2 * time.Hour)})
	require.NoError(t, err)
	var issued activities.IssueTAPResult
	require.NoError(t, v.Get(&issued))
	first := e.st.taps["g1"]

	renew := func(until time.Time) (activities.RenewTAPResult, error) {
		v, err := e.env.ExecuteActivity(e.a.RenewTAP, activities.RenewTAPInput{GrantID: "g1", ApplicationID: signInApp, ObjectID: acct.ObjectID, ExpiresAt: until})
		if err != nil {
			return activities.RenewTAPResult{}, err
		}
		var res activities.RenewTAPResult
		require.NoError(t, v.Get(&res))
		return res, nil
	}
	tapIDs := func() []string {
		u, _ := e.sim.User(entrasim.ContosoTenant, acct.ObjectID)
		var ids []string
		for _, m := range u.AuthMethods {
			if m.Type == "temporaryAccessPass" {
				ids = append(ids, m.ID)
			}
		}
		return ids
	}

	// Still covered: nothing sent, nothing changed.
	res, err := renew(time.Now().Add(90 * time.Minute))
	require.NoError(t, err)
	require.False(t, res.Renewed)
	require.Equal(t, first.ID, res.TAPID)
	require.Equal(t, first.Pass, e.st.taps["g1"].Pass)

	// Extended to 5 hours: a new pass until then; the old one no longer exists.
	until := time.Now().Add(5 * time.Hour)
	res, err = renew(until)
	require.NoError(t, err)
	require.True(t, res.Renewed)
	require.False(t, res.CappedByPolicy)
	require.Equal(t, first.ID, res.OldTAPID)
	require.WithinDuration(t, until, res.ExpiresAt, 2*time.Minute)
	require.NotEqual(t, first.Pass, e.st.taps["g1"].Pass)
	require.Equal(t, []string{res.TAPID}, tapIDs(), "one pass: the new one")

	// Extended to 12 hours: capped by the policy's maximum (8 h), and said so.
	res, err = renew(time.Now().Add(12 * time.Hour))
	require.NoError(t, err)
	require.True(t, res.Renewed)
	require.True(t, res.CappedByPolicy)
	require.WithinDuration(t, time.Now().Add(8*time.Hour), res.ExpiresAt, 2*time.Minute)

	// The policy is turned off: a typed refusal; the pass on record stays as it was.
	before := e.st.taps["g1"]
	require.NoError(t, e.sim.SetTAPPolicyEnabled(entrasim.ContosoTenant, false))
	_, err = renew(time.Now().Add(13 * time.Hour))
	typ, nonRetryable := appErrType(t, err)
	require.Equal(t, activities.ErrTypeTAPPolicyDisabled, typ)
	require.True(t, nonRetryable)
	require.Equal(t, before, e.st.taps["g1"])
}
