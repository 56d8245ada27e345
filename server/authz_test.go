package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/server"
	"github.com/jitaccess/jitaccess/server/portal"
	"github.com/jitaccess/jitaccess/store"
)

// TestAuthorizationMatrix calls every registered /v1 route as an admin, a technician of the
// tenant, a technician of another tenant and without a token.
func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tenantA := e.createTenant("Contoso")
	tenantB := e.createTenant("Northwind")
	techA, tokenA := e.createTechnician("alice@msp.example")
	techB, tokenB := e.createTechnician("bob@msp.example")
	e.must(204, e.do("PUT", "/v1/tenants/"+tenantA+"/members/"+techA, e.adminToken, nil))
	e.must(204, e.do("PUT", "/v1/tenants/"+tenantB+"/members/"+techB, e.adminToken, nil))
	appID := e.readyApplication(tenantA, "Entra")
	groupID := e.must(201, e.do("POST", "/v1/tenants/"+tenantA+"/groups", e.adminToken, map[string]any{"name": "Tier 2"})).str("id")
	ruleID := e.must(201, e.do("POST", "/v1/tenants/"+tenantA+"/entitlements", e.adminToken, map[string]any{
		"name": "all", "condition": map[string]any{"type": "group", "group_id": "all-admins"}, "application_id": appID})).str("id")

	params := map[string]string{
		":tenant_id": tenantA, ":application_id": appID, ":group_id": groupID,
		":technician_id": techA, ":entitlement_id": ruleID, ":token_id": "tok_missing", ":report_id": "rep_missing", ":destination_id": "dst_missing",
	}
	fill := func(path string) string {
		for k, v := range params {
			path = strings.ReplaceAll(path, k, v)
		}
		require.NotContains(t, path, ":", "unknown path parameter in %s", path)
		return path
	}

	routes := e.srv.Engine().Routes()
	// Deletions last, so that they do not remove what other routes use.
	sort.SliceStable(routes, func(i, j int) bool { return routes[i].Method != "DELETE" && routes[j].Method == "DELETE" })

	callers := []struct {
		name, token string
		want        int
	}{
		{"no token", "", 401},
		{"technician of the tenant", tokenA, 403},
		{"technician of another tenant", tokenB, 403},
	}
	checked := 0
	for _, rt := range routes {
		path := fill(rt.Path)
		var body any
		if rt.Method == "POST" || rt.Method == "PATCH" {
			body = map[string]any{}
		}
		if !strings.HasPrefix(rt.Path, "/v1/") {
			r := e.do(rt.Method, path, "", body)
			require.NotContains(t, []int{401, 403}, r.Status, "%s %s is public", rt.Method, rt.Path)
			continue
		}
		if strings.HasSuffix(rt.Path, "/slack/interactions") { // Slack's request signing is the credential
			for _, token := range []string{"", tokenA, e.adminToken} {
				require.Equal(t, 401, e.do(rt.Method, path, token, body).Status, "an unsigned Slack callback is refused")
			}
			continue
		}
		if rt.Method == "POST" && rt.Path == "/v1/extension/sessions" { // the one-time code is the credential
			require.Equal(t, "invalid_code", e.must(400, e.do(rt.Method, path, "", map[string]any{})).errorCode())
			continue
		}
		if strings.HasPrefix(rt.Path, "/v1/tokens") || strings.HasPrefix(rt.Path, "/v1/extension/") { // every member of staff: their own tokens and extension sessions
			require.Equal(t, 401, e.do(rt.Method, path, "", body).Status)
			for _, token := range []string{tokenA, tokenB} {
				r := e.do(rt.Method, path, token, body)
				require.NotContains(t, []int{401, 403}, r.Status, "%s %s: %s", rt.Method, rt.Path, r.Body)
				require.Less(t, r.Status, 500, "%s %s: %s", rt.Method, rt.Path, r.Body)
			}
			continue
		}
		for _, c := range callers {
			r := e.do(rt.Method, path, c.token, body)
			require.Equal(t, c.want, r.Status, "%s %s as %s: %s", rt.Method, rt.Path, c.name, r.Body)
			require.NotEmpty(t, r.errorCode(), "%s %s as %s", rt.Method, rt.Path, c.name)
		}
		r := e.do(rt.Method, path, e.adminToken, body)
		require.NotContains(t, []int{401, 403}, r.Status, "%s %s as admin: %s", rt.Method, rt.Path, r.Body)
		require.Less(t, r.Status, 500, "%s %s as admin: %s", rt.Method, rt.Path, r.Body)
		checked++
	}
	require.Greater(t, checked, 25)

	// Refusals are audited as denials.
	evs, _, err := e.store.AuditEvents(ctx, store.AuditFilter{}, store.Page{Limit: store.MaxLimit})
	require.NoError(t, err)
	denied := 0
	for _, ev := range evs {
		if ev.Action == "auth.denied" {
			denied++
		}
	}
	require.Greater(t, denied, 0)
}

func TestFailedAuthenticationIsRateLimited(t *testing.T) {
	e := newEnv(t, func(d *server.Deps) { d.AuthFailureLimit = 3 })
	const attacker, other = "198.51.100.1:4000", "198.51.100.2:4000"
	for range 3 {
		r := e.request("GET", "/v1/tenants", "jit_wrong", "", nil, attacker)
		require.Equal(t, 401, r.Status)
		require.Equal(t, "unauthenticated", r.errorCode())
	}
	r := e.request("GET", "/v1/tenants", "jit_wrong", "", nil, attacker)
	require.Equal(t, 429, r.Status)
	require.Equal(t, "too_many_requests", r.errorCode())
	require.NotEmpty(t, r.Header.Get("Retry-After"))
	// Only failing credentials are limited: a good token is never locked out, not even from
	// the attacker's address.
	require.Equal(t, 200, e.request("GET", "/v1/tenants", e.adminToken, "", nil, attacker).Status, "a good token is not locked out")
	require.Equal(t, 200, e.request("GET", "/v1/tenants", e.adminToken, "", nil, other).Status)
	// Missing tokens count too.
	for range 3 {
		e.request("GET", "/v1/tenants", "", "", nil, other)
	}
	require.Equal(t, 429, e.request("GET", "/v1/tenants", "", "", nil, other).Status)
	require.Equal(t, 200, e.request("GET", "/v1/tenants", e.adminToken, "", nil, other).Status)
	// Failures past the limit are not written to the audit log.
	evs, _, err := e.store.AuditEvents(context.Background(), store.AuditFilter{}, store.Page{Limit: 200})
	require.NoError(t, err)
	failed := 0
	for _, ev := range evs {
		if ev.Action == "auth.failed" {
			failed++
		}
	}
	require.Equal(t, 3, failed)
}

// TestTrustedProxies: behind a configured proxy the forwarded client address is the one
// counted, so one attacker behind the proxy does not lock out everyone else; from an
// untrusted peer the header is ignored.
func TestTrustedProxies(t *testing.T) {
	const proxy = "192.0.2.10:5000"
	e := newEnv(t, func(d *server.Deps) { d.AuthFailureLimit = 2; d.TrustedProxies = []string{"192.0.2.10"} })
	via := func(token, forwardedFor, peer string) int {
		req := httptest.NewRequest("GET", "/v1/tenants", nil)
		req.RemoteAddr = peer
		req.Header.Set("X-Forwarded-For", forwardedFor)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, req)
		return w.Code
	}
	for range 2 {
		require.Equal(t, 401, via("jit_wrong", "203.0.113.66", proxy))
	}
	require.Equal(t, 429, via("jit_wrong", "203.0.113.66", proxy))
	require.Equal(t, 401, via("jit_wrong", "203.0.113.77", proxy), "another client behind the proxy is not locked out")
	// An untrusted peer cannot pick the counted address with the header.
	for range 2 {
		via("jit_wrong", "203.0.113.1", "198.51.100.9:1")
	}
	require.Equal(t, 429, via("jit_wrong", "203.0.113.2", "198.51.100.9:1"))
}

// TestOpenAPIMatchesRoutes checks that every registered route is documented and every
// documented operation exists.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t, withStubWorkflows) // serves the technicians' routes too
	r := e.must(200, e.do("GET", "/openapi.json", "", nil))
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &doc))
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3."))

	param := regexp.MustCompile(`:([a-z_]+)`)
	registered := map[string]bool{}
	for _, rt := range e.srv.Engine().Routes() {
		if portal.IsPortalRoute(rt.Path) { // the portal's HTML pages are not the API
			continue
		}
		registered[rt.Method+" "+param.ReplaceAllString(rt.Path, "{$1}")] = true
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if method == "parameters" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = true
			// Every path parameter is declared.
			for _, m := range regexp.MustCompile(`\{([a-z_]+)\}`).FindAllStringSubmatch(path, -1) {
				require.Contains(t, fmt.Sprint(op), "name:"+m[1], "%s %s does not declare %s", method, path, m[1])
			}
		}
	}
	for k := range registered {
		require.True(t, documented[k], "route %s is not documented in openapi.json", k)
	}
	for k := range documented {
		require.True(t, registered[k], "openapi.json documents %s, which the server does not serve", k)
	}
}
