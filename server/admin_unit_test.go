package server_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/directory"
)

func (f *fakeDirectory) EnsureRestrictedUnit(_ context.Context, _, recorded string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.units = append(f.units, recorded)
	if f.unitOff {
		return "", fmt.Errorf("ensure: %w", directory.ErrRestrictedUnitRefused)
	}
	if recorded != "" {
		return recorded, nil
	}
	return "au-1", nil
}

// PATCH restricted_admin_unit: off by default; on is checked live and a tenant refusal is 400
// restricted_admin_unit_refused naming Privileged Role Administrator; off/on reuses the unit.
func TestApplicationRestrictedAdminUnit(t *testing.T) {
	e := newEnv(t)
	tnt := e.createTenant("Contoso")
	appID := e.readyApplication(tnt, "Contoso admin")
	path := fmt.Sprintf("/v1/tenants/%s/applications/%s", tnt, appID)

	r := e.must(200, e.do("GET", path, e.adminToken, nil))
	assert.Equal(t, false, r.JSON["restricted_admin_unit"], "off by default")

	e.dir.mu.Lock()
	e.dir.unitOff = true
	e.dir.mu.Unlock()
	r = e.do("PATCH", path, e.adminToken, map[string]any{"restricted_admin_unit": true})
	require.Equal(t, 400, r.Status, "body: %s", r.Body)
	assert.Equal(t, "restricted_admin_unit_refused", r.errorCode())
	assert.Contains(t, r.errorMessage(), "Privileged Role Administrator")
	assert.Equal(t, false, e.must(200, e.do("GET", path, e.adminToken, nil)).JSON["restricted_admin_unit"])

	e.dir.mu.Lock()
	e.dir.unitOff = false
	e.dir.mu.Unlock()
	r = e.must(200, e.do("PATCH", path, e.adminToken, map[string]any{"restricted_admin_unit": true}))
	assert.Equal(t, true, r.JSON["restricted_admin_unit"])
	e.must(200, e.do("PATCH", path, e.adminToken, map[string]any{"restricted_admin_unit": false}))
	r = e.must(200, e.do("PATCH", path, e.adminToken, map[string]any{"restricted_admin_unit": true}))
	assert.Equal(t, true, r.JSON["restricted_admin_unit"])
	e.dir.mu.Lock()
	assert.Equal(t, []string{"", "", "au-1"}, e.dir.units, "refused, created, reused")
	e.dir.mu.Unlock()
}
