package web

import (
	"context"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/permission"
)

// Principal is what the permission matrix needs to know about the actor.
func (b *Base) Principal(ctx context.Context, a access.Actor) (permission.Principal, error) {
	return b.Deps.Store.Principal(ctx, a.Technician)
}

// AuditorTenant narrows a listing's tenant filter to an auditor's scope: ok is false when the
// auditor may see nothing of what was asked.
func AuditorTenant(p permission.Principal, tenantID string) (string, *access.Error, bool) {
	switch {
	case tenantID != "":
		return tenantID, nil, p.Scope.Contains(tenantID)
	case p.Scope.All:
		return "", nil, true
	case len(p.Scope.Tenants) == 1:
		return p.Scope.Tenants[0], nil, true
	case len(p.Scope.Tenants) == 0:
		return "", nil, false
	}
	return "", access.FieldError("tenant_id", "is required: you audit more than one tenant."), false
}
