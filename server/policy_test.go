package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/server"
	"github.com/jitaccess/jitaccess/workflows"
)

// startingWorkflows accepts every start (no engine): the request's row stays pending.
type startingWorkflows struct {
	stubWorkflows
	mu      sync.Mutex
	started []workflows.AccessRequestInput
}

func (s *startingWorkflows) Start(_ context.Context, in workflows.AccessRequestInput) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.started = append(s.started, in)
	return workflows.WorkflowID(in.TenantID, in.ApplicationID, in.TechnicianID), fmt.Sprintf("run-%d", len(s.started)), nil
}

func TestApplicationPolicyAPI(t *testing.T) {
	wfs := &startingWorkflows{}
	e := newEnv(t, func(d *server.Deps) { d.Workflows = wfs })
	ctx := context.Background()
	tenant := e.createTenant("Contoso")
	app := e.readyApplication(tenant, "Entra") // saves a policy without approval
	path := fmt.Sprintf("/v1/tenants/%s/applications/%s", tenant, app)
	policyOf := func(r response) map[string]any {
		p, _ := r.JSON["policy"].(map[string]any)
		require.NotNil(t, p, string(r.Body))
		return p
	}

	t.Run("null forgets the saved policy: the privileged role's default asks one admin", func(t *testing.T) {
		r := e.must(200, e.do("PATCH", path, e.adminToken, map[string]any{"policy": nil}))
		require.Equal(t, false, r.JSON["policy_saved"])
		ap := policyOf(r)["approval"].(map[string]any)
		require.Equal(t, true, ap["required"], "User Administrator is privileged")
		require.EqualValues(t, 1, ap["approvals_needed"])
		require.Equal(t, "8h0m0s", ap["timeout"])
		p, saved, err := e.store.ApplicationPolicy(ctx, app)
		require.NoError(t, err)
		require.False(t, saved)
		require.True(t, p.Approval.Required)
	})

	t.Run("a saved policy is merged, shown and audited", func(t *testing.T) {
		r := e.must(200, e.do("PATCH", path, e.adminToken, map[string]any{"policy": map[string]any{
			"justification": "required", "max_duration": "2h", "max_total_duration": "6h",
			"ticket":   map[string]any{"required": true, "pattern": `#?\d{4,8}`, "label": "ConnectWise ticket"},
			"approval": map[string]any{"required": false},
		}}))
		require.Equal(t, true, r.JSON["policy_saved"])
		p := policyOf(r)
		require.Equal(t, "required", p["justification"])
		require.Equal(t, "2h0m0s", p["max_duration"])
		require.Equal(t, "ConnectWise ticket", p["ticket"].(map[string]any)["label"])
		require.Equal(t, false, p["approval"].(map[string]any)["required"])
		// A partial document keeps the other fields.
		r = e.must(200, e.do("PATCH", path, e.adminToken, map[string]any{"policy": map[string]any{"max_total_duration": "8h"}}))
		require.Equal(t, "required", policyOf(r)["justification"])
		require.Equal(t, "8h0m0s", policyOf(r)["max_total_duration"])
		require.Equal(t, "2h0m0s", policyOf(e.must(200, e.do("GET", path, e.adminToken, nil)))["max_duration"])
		require.Contains(t, e.auditActions(), "application.policy_updated")
	})

	t.Run("refusals name the field", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			doc   any
			field string
		}{
			{"bad pattern", map[string]any{"ticket": map[string]any{"pattern": "("}}, "policy.ticket.pattern"},
			{"beyond the global maximum", map[string]any{"max_duration": "48h"}, "policy.max_duration"},
			{"not a duration", map[string]any{"max_total_duration": "soon"}, "policy.max_total_duration"},
			{"justification", map[string]any{"justification": "sometimes"}, "policy.justification"},
			{"unknown field", map[string]any{"working_hours": true}, "policy.working_hours"},
			{"unknown approver group", map[string]any{"approval": map[string]any{"required": true, "approver_group_ids": []string{"grp_aaaaaaaaaaaaaaaa"}}}, "policy.approval.approver_group_ids"},
			{"approvals needed", map[string]any{"approval": map[string]any{"required": true, "approvals_needed": 11}}, "policy.approval.approvals_needed"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do("PATCH", path, e.adminToken, map[string]any{"policy": tc.doc})
				require.Equal(t, 400, r.Status, string(r.Body))
				require.Equal(t, "invalid_policy", r.errorCode())
				require.Contains(t, r.errorMessage(), tc.field)
			})
		}
		// Nothing was saved by a refusal.
		require.Equal(t, "2h0m0s", policyOf(e.must(200, e.do("GET", path, e.adminToken, nil)))["max_duration"])
	})

	t.Run("only admins change a policy", func(t *testing.T) {
		_, token := e.createTechnician("tess@msp.example")
		require.Equal(t, 403, e.do("PATCH", path, token, map[string]any{"policy": map[string]any{"justification": "optional"}}).Status)
	})

	t.Run("requests are checked against the policy", func(t *testing.T) {
		alice, aliceToken := e.createTechnician("alice@msp.example")
		e.must(204, e.do("PUT", "/v1/tenants/"+tenant+"/members/"+alice, e.adminToken, nil))
		e.must(201, e.do("POST", "/v1/tenants/"+tenant+"/entitlements", e.adminToken, map[string]any{
			"name": "All admins", "condition": map[string]any{"type": "group", "group_id": "all-admins"}, "application_id": app}))
		for _, tc := range []struct {
			name string
			body map[string]any
			code string
		}{
			{"no justification", map[string]any{"ticket_reference": "#4711"}, "justification_required"},
			{"no ticket", map[string]any{"justification": "P1 outage"}, "ticket_reference_invalid"},
			{"ticket of the wrong shape", map[string]any{"justification": "P1 outage", "ticket_reference": "INC-12"}, "ticket_reference_invalid"},
			{"longer than the policy allows", map[string]any{"justification": "P1 outage", "ticket_reference": "#4711", "duration": "3h"}, "duration_exceeds_policy"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.body["application_id"] = app
				r := e.do("POST", "/v1/access-requests", aliceToken, tc.body)
				require.Equal(t, 400, r.Status, string(r.Body))
				require.Equal(t, tc.code, r.errorCode())
			})
		}
		require.Empty(t, wfs.started, "no refused request started a workflow")

		// Without a duration the request gets the policy's maximum (2h), not the application's 4h.
		r := e.must(202, e.do("POST", "/v1/access-requests", aliceToken, map[string]any{
			"application_id": app, "justification": "P1 outage", "ticket_reference": "#4711"}))
		require.Len(t, wfs.started, 1)
		ref, err := e.store.TicketReference(ctx, r.str("id"))
		require.NoError(t, err)
		require.Equal(t, "#4711", ref)
		g, err := e.store.Grant(ctx, r.str("id"))
		require.NoError(t, err)
		require.Equal(t, "2h0m0s", g.RequestedDuration.String())
	})
}
