package workflows_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/workflows"
	"github.com/jitaccess/jitaccess/workflows/signinwire"
)

// extendOnce runs a 1 h grant of an application with method and extends it by d at 10 min;
// before runs just before the update. It returns the update's result and error.
func extendOnce(t *testing.T, method string, d time.Duration, before func(f *fixture)) (*fixture, workflows.ExtendResult, error, workflows.Result) {
	f := newFixture(t)
	f.st.Entitlement.Application.SignInMethod = method
	var res workflows.ExtendResult
	var updErr error
	done := false
	f.env.RegisterDelayedCallback(func() {
		if before != nil {
			before(f)
		}
		f.env.UpdateWorkflow(workflows.ExtendUpdateName, "ext-1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { updErr, done = err, true },
			OnAccept: func() {},
			OnComplete: func(v any, err error) {
				updErr, done = err, true
				if r, ok := v.(workflows.ExtendResult); ok {
					res = r
				}
			},
		}, workflows.ExtendRequest{Duration: d, By: "tec_1"})
	}, 10*time.Minute)
	out := f.run(input())
	require.True(t, done, "the update completed")
	return f, res, updErr, out
}

func tapMethods(f *fixture) []string {
	acct, _ := f.dir.Account(upn)
	var ids []string
	for _, m := range acct.Methods {
		if m.Type == "temporaryAccessPass" {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// An extension beyond the pass's end replaces the pass with one covering the new end: one
// pass in the directory (the new one), saved for the grant, audited; deleted at expiry.
func TestExtensionRenewsTheTAP(t *testing.T) {
	var firstID string
	f, res, err, out := extendOnce(t, "password_and_tap", 90*time.Minute, func(f *fixture) {
		tap, _ := f.st.TAP("grt_1")
		firstID = tap.ID
		require.Equal(t, []string{firstID}, tapMethods(f))
	})
	require.NoError(t, err)
	assert.Equal(t, workflows.StatusExpired, out.Status)
	assert.Equal(t, out.ExpiresAt, res.ExpiresAt)
	assert.WithinDuration(t, res.ExpiresAt, res.TAPExpiresAt, time.Minute, "the new pass covers the new end")
	assert.Empty(t, res.TAPNote)
	tap, _ := f.st.LastTAP("grt_1")
	assert.NotEqual(t, firstID, tap.ID)
	assert.NotEmpty(t, tap.ID)
	assert.Equal(t, []string{"IssueTAP", "IssueTAP", "DeleteTAP"}, f.dir.SignInOps())
	assert.Equal(t, 1, countOf(f.st.Actions(), workflows.ActionTAPRenewed))
	assert.Contains(t, f.started, signinwire.RenewTAPActivity)
	assert.Empty(t, tapMethods(f), "the renewed pass is deleted at expiry")
}

// The tenant's maximum lifetime caps the new pass: the extend answer says so.
func TestExtensionRenewsTheTAPCappedByPolicy(t *testing.T) {
	f, res, err, _ := extendOnce(t, "tap", 2*time.Hour, func(f *fixture) {
		f.dir.TAPMaxLifetime = 90 * time.Minute
	})
	require.NoError(t, err)
	assert.True(t, res.TAPExpiresAt.Before(res.ExpiresAt.Add(-time.Hour)), "capped at 90 min: %s vs %s", res.TAPExpiresAt, res.ExpiresAt)
	assert.Contains(t, res.TAPNote, "policy caps its lifetime")
	assert.Equal(t, 1, countOf(f.st.Actions(), workflows.ActionTAPRenewed))
}

// A tenant that turned its policy off since the grant began: the extension stands, the old
// pass stays until its end, and the answer and the audit log say why it was not renewed.
func TestExtensionWithTAPPolicyOffExplains(t *testing.T) {
	var firstID string
	f, res, err, out := extendOnce(t, "password_and_tap", time.Hour, func(f *fixture) {
		tap, _ := f.st.TAP("grt_1")
		firstID = tap.ID
		f.dir.TAPPolicyOff = true
	})
	require.NoError(t, err, "the extension is applied")
	assert.Equal(t, 2*time.Hour, out.ExpiresAt.Sub(out.ActivatedAt))
	assert.Contains(t, res.TAPNote, "not renewed")
	assert.Contains(t, res.TAPNote, "Temporary Access Pass")
	tap, _ := f.st.LastTAP("grt_1")
	assert.Equal(t, firstID, tap.ID, "the old pass is kept")
	assert.Equal(t, 1, countOf(f.st.Actions(), workflows.ActionTAPNotRenewed))
}

// Password-only applications and extensions the pass already covers schedule nothing new.
func TestExtensionWithoutRenewal(t *testing.T) {
	f, res, err, _ := extendOnce(t, "password", time.Hour, nil)
	require.NoError(t, err)
	assert.False(t, slices.Contains(f.started, signinwire.RenewTAPActivity))
	assert.True(t, res.TAPExpiresAt.IsZero())

	// A pass that already covers the new end (the policy's minimum made it longer) is kept.
	f, res, err, _ = extendOnce(t, "password_and_tap", 30*time.Minute, func(f *fixture) {
		tap, _ := f.st.TAP("grt_1")
		tap.ExpiresAt = tap.ExpiresAt.Add(time.Hour)
		require.NoError(t, f.st.SaveTAP(t.Context(), "grt_1", directory.TAP(tap)))
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"IssueTAP", "DeleteTAP"}, f.dir.SignInOps(), "no new pass")
	assert.Zero(t, countOf(f.st.Actions(), workflows.ActionTAPRenewed))
	assert.Empty(t, res.TAPNote)
}
