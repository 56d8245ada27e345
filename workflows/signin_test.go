package workflows_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// An account under the grant's name that jitaccess did not create is never adopted: the grant
// fails with account_conflict naming the UPN, nothing is enabled, assigned or disabled.
func TestForeignAccountIsNotAdopted(t *testing.T) {
	f := newFixture(t)
	f.dir.AddForeignAccount(upn)
	res := f.run(input())

	assert.Equal(t, workflows.StatusFailed, res.Status)
	assert.Contains(t, res.Failure, "account_conflict")
	assert.Contains(t, res.Failure, upn)
	assert.Equal(t, []string{"BeginGrant", "PrepareAccount", "RecordGrant"}, f.started)
	assert.Empty(t, f.dir.Ops(), "no EnsureAccount, AssignRoles or DisableAccount")
	assert.Equal(t, []string{workflows.ActionRequested, workflows.ActionAccountConflict, workflows.ActionFailed}, f.st.Actions())
	acct, _ := f.dir.Account(upn)
	assert.True(t, acct.Enabled, "the foreign account is left as it was")
	assert.True(t, acct.Foreign)
	row, _ := f.st.Row("grt_1")
	assert.Equal(t, "failed", row.Status)
}

// An account jitaccess made for an earlier grant loses what was added out of band (methods
// other than the password, role assignments, sessions) before it is enabled, one audit
// record per removal.
func TestDormantAccountIsCleanedBeforeEnable(t *testing.T) {
	f := newFixture(t)
	acct, err := f.dir.EnsureAccount(context.Background(), "app_1", directory.AccountSpec{UPN: upn}, "old")
	require.NoError(t, err)
	f.st.Grants = append(f.st.Grants, storeUpdate("grt_0", upn, acct.ObjectID))
	f.dir.AddMethod(upn, directory.AuthMethod{ID: "m-pw", Type: "password"})
	f.dir.AddMethod(upn, directory.AuthMethod{ID: "m-app", Type: "microsoftAuthenticator"})
	f.dir.AddAssignment(upn, "ra-out-of-band")
	res := f.run(input())

	assert.Equal(t, workflows.StatusExpired, res.Status)
	assert.Equal(t, []string{"CleanAccount"}, f.dir.SignInOps())
	cleaned := 0
	for _, a := range f.st.Actions() {
		if a == workflows.ActionAccountCleaned {
			cleaned++
		}
	}
	assert.Equal(t, 3, cleaned, "the authenticator, the assignment and the sessions")
	after, _ := f.dir.Account(upn)
	assert.Equal(t, []directory.AuthMethod{{ID: "m-pw", Type: "password"}}, after.Methods)
	assert.NotContains(t, after.Assignments, "ra-out-of-band")
}

// A policy that refuses the Temporary Access Pass fails the grant (tap_policy_disabled), after
// compensating the account that was enabled; roles are never assigned.
func TestTAPPolicyOffFailsTheGrant(t *testing.T) {
	f := newFixture(t)
	f.st.Entitlement.Application.SignInMethod = "tap"
	f.dir.TAPPolicyOff = true
	res := f.run(input())

	assert.Equal(t, workflows.StatusFailed, res.Status)
	assert.Contains(t, res.Failure, "tap_policy_disabled")
	assert.Contains(t, res.Failure, "Temporary Access Pass")
	assert.NotContains(t, f.dir.Ops(), "AssignRoles")
	assert.Contains(t, f.dir.Ops(), "DisableAccount", "compensated")
	assert.Equal(t, []string{"IssueTAP", "DeleteTAP"}, f.dir.SignInOps(), "not retried; compensation deletes any pass first")
	acct, _ := f.dir.Account(upn)
	assert.False(t, acct.Enabled)
}

// With password_and_tap the account gets a pass covering the grant, sealed in the store and
// never in a payload; the pass is deleted beside the disable at expiry.
func TestTAPIssuedAndDeletedAtExpiry(t *testing.T) {
	f := newFixture(t)
	f.st.Entitlement.Application.SignInMethod = "password_and_tap"
	res := f.run(input())

	assert.Equal(t, workflows.StatusExpired, res.Status)
	assert.Equal(t, []string{"BeginGrant", "PrepareAccount", "EnsureAccount", "IssueTAP", "AssignRoles", "RecordGrant", "RecordGrant",
		"DeleteTAP", "DisableAccount", "RecordGrant"}, f.started)
	assert.Equal(t, []string{"IssueTAP", "DeleteTAP"}, f.dir.SignInOps())
	tap, ok := f.st.LastTAP("grt_1")
	require.True(t, ok, "the pass is saved beside the password")
	_, ok = f.st.TAP("grt_1")
	assert.False(t, ok, "the store forgets the pass once it is deleted")
	f.mu.Lock()
	all := strings.Join(f.payloads, "\n")
	f.mu.Unlock()
	assert.NotContains(t, all, tap.Pass, "the pass reached an activity payload")
	sa, _ := json.Marshal(f.sa)
	assert.NotContains(t, string(sa), tap.Pass)
	acct, _ := f.dir.Account(upn)
	assert.False(t, slices.ContainsFunc(acct.Methods, func(m directory.AuthMethod) bool { return m.Type == "temporaryAccessPass" }))
	assert.False(t, acct.Enabled)
}

// storeUpdate is the projection an earlier grant left for its account.
func storeUpdate(grantID, accountUPN, objectID string) store.GrantUpdate {
	return store.GrantUpdate{GrantID: grantID, Status: "expired", AccountUPN: accountUPN, AccountID: objectID}
}
