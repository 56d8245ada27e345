package server_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// encoding/json alone would take {"NAME":…} for "name" and let a repeated key win silently.
func TestJSONKeysAreExactAndUnique(t *testing.T) {
	e := newEnv(t)
	tenant := e.createTenant("Contoso")
	for _, tc := range []struct {
		name, path, body, code, message string
	}{
		{"other case", "/v1/tenants", `{"NAME":"x"}`, "unknown_field", `"NAME"`},
		{"duplicate", "/v1/tenants", `{"name":"a","name":"b"}`, "duplicate_field", `"name"`},
		{"nested other case", "/v1/tenants/" + tenant + "/entitlements",
			`{"name":"r","condition":{"Type":"group","group_id":"all-admins"},"application_id":"app_x"}`, "unknown_field", `"condition.Type"`},
		{"nested duplicate", "/v1/tenants/" + tenant + "/entitlements",
			`{"name":"r","condition":{"type":"group","type":"technician"},"application_id":"app_x"}`, "duplicate_field", `"condition.type"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.request("POST", tc.path, e.adminToken, "application/json", strings.NewReader(tc.body), "")
			require.Equal(t, 400, r.Status)
			require.Equal(t, tc.code, r.errorCode())
			require.Contains(t, r.errorMessage(), tc.message)
		})
	}
	// Exact names still work.
	require.Equal(t, 201, e.request("POST", "/v1/tenants", e.adminToken, "application/json", strings.NewReader(`{"name":"Fabrikam"}`), "").Status)
}
