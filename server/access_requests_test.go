package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/activities/activitiestest"
	"github.com/jitaccess/jitaccess/approvals"
	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/server"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/worker"
	"github.com/jitaccess/jitaccess/workflows"
)

const temporalUI = "http://127.0.0.1:8233"

// grantEnv is a server whose grants run as real workflows on a real Temporal dev server,
// with a real worker on the test's own task queue, the real store, and the in-memory fake
// Entra directory.
type grantEnv struct {
	*env
	temporal client.Client
	entra    *activitiestest.Directory
	// A tenant with a ready application that an All admins rule opens to its members,
	// alice (its member) and bob (member of another tenant only).
	tenant, otherTenant string
	app                 string
	alice, aliceToken   string
	bob, bobToken       string
}

func quietSlog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// temporalClient starts the pinned dev server for t and its subtests.
func temporalClient(t *testing.T) client.Client {
	t.Helper()
	sa := map[string]string{}
	for _, d := range workflows.SearchAttributeDefinitions() {
		sa[d.Name] = d.Type
	}
	s := testenv.Temporal(t, temporaldev.Options{SearchAttributes: sa})
	c, err := client.Dial(client.Options{HostPort: s.Address, Namespace: s.Namespace, Logger: tlog.NewStructuredLogger(quietSlog())})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func newGrantEnv(t *testing.T, c client.Client) *grantEnv {
	t.Helper()
	queue := "jit-test-" + strings.TrimPrefix(store.NewID("q"), "q_")
	e := newEnv(t, func(d *server.Deps) {
		d.Workflows = access.NewTemporalWorkflows(c, queue)
		d.TemporalUIURL = temporalUI + "/"
		d.TemporalNamespace = "default"
		d.Approvals = &approvals.Service{Store: d.Store, Temporal: c}
	})
	entra := &activitiestest.Directory{}
	w := worker.New(c, &activities.Activities{Store: e.store, Directory: entra, Logger: quietSlog()},
		worker.Options{TaskQueue: queue, StopTimeout: 5 * time.Second, Logger: quietSlog()})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	g := &grantEnv{env: e, temporal: c, entra: entra}
	g.tenant = e.createTenant("Contoso")
	g.otherTenant = e.createTenant("Northwind")
	g.alice, g.aliceToken = e.createTechnician("alice@msp.example")
	g.bob, g.bobToken = e.createTechnician("bob@msp.example")
	e.must(204, e.do("PUT", "/v1/tenants/"+g.tenant+"/members/"+g.alice, e.adminToken, nil))
	e.must(204, e.do("PUT", "/v1/tenants/"+g.otherTenant+"/members/"+g.bob, e.adminToken, nil))
	g.app = g.openApplication(g.tenant, "Entra")
	return g
}

// openApplication makes a ready application that every member of the tenant may request.
func (g *grantEnv) openApplication(tenantID, name string) string {
	appID := g.readyApplication(tenantID, name)
	g.must(201, g.do("POST", "/v1/tenants/"+tenantID+"/entitlements", g.adminToken, map[string]any{
		"name": "All admins may use " + name, "condition": map[string]any{"type": "group", "group_id": "all-admins"}, "application_id": appID}))
	return appID
}

func (g *grantEnv) request(token, appID string) response {
	return g.do("POST", "/v1/access-requests", token, map[string]any{"application_id": appID})
}

// waitStatus polls the grant until it has status (bounded).
func (g *grantEnv) waitStatus(token, grantID, status string) response {
	g.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := g.must(200, g.do("GET", "/v1/access-requests/"+grantID, token, nil))
		if r.str("status") == status {
			return r
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("grant %s is %s, still not %s: %s", grantID, r.str("status"), status, r.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// activeGrant requests the application as token's holder and waits until it is active.
func (g *grantEnv) activeGrant(token, appID string) response {
	g.t.Helper()
	r := g.must(202, g.request(token, appID))
	return g.waitStatus(token, r.str("id"), string(workflows.StatusActive))
}

func (g *grantEnv) auditEvents(action string) []store.AuditEvent {
	g.t.Helper()
	evs, _, err := g.store.AuditEvents(context.Background(), store.AuditFilter{}, store.Page{Limit: store.MaxLimit})
	require.NoError(g.t, err)
	return slices.DeleteFunc(evs, func(e store.AuditEvent) bool { return e.Action != action })
}

func parseTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, ok := v.(string)
	require.True(t, ok, "not a time: %v", v)
	ts, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return ts
}

func TestAccessRequests(t *testing.T) {
	c := temporalClient(t)

	t.Run("a request starts one workflow; repeating it returns the live grant", func(t *testing.T) {
		g := newGrantEnv(t, c)
		r := g.must(202, g.do("POST", "/v1/access-requests", g.aliceToken,
			map[string]any{"application_id": g.app, "justification": "  ticket 4711  "}))
		grantID := r.str("id")
		require.Regexp(t, `^grt_[a-z2-7]{16}$`, grantID)
		keys := make([]string, 0, len(r.JSON))
		for k := range r.JSON {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		require.Equal(t, []string{"account", "activated_at", "application_id", "ended_at", "expires_at", "failure", "id", "justification",
			"requested_at", "roles", "run_id", "status", "technician_id", "tenant_id", "workflow_id"}, keys, "the grant of SPEC §4; no Temporal link for technicians")
		require.Equal(t, workflows.WorkflowID(g.tenant, g.app, g.alice), r.str("workflow_id"))
		require.NotEmpty(t, r.str("run_id"))
		require.Equal(t, g.tenant, r.str("tenant_id"))
		require.Equal(t, g.app, r.str("application_id"))
		require.Equal(t, g.alice, r.str("technician_id"))
		require.Equal(t, "ticket 4711", r.str("justification"))
		require.Contains(t, []string{"pending", "provisioning", "active"}, r.str("status"))
		parseTime(t, r.JSON["requested_at"])

		again := g.must(200, g.request(g.aliceToken, g.app))
		require.Equal(t, grantID, again.str("id"))
		require.Equal(t, r.str("run_id"), again.str("run_id"))

		active := g.waitStatus(g.aliceToken, grantID, string(workflows.StatusActive))
		activated, expires := parseTime(t, active.JSON["activated_at"]), parseTime(t, active.JSON["expires_at"])
		require.Equal(t, 4*time.Hour, expires.Sub(activated), "the application's access duration by default")
		require.Nil(t, active.JSON["ended_at"])
		require.Nil(t, active.JSON["failure"])
		require.Equal(t, []any{roleUserAdmin}, active.JSON["roles"])
		account := active.JSON["account"].(map[string]any)
		require.NotEmpty(t, account["user_principal_name"])
		require.NotEmpty(t, account["object_id"])

		// Still one grant and one run once active.
		require.Equal(t, grantID, g.must(200, g.request(g.aliceToken, g.app)).str("id"))
		desc, err := c.DescribeWorkflowExecution(context.Background(), r.str("workflow_id"), "")
		require.NoError(t, err)
		require.Equal(t, r.str("run_id"), desc.GetWorkflowExecutionInfo().GetExecution().GetRunId())
		list := g.must(200, g.do("GET", "/v1/access-requests", g.adminToken, nil)).items()
		require.Len(t, list, 1)
		require.Len(t, g.auditEvents(workflows.ActionRequested), 1, "the workflow records the request once")
		accounts := 0
		for _, call := range g.entra.Calls() {
			if call.Op == "EnsureAccount" {
				accounts++
			}
		}
		require.Equal(t, 1, accounts, "no second account")
	})

	t.Run("refused requests", func(t *testing.T) {
		g := newGrantEnv(t, c)
		noRule := g.readyApplication(g.tenant, "No rule")
		notReady := g.createApplication(g.tenant, "Not ready")
		g.must(201, g.do("POST", "/v1/tenants/"+g.tenant+"/entitlements", g.adminToken, map[string]any{
			"name": "not ready", "condition": map[string]any{"type": "technician", "technician_id": g.alice}, "application_id": notReady}))

		cases := []struct {
			name   string
			token  string
			body   any
			status int
			code   string
		}{
			{"unknown field", g.aliceToken, map[string]any{"application_id": g.app, "role": "Global Administrator"}, 400, "unknown_field"},
			{"no application", g.aliceToken, map[string]any{"justification": "x"}, 400, "invalid_field"},
			{"wrong type", g.aliceToken, map[string]any{"application_id": g.app, "duration": 3600}, 400, "invalid_field"},
			{"bad duration", g.aliceToken, map[string]any{"application_id": g.app, "duration": "soon"}, 400, "invalid_duration"},
			{"negative duration", g.aliceToken, map[string]any{"application_id": g.app, "duration": "-1h"}, 400, "invalid_duration"},
			{"control characters", g.aliceToken, map[string]any{"application_id": g.app, "justification": "a\x00b"}, 400, "invalid_field"},
			{"justification too long", g.aliceToken, map[string]any{"application_id": g.app, "justification": strings.Repeat("x", 1001)}, 400, "invalid_field"},
			{"unknown application", g.aliceToken, map[string]any{"application_id": "app_aaaaaaaaaaaaaaaa"}, 404, "not_found"},
			{"application of a tenant the technician does not work for", g.bobToken, map[string]any{"application_id": g.app}, 404, "not_found"},
			{"no rule", g.aliceToken, map[string]any{"application_id": noRule}, 403, "not_entitled"},
			{"admin outside the tenant", g.adminToken, map[string]any{"application_id": g.app}, 403, "not_entitled"},
			{"not ready", g.aliceToken, map[string]any{"application_id": notReady}, 409, "application_not_ready"},
			{"longer than the application allows", g.aliceToken, map[string]any{"application_id": g.app, "duration": "4h1m"}, 400, "duration_exceeds_maximum"},
			{"shorter than the minimum", g.aliceToken, map[string]any{"application_id": g.app, "duration": "1m"}, 400, "invalid_duration"},
		}
		for _, tc := range cases {
			r := g.do("POST", "/v1/access-requests", tc.token, tc.body)
			require.Equal(t, tc.status, r.Status, "%s: %s", tc.name, r.Body)
			require.Equal(t, tc.code, r.errorCode(), "%s: %s", tc.name, r.Body)
			require.NotEmpty(t, r.errorMessage(), tc.name)
		}
		r := g.request(g.aliceToken, noRule)
		require.Contains(t, r.errorMessage(), "alice@msp.example", "the refusal says why")

		// Nothing was started.
		require.Empty(t, g.must(200, g.do("GET", "/v1/access-requests", g.adminToken, nil)).items())
		require.Empty(t, g.entra.Calls())

		// Denials are audited, with who asked for what.
		denials := g.auditEvents("grant.request_denied")
		require.Len(t, denials, 4, "two by alice for the application without a rule, bob's probe, the admin's")
		var aliceDenied bool
		for _, d := range denials {
			if d.ActorID == g.alice && d.Target == noRule {
				aliceDenied = true
				require.Equal(t, "technician", d.ActorKind)
				require.Equal(t, g.tenant, d.TenantID)
				require.NotEmpty(t, d.Details["reason"])
			}
		}
		require.True(t, aliceDenied)

		// A shorter duration than the application's is fine.
		r = g.must(202, g.do("POST", "/v1/access-requests", g.aliceToken, map[string]any{"application_id": g.app, "duration": "30m"}))
		active := g.waitStatus(g.aliceToken, r.str("id"), string(workflows.StatusActive))
		require.Equal(t, 30*time.Minute, parseTime(t, active.JSON["expires_at"]).Sub(parseTime(t, active.JSON["activated_at"])))
	})

	t.Run("credentials: holder only, while active, audited, never cached", func(t *testing.T) {
		g := newGrantEnv(t, c)
		grant := g.activeGrant(g.aliceToken, g.app)
		id := grant.str("id")
		path := "/v1/access-requests/" + id + "/credentials"

		r := g.must(200, g.do("GET", path, g.aliceToken, nil))
		require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
		upn := grant.JSON["account"].(map[string]any)["user_principal_name"].(string)
		require.Equal(t, upn, r.str("user_principal_name"))
		acct, ok := g.entra.Account(upn)
		require.True(t, ok)
		require.True(t, acct.Enabled)
		require.NotEmpty(t, r.str("password"))
		require.Equal(t, acct.Password, r.str("password"), "the managed password of the account")
		require.Equal(t, grant.JSON["expires_at"], r.JSON["expires_at"])
		// password_and_tap (a new application's default): the pass the workflow issued.
		tap := r.str("temporary_access_pass")
		require.NotEmpty(t, tap)
		require.NotEmpty(t, r.str("tap_expires_at"))
		require.True(t, slices.ContainsFunc(acct.Methods, func(m directory.AuthMethod) bool { return m.Type == "temporaryAccessPass" }))
		g.must(200, g.do("GET", path, g.aliceToken, nil))

		reads := g.auditEvents("credentials.read")
		require.Len(t, reads, 2, "every read is an audit event")
		for _, ev := range reads {
			require.Equal(t, g.alice, ev.ActorID)
			require.Equal(t, id, ev.Target)
			require.Equal(t, g.tenant, ev.TenantID)
			require.Equal(t, upn, ev.Details["account_upn"])
			require.NotContains(t, fmt.Sprint(ev.Details), acct.Password)
			require.NotContains(t, fmt.Sprint(ev.Details), tap)
		}

		r = g.must(403, g.do("GET", path, g.adminToken, nil))
		require.Equal(t, "forbidden", r.errorCode())
		require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
		require.NotContains(t, string(r.Body), acct.Password)
		require.Equal(t, "not_found", g.must(404, g.do("GET", path, g.bobToken, nil)).errorCode())
		g.must(401, g.do("GET", path, "", nil))
		g.must(404, g.do("GET", "/v1/access-requests/grt_aaaaaaaaaaaaaaaa/credentials", g.aliceToken, nil))
		require.Len(t, g.auditEvents("credentials.read"), 2, "refusals are not reads")

		g.must(202, g.do("POST", "/v1/access-requests/"+id+"/revoke", g.aliceToken, nil))
		g.waitStatus(g.aliceToken, id, string(workflows.StatusRevoked))
		r = g.must(409, g.do("GET", path, g.aliceToken, nil))
		require.Equal(t, "grant_not_active", r.errorCode())
		require.NotContains(t, string(r.Body), acct.Password)
	})

	t.Run("revoke", func(t *testing.T) {
		g := newGrantEnv(t, c)
		grant := g.activeGrant(g.aliceToken, g.app)
		id := grant.str("id")
		upn := grant.JSON["account"].(map[string]any)["user_principal_name"].(string)
		revoke := "/v1/access-requests/" + id + "/revoke"

		require.Equal(t, "unknown_field", g.must(400, g.do("POST", revoke, g.aliceToken, map[string]any{"why": "x"})).errorCode())
		require.Equal(t, "not_found", g.must(404, g.do("POST", revoke, g.bobToken, map[string]any{})).errorCode())
		r := g.must(202, g.do("POST", revoke, g.aliceToken, map[string]any{"reason": "done with the ticket"}))
		require.Equal(t, id, r.str("id"))

		done := g.waitStatus(g.aliceToken, id, string(workflows.StatusRevoked))
		require.NotNil(t, done.JSON["ended_at"])
		acct, ok := g.entra.Account(upn)
		require.True(t, ok)
		require.False(t, acct.Enabled, "the account is disabled")
		require.Empty(t, acct.Assignments, "and its roles removed")
		requested := g.auditEvents(workflows.ActionRevoke)
		require.Len(t, requested, 1)
		require.Equal(t, g.alice, requested[0].ActorID)
		require.Equal(t, "done with the ticket", requested[0].Details["reason"])

		r = g.must(409, g.do("POST", revoke, g.aliceToken, nil))
		require.Equal(t, "grant_ended", r.errorCode())

		// An admin may revoke anyone's grant; the new request is a new run of the same id.
		second := g.activeGrant(g.aliceToken, g.app)
		require.NotEqual(t, id, second.str("id"))
		require.Equal(t, grant.str("workflow_id"), second.str("workflow_id"))
		require.NotEqual(t, grant.str("run_id"), second.str("run_id"))
		g.must(202, g.do("POST", "/v1/access-requests/"+second.str("id")+"/revoke", g.adminToken, nil))
		g.waitStatus(g.adminToken, second.str("id"), string(workflows.StatusRevoked))
		byAdmin := g.auditEvents(workflows.ActionRevoke)
		require.Len(t, byAdmin, 2)
		require.Equal(t, g.admin.ID, byAdmin[0].ActorID, "newest first")
		require.Equal(t, "admin", byAdmin[0].ActorKind)
	})

	t.Run("extend", func(t *testing.T) {
		g := newGrantEnv(t, c)
		grant := g.activeGrant(g.aliceToken, g.app)
		id := grant.str("id")
		extend := "/v1/access-requests/" + id + "/extend"
		expires := parseTime(t, grant.JSON["expires_at"])

		r := g.must(200, g.do("POST", extend, g.aliceToken, map[string]any{"duration": "1h"}))
		require.Equal(t, expires.Add(time.Hour), parseTime(t, r.JSON["expires_at"]))
		require.Equal(t, "active", r.str("status"))
		read := g.must(200, g.do("GET", "/v1/access-requests/"+id, g.aliceToken, nil))
		require.Equal(t, r.JSON["expires_at"], read.JSON["expires_at"], "the projection has the new expiry")
		require.Len(t, g.auditEvents(workflows.ActionExtended), 1)

		// A retried extend with the same Idempotency-Key is applied once; a new key extends again.
		keyed := func(key string) response {
			b, err := json.Marshal(map[string]any{"duration": "1h"})
			require.NoError(t, err)
			req := httptest.NewRequest("POST", extend, bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+g.aliceToken)
			req.Header.Set("Idempotency-Key", key)
			w := httptest.NewRecorder()
			g.srv.ServeHTTP(w, req)
			r := response{Status: w.Code, Body: w.Body.Bytes()}
			require.NoError(t, json.Unmarshal(r.Body, &r.JSON), "body: %s", r.Body)
			return r
		}
		once := g.must(200, keyed("retry-1"))
		require.Equal(t, expires.Add(2*time.Hour), parseTime(t, once.JSON["expires_at"]))
		again := g.must(200, keyed("retry-1"))
		require.Equal(t, once.JSON["expires_at"], again.JSON["expires_at"], "the same key is applied once")
		require.Len(t, g.auditEvents(workflows.ActionExtended), 2)
		require.Equal(t, 400, keyed("has space").Status)

		refusals := []struct {
			name   string
			token  string
			body   any
			status int
			code   string
		}{
			{"a step past the application's duration (the workflow's lease)", g.aliceToken, map[string]any{"duration": "20h"}, 400, "duration_exceeds_maximum"},
			{"a step below the lease's minimum", g.aliceToken, map[string]any{"duration": "4m"}, 400, "invalid_duration"},
			{"zero", g.aliceToken, map[string]any{"duration": "0s"}, 400, "invalid_duration"},
			{"missing", g.aliceToken, map[string]any{}, 400, "invalid_duration"},
			{"not a duration", g.aliceToken, map[string]any{"duration": "a while"}, 400, "invalid_duration"},
			{"unknown field", g.aliceToken, map[string]any{"duration": "1h", "until": "never"}, 400, "unknown_field"},
			{"an admin", g.adminToken, map[string]any{"duration": "1h"}, 403, "forbidden"},
			{"another technician", g.bobToken, map[string]any{"duration": "1h"}, 404, "not_found"},
		}
		for _, tc := range refusals {
			r := g.do("POST", extend, tc.token, tc.body)
			require.Equal(t, tc.status, r.Status, "%s: %s", tc.name, r.Body)
			require.Equal(t, tc.code, r.errorCode(), "%s: %s", tc.name, r.Body)
		}
		require.Contains(t, g.do("POST", extend, g.aliceToken, map[string]any{"duration": "20h"}).errorMessage(), "4h0m0s this application allows")
		r = g.must(200, g.do("POST", extend, g.aliceToken, map[string]any{"duration": "4h"}))
		require.Equal(t, expires.Add(6*time.Hour), parseTime(t, r.JSON["expires_at"]))
		require.Len(t, g.auditEvents(workflows.ActionExtended), 3, "refusals change nothing")

		g.must(202, g.do("POST", "/v1/access-requests/"+id+"/revoke", g.aliceToken, nil))
		g.waitStatus(g.aliceToken, id, string(workflows.StatusRevoked))
		require.Equal(t, "grant_not_active", g.must(409, g.do("POST", extend, g.aliceToken, map[string]any{"duration": "1h"})).errorCode())
	})

	t.Run("lists: own grants for technicians, all for admins, filters, pages", func(t *testing.T) {
		g := newGrantEnv(t, c)
		second := g.openApplication(g.tenant, "Second")
		northwind := g.openApplication(g.otherTenant, "Northwind Entra")
		a1 := g.activeGrant(g.aliceToken, g.app).str("id")
		a2 := g.must(202, g.request(g.aliceToken, second)).str("id")
		b1 := g.must(202, g.request(g.bobToken, northwind)).str("id")
		g.waitStatus(g.bobToken, b1, string(workflows.StatusActive))
		// One account, one live grant: the second application on the same domain would give
		// alice's account to two grants, so it is denied while a1 lives.
		g.waitStatus(g.aliceToken, a2, string(workflows.StatusDenied))
		require.Contains(t, g.must(200, g.do("GET", "/v1/access-requests/"+a2, g.aliceToken, nil)).str("failure"), "in use by another live grant")

		ids := func(r response) []string {
			var out []string
			for _, it := range r.items() {
				out = append(out, it["id"].(string))
			}
			return out
		}
		list := func(token, query string) []string {
			return ids(g.must(200, g.do("GET", "/v1/access-requests"+query, token, nil)))
		}
		require.Equal(t, []string{a2, a1}, list(g.aliceToken, ""), "own grants, newest first")
		require.Equal(t, []string{b1}, list(g.bobToken, ""))
		require.Empty(t, list(g.aliceToken, "?technician_id="+g.bob), "a technician cannot list someone else's grants")
		require.Equal(t, []string{a2, a1}, list(g.aliceToken, "?technician_id="+g.alice))
		require.Empty(t, list(g.bobToken, "?tenant_id="+g.tenant))
		require.Equal(t, []string{a1}, list(g.aliceToken, "?status=active"))

		require.Equal(t, []string{b1, a2, a1}, list(g.adminToken, ""))
		require.Equal(t, []string{b1}, list(g.adminToken, "?technician_id="+g.bob))
		require.Equal(t, []string{a2, a1}, list(g.adminToken, "?tenant_id="+g.tenant))
		require.Equal(t, []string{a2}, list(g.adminToken, "?status=denied"))
		require.Equal(t, []string{a2}, list(g.adminToken, "?application_id="+second))
		require.Equal(t, []string{b1, a1}, list(g.adminToken, "?status=active"))

		p1 := g.must(200, g.do("GET", "/v1/access-requests?limit=2", g.adminToken, nil))
		require.Equal(t, []string{b1, a2}, ids(p1))
		cursor, _ := p1.JSON["next_cursor"].(string)
		require.NotEmpty(t, cursor)
		p2 := g.must(200, g.do("GET", "/v1/access-requests?limit=2&cursor="+url.QueryEscape(cursor), g.adminToken, nil))
		require.Equal(t, []string{a1}, ids(p2))
		require.Nil(t, p2.JSON["next_cursor"])

		require.Equal(t, "invalid_field", g.must(400, g.do("GET", "/v1/access-requests?status=sleeping", g.adminToken, nil)).errorCode())
		require.Equal(t, "invalid_field", g.must(400, g.do("GET", "/v1/access-requests?cursor=nonsense", g.adminToken, nil)).errorCode())
		require.Equal(t, "invalid_field", g.must(400, g.do("GET", "/v1/access-requests?limit=0", g.aliceToken, nil)).errorCode())

		// Admins get a link to the run in the Temporal UI.
		one := g.must(200, g.do("GET", "/v1/access-requests/"+a1, g.adminToken, nil))
		wantURL := temporalUI + "/namespaces/default/workflows/" + url.PathEscape(one.str("workflow_id")) + "/" + one.str("run_id")
		require.Equal(t, wantURL, one.str("temporal_url"))
		require.Contains(t, wantURL, "access%2Ftnt_")
		_, ok := g.must(200, g.do("GET", "/v1/access-requests/"+a1, g.aliceToken, nil)).JSON["temporal_url"]
		require.False(t, ok)
	})

	t.Run("authorization matrix of the technicians' routes", func(t *testing.T) {
		g := newGrantEnv(t, c)
		grant := g.activeGrant(g.aliceToken, g.app).str("id")

		type row struct {
			method, path string
			body         any
			// Expected status by caller.
			admin, owner, other int
		}
		rows := []row{
			{"GET", "/v1/me", nil, 200, 200, 200},
			{"GET", "/v1/me/applications", nil, 200, 200, 200},
			{"GET", "/v1/access-requests", nil, 200, 200, 200},
			// The owner holds a live grant (200); bob does not work for the tenant (404); the
			// admin is not a member (403 not_entitled).
			{"POST", "/v1/access-requests", map[string]any{"application_id": g.app}, 403, 200, 404},
			{"GET", "/v1/access-requests/:grant_id", nil, 200, 200, 404},
			{"GET", "/v1/access-requests/:grant_id/credentials", nil, 403, 200, 404},
			{"POST", "/v1/access-requests/:grant_id/extend", map[string]any{"duration": "5m"}, 403, 200, 404},
			// The grant is active, not waiting: the admin is an approver (409); the owner is
			// its requester (403 self_approval); bob is no approver (403 not_approver).
			{"POST", "/v1/access-requests/:grant_id/approve", map[string]any{}, 409, 403, 403},
			{"POST", "/v1/access-requests/:grant_id/deny", map[string]any{"comment": "no"}, 409, 403, 403},
			// Last: the owner's revoke is checked below on another grant.
			{"POST", "/v1/access-requests/:grant_id/revoke", map[string]any{}, 202, 0, 404},
		}
		param := regexp.MustCompile(`:[a-z_]+`)
		covered := map[string]bool{}
		for _, rw := range rows {
			covered[rw.method+" "+rw.path] = true
			path := param.ReplaceAllString(rw.path, grant)
			callers := []struct {
				name, token string
				want        int
			}{{"no token", "", 401}, {"technician of another tenant", g.bobToken, rw.other}, {"owner", g.aliceToken, rw.owner}, {"admin", g.adminToken, rw.admin}}
			for _, cl := range callers {
				if cl.want == 0 {
					continue
				}
				r := g.do(rw.method, path, cl.token, rw.body)
				require.Equal(t, cl.want, r.Status, "%s %s as %s: %s", rw.method, rw.path, cl.name, r.Body)
				if cl.want >= 400 {
					require.NotEmpty(t, r.errorCode(), "%s %s as %s", rw.method, rw.path, cl.name)
				}
			}
		}
		// Every technicians' route is in the table.
		for _, rt := range g.srv.Engine().Routes() {
			if strings.HasPrefix(rt.Path, "/v1/me") || strings.HasPrefix(rt.Path, "/v1/access-requests") {
				require.True(t, covered[rt.Method+" "+rt.Path], "%s %s has no row in the matrix", rt.Method, rt.Path)
			}
		}
		require.Len(t, covered, 10)

		g.waitStatus(g.aliceToken, grant, string(workflows.StatusRevoked))
		own := g.activeGrant(g.aliceToken, g.app).str("id")
		g.must(202, g.do("POST", "/v1/access-requests/"+own+"/revoke", g.aliceToken, map[string]any{}))
	})
}

// failingWorkflows is an engine that cannot be reached (or fails otherwise).
type failingWorkflows struct {
	stubWorkflows
	err error
}

func (f failingWorkflows) Start(context.Context, workflows.AccessRequestInput) (string, string, error) {
	return "", "", f.err
}

func TestAccessRequestEngineFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"unreachable", fmt.Errorf("start workflow: %w: dial tcp 10.0.0.7:7233: refused", access.ErrWorkflowsUnavailable), 503, "workflow_engine_unavailable"},
		{"other", fmt.Errorf("start workflow: secret-internal-detail"), 500, "internal_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(d *server.Deps) { d.Workflows = failingWorkflows{err: tc.err} })
			tenant := e.createTenant("Contoso")
			tech, token := e.createTechnician("alice@msp.example")
			e.must(204, e.do("PUT", "/v1/tenants/"+tenant+"/members/"+tech, e.adminToken, nil))
			app := e.readyApplication(tenant, "Entra")
			e.must(201, e.do("POST", "/v1/tenants/"+tenant+"/entitlements", e.adminToken, map[string]any{
				"name": "all", "condition": map[string]any{"type": "group", "group_id": "all-admins"}, "application_id": app}))

			r := e.do("POST", "/v1/access-requests", token, map[string]any{"application_id": app})
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
			require.Equal(t, tc.code, r.errorCode())
			require.NotContains(t, string(r.Body), "10.0.0.7")
			require.NotContains(t, string(r.Body), "secret-internal-detail")
			require.Empty(t, e.must(200, e.do("GET", "/v1/access-requests", token, nil)).items(), "no grant without a workflow")
		})
	}
}
