package server_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// PATCH sign_in_method: saved and shown when valid; a TAP method is refused with
// tap_policy_disabled, naming the policy setting, while the tenant's policy is off.
func TestApplicationSignInMethod(t *testing.T) {
	e := newEnv(t)
	tnt := e.createTenant("Contoso")
	appID := e.readyApplication(tnt, "Contoso admin")
	path := fmt.Sprintf("/v1/tenants/%s/applications/%s", tnt, appID)

	r := e.must(200, e.do("GET", path, e.adminToken, nil))
	assert.Equal(t, "password_and_tap", r.str("sign_in_method"), "a new application's default")

	tests := []struct {
		name   string
		tapOff bool
		method string
		status int
		code   string
		want   string // the method shown afterwards
	}{
		{"password", false, "password", 200, "", "password"},
		{"tap with the policy on", false, "tap", 200, "", "tap"},
		{"unknown method", false, "sms", 400, "invalid_field", "tap"},
		{"tap with the policy off", true, "password_and_tap", 400, "tap_policy_disabled", "tap"},
		{"password with the policy off", true, "password", 200, "", "password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.dir.mu.Lock()
			e.dir.tapOff = tc.tapOff
			e.dir.mu.Unlock()
			r := e.do("PATCH", path, e.adminToken, map[string]any{"sign_in_method": tc.method})
			require.Equal(t, tc.status, r.Status, "body: %s", r.Body)
			if tc.code != "" {
				assert.Equal(t, tc.code, r.errorCode())
			}
			if tc.code == "tap_policy_disabled" {
				assert.Contains(t, r.errorMessage(), "Authentication methods > Policies > Temporary Access Pass")
			}
			got := e.must(200, e.do("GET", path, e.adminToken, nil))
			assert.Equal(t, tc.want, got.str("sign_in_method"))
		})
	}
}
