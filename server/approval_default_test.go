package server_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/workflows"
)

// An application whose roles include a privileged role needs an admin's approval although
// no policy was ever saved: the request waits in pending_approval with no directory call,
// the requester cannot approve it, another admin can, and then it is provisioned.
func TestPrivilegedDefaultNeedsApproval(t *testing.T) {
	c := temporalClient(t)
	g := newGrantEnv(t, c)
	path := "/v1/tenants/" + g.tenant + "/applications/" + g.app
	// Forget the policy the fixture saved: only the default of User Administrator applies.
	r := g.must(200, g.do("PATCH", path, g.adminToken, map[string]any{"policy": nil}))
	require.Equal(t, false, r.JSON["policy_saved"])

	// The admin requests (admins are staff too); alice requests as well.
	g.must(204, g.do("PUT", "/v1/tenants/"+g.tenant+"/members/"+g.admin.ID, g.adminToken, nil))
	mine := g.must(202, g.request(g.adminToken, g.app)).str("id")
	g.waitStatus(g.adminToken, mine, string(workflows.StatusPendingApproval))
	alices := g.must(202, g.request(g.aliceToken, g.app)).str("id")
	g.waitStatus(g.aliceToken, alices, string(workflows.StatusPendingApproval))
	require.Empty(t, g.entra.Calls(), "no directory call before approval")

	// Never one's own request.
	self := g.do("POST", "/v1/access-requests/"+mine+"/approve", g.adminToken, map[string]any{"comment": "me"})
	require.Equal(t, 403, self.Status, string(self.Body))
	require.Equal(t, "self_approval", self.errorCode())
	// A technician is no approver under the default.
	bob := g.do("POST", "/v1/access-requests/"+alices+"/approve", g.bobToken, nil)
	require.Equal(t, 403, bob.Status, string(bob.Body))

	// The MSP admin decides alice's request; it is then provisioned with its roles.
	queue := g.must(200, g.do("GET", "/v1/approvals", g.adminToken, nil)).items()
	ids := []string{}
	for _, it := range queue {
		ids = append(ids, it["id"].(string))
	}
	require.Contains(t, ids, alices)
	require.NotContains(t, ids, mine)
	st := g.must(200, g.do("POST", "/v1/access-requests/"+alices+"/approve", g.adminToken, map[string]any{"comment": "P1, go"}))
	require.Equal(t, "approved", st.str("decision"))
	active := g.waitStatus(g.aliceToken, alices, string(workflows.StatusActive))
	require.Equal(t, []any{roleUserAdmin}, active.JSON["roles"])
	upn := active.JSON["account"].(map[string]any)["user_principal_name"].(string)
	acct, ok := g.entra.Account(upn)
	require.True(t, ok)
	require.True(t, acct.Enabled)
	require.Len(t, acct.Assignments, 1)
	require.NotEmpty(t, g.auditEvents("grant.approved"))

	// Revoked while it waits: no Entra call for it.
	before := len(g.entra.Calls())
	g.must(202, g.do("POST", "/v1/access-requests/"+mine+"/revoke", g.adminToken, map[string]any{"reason": "not needed"}))
	g.waitStatus(g.adminToken, mine, string(workflows.StatusRevoked))
	require.Len(t, g.entra.Calls(), before, "revoking a pending request makes no directory call")

	// A saved policy that waives approval provisions at once.
	g.must(200, g.do("PATCH", path, g.adminToken, map[string]any{"policy": map[string]any{"approval": map[string]any{"required": false}}}))
	again := g.must(202, g.request(g.adminToken, g.app)).str("id")
	g.waitStatus(g.adminToken, again, string(workflows.StatusActive))
}
