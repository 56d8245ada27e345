package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store"
)

// A disable refused for lost authorization leaves the grant revoking with the reason in the
// projection, the status query and one grant.disable_blocked audit event; once the
// application is authorized again the account is disabled and the grant expires, noting the
// delay.
func TestDisableBlockedByLostAuthorizationIsReported(t *testing.T) {
	f := newFixture(t)
	f.dir.DisableErrs = []error{directory.ErrAuthorizationLost, directory.ErrAuthorizationLost, directory.ErrAuthorizationLost}
	f.queryAt(time.Hour + 30*time.Second)
	res := f.run(input())

	require.Len(t, f.statuses, 1)
	blocked := f.statuses[0]
	assert.Equal(t, store.StatusRevoking, blocked.Status)
	assert.Contains(t, blocked.Failure, "authorization to the customer tenant was lost")
	assert.Equal(t, 1, countOf(f.st.Actions(), activities.ActionDisableBlocked), "the alarm is raised once")
	assert.Equal(t, []string{"provisioning", "active", "revoking", "expired"}, f.saStatuses(), "a blocked disable shows as JitStatus=revoking")

	assert.Equal(t, store.StatusExpired, res.Status)
	assert.Equal(t, 4, countOf(f.dir.Ops(), "DisableAccount"))
	assert.InDelta(t, 3*time.Minute, res.EndedAt.Sub(res.ExpiresAt), float64(10*time.Second), "a minute between attempts")
	assert.Contains(t, res.Failure, "disabled late")
	assert.Equal(t, res.Failure, f.st.LastGrant().Failure, "projection and workflow agree")
	acct, _ := f.dir.Account(upn)
	assert.False(t, acct.Enabled)
}
