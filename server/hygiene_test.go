package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/server"
	"github.com/jitaccess/jitaccess/server/web"
)

func TestInputHygiene(t *testing.T) {
	e := newEnv(t)
	post := func(contentType, body string) response {
		return e.request("POST", "/v1/tenants", e.adminToken, contentType, strings.NewReader(body), "")
	}

	r := e.must(415, post("text/plain", `{"name":"x"}`))
	require.Equal(t, "unsupported_media_type", r.errorCode())
	e.must(415, post("", `{"name":"x"}`))
	e.must(201, post("application/json; charset=utf-8", `{"name":"charset ok"}`))

	r = e.must(400, post("application/json", `{"name":"x","colour":"red"}`))
	require.Equal(t, "unknown_field", r.errorCode())
	require.Contains(t, r.errorMessage(), "colour")

	r = e.must(400, post("application/json", `{"name":42}`))
	require.Equal(t, "invalid_field", r.errorCode())
	require.Contains(t, r.errorMessage(), "name")

	for _, body := range []string{`{"name":`, `not json`, `{"name":"a"}{"name":"b"}`, `[1,2]`} {
		r = e.must(400, post("application/json", body))
		require.Equal(t, "invalid_json", r.errorCode(), body)
	}
	r = e.must(400, e.request("POST", "/v1/tenants", e.adminToken, "application/json", nil, ""))
	require.Equal(t, "invalid_json", r.errorCode())

	r = e.must(400, post("application/json", `{"name":"   "}`))
	require.Equal(t, "invalid_field", r.errorCode())
	require.Contains(t, r.errorMessage(), "name")

	// Bodies over 64 KiB: declared length and streamed.
	big := `{"name":"` + strings.Repeat("a", web.MaxBodyBytes) + `"}`
	r = e.must(413, post("application/json", big))
	require.Equal(t, "body_too_large", r.errorCode())
	streamed := e.request("POST", "/v1/tenants", e.adminToken, "application/json", struct{ *bytes.Reader }{bytes.NewReader([]byte(big))}, "")
	require.Equal(t, 413, streamed.Status, "%s", streamed.Body)

	// Technicians: e-mail and role are validated.
	r = e.must(400, e.do("POST", "/v1/technicians", e.adminToken, map[string]any{"email": "not-an-email", "display_name": "X"}))
	require.Contains(t, r.errorMessage(), "email")
	r = e.must(400, e.do("POST", "/v1/technicians", e.adminToken, map[string]any{"email": "x@msp.example", "display_name": "X", "role": "root"}))
	require.Contains(t, r.errorMessage(), "role")
	e.createTechnician("dup@msp.example")
	r = e.must(409, e.do("POST", "/v1/technicians", e.adminToken, map[string]any{"email": "DUP@msp.example", "display_name": "X"}))
	require.Equal(t, "already_exists", r.errorCode())

	// Applications: type and credentials are fixed.
	tenantID := e.createTenant("Contoso")
	r = e.must(400, e.do("POST", "/v1/tenants/"+tenantID+"/applications", e.adminToken, map[string]any{"name": "A", "type": "saml", "credentials": "entra_oidc"}))
	require.Contains(t, r.errorMessage(), "type")
	r = e.must(400, e.do("POST", "/v1/tenants/"+tenantID+"/applications", e.adminToken, map[string]any{"name": "A", "type": "web", "credentials": "password"}))
	require.Contains(t, r.errorMessage(), "credentials")
	e.must(404, e.do("POST", "/v1/tenants/tnt_missing/applications", e.adminToken, map[string]any{"name": "A", "type": "web", "credentials": "entra_oidc"}))

	// Entitlements: condition shapes and references.
	appID := e.createApplication(tenantID, "Entra")
	for body, field := range map[string]string{
		`{"name":"r","application_id":"` + appID + `"}`:                                                    "condition",
		`{"name":"r","condition":{"type":"role"},"application_id":"` + appID + `"}`:                        "condition.type",
		`{"name":"r","condition":{"type":"group"},"application_id":"` + appID + `"}`:                       "condition.group_id",
		`{"name":"r","condition":{"type":"technician"},"application_id":"` + appID + `"}`:                  "condition.technician_id",
		`{"name":"r","condition":{"type":"group","group_id":"grp_nope"},"application_id":"` + appID + `"}`: "condition.group_id",
		`{"name":"r","condition":{"type":"group","group_id":"all-admins"},"application_id":"app_nope"}`:    "application_id",
		`{"name":"r","condition":{"type":"group","group_id":"all-admins","extra":1},"application_id":"x"}`: "extra",
	} {
		r = e.must(400, e.request("POST", "/v1/tenants/"+tenantID+"/entitlements", e.adminToken, "application/json", strings.NewReader(body), ""))
		require.Contains(t, r.errorMessage(), field, body)
	}

	// Pagination: limit and cursor are checked; pages walk the list newest first.
	for i := range 5 {
		e.createTenant(fmt.Sprintf("Page %d", i))
	}
	r = e.must(400, e.do("GET", "/v1/tenants?limit=0", e.adminToken, nil))
	require.Contains(t, r.errorMessage(), "limit")
	e.must(400, e.do("GET", "/v1/tenants?limit=abc", e.adminToken, nil))
	r = e.must(400, e.do("GET", "/v1/tenants?cursor=bogus", e.adminToken, nil))
	require.Contains(t, r.errorMessage(), "cursor")
	seen := map[string]bool{}
	next := ""
	for pages := 0; pages < 10; pages++ {
		r = e.must(200, e.do("GET", "/v1/tenants?limit=2&cursor="+next, e.adminToken, nil))
		require.LessOrEqual(t, len(r.items()), 2)
		for _, it := range r.items() {
			seen[it["id"].(string)] = true
		}
		if r.JSON["next_cursor"] == nil {
			break
		}
		next = r.JSON["next_cursor"].(string)
	}
	require.Len(t, seen, 7)
	r = e.must(200, e.do("GET", "/v1/tenants?limit=1", e.adminToken, nil))
	require.Contains(t, r.items()[0]["name"], "Page 4", "newest first")

	// Unknown routes and methods answer JSON errors.
	r = e.must(404, e.do("GET", "/v1/nothing-here", e.adminToken, nil))
	require.Equal(t, "not_found", r.errorCode())
	r = e.must(405, e.do("DELETE", "/v1/tenants", e.adminToken, nil))
	require.Equal(t, "method_not_allowed", r.errorCode())

	// Audit filters are validated.
	r = e.must(400, e.do("GET", "/v1/audit-events?since=yesterday", e.adminToken, nil))
	require.Contains(t, r.errorMessage(), "since")
	r = e.must(200, e.do("GET", "/v1/audit-events?since=2000-01-01T00:00:00Z&limit=3", e.adminToken, nil))
	require.Len(t, r.items(), 3)
	require.NotNil(t, r.JSON["next_cursor"])
}

func TestErrorsDoNotLeakInternals(t *testing.T) {
	e := newEnv(t)
	tenantID := e.createTenant("Contoso")
	appID := e.createApplication(tenantID, "Entra")
	e.must(200, e.authorize(tenantID, appID))
	appPath := "/v1/tenants/" + tenantID + "/applications/" + appID

	e.dir.domainErr = &directory.GraphError{Op: "list domains", Status: 500, Code: "InternalServerError", Message: "stack trace at 10.0.0.7", RequestID: "abc"}
	r := e.must(502, e.do("GET", appPath+"/directory/domains", e.adminToken, nil))
	require.Equal(t, "directory_error", r.errorCode())
	require.NotContains(t, string(r.Body), "10.0.0.7")

	e.dir.domainErr = fmt.Errorf("wrapped: %w", directory.ErrAuthorizationLost)
	r = e.must(409, e.do("PATCH", appPath, e.adminToken, map[string]any{"domain": "contoso.com"}))
	require.Equal(t, "authorization_lost", r.errorCode())

	e.dir.domainErr = &directory.ThrottledError{Op: "list domains", RetryAfter: 7_000_000_000}
	r = e.must(503, e.do("GET", appPath+"/directory/domains", e.adminToken, nil))
	require.Equal(t, "7", r.Header.Get("Retry-After"))

	// A broken database: 500 without the driver's words.
	require.NoError(t, e.store.DB().Close())
	r = e.must(500, e.do("GET", "/v1/tenants", e.adminToken, nil))
	require.Equal(t, "internal_error", r.errorCode())
	require.NotContains(t, strings.ToLower(string(r.Body)), "sql")
	require.NotContains(t, strings.ToLower(string(r.Body)), "closed")
}

func TestHealthReadinessMetrics(t *testing.T) {
	temporalDown := false
	e := newEnv(t, func(d *server.Deps) {
		d.ReadyChecks = []server.Check{{Name: "temporal", Check: func(context.Context) error {
			if temporalDown {
				return errors.New("dial tcp 127.0.0.1:7233: connection refused")
			}
			return nil
		}}}
	})
	r := e.must(200, e.do("GET", "/healthz", "", nil))
	require.Equal(t, "ok", r.str("status"))
	r = e.must(200, e.do("GET", "/readyz", "", nil))
	require.Equal(t, map[string]any{"database": "ok", "temporal": "ok"}, r.JSON["checks"])

	temporalDown = true
	r = e.must(503, e.do("GET", "/readyz", "", nil))
	require.Equal(t, "not_ready", r.errorCode())
	require.Contains(t, r.errorMessage(), "temporal")
	require.NotContains(t, r.errorMessage(), "database")
	require.NotContains(t, string(r.Body), "7233")

	r = e.must(200, e.do("GET", "/metrics", "", nil))
	require.Contains(t, string(r.Body), `jitaccess_http_requests_total{code="503",method="GET",route="/readyz"} 1`)
	require.Contains(t, string(r.Body), "jitaccess_http_request_duration_seconds")
}
