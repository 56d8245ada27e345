package server

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/permission"
	"github.com/jitaccess/jitaccess/store"
)

// staffActions maps the staff routes to what they do, for the permission matrix.
var staffActions = map[string]permission.Action{
	"POST /v1/access-requests":                      permission.RequestAccess,
	"GET /v1/access-requests":                       permission.ReadGrants,
	"GET /v1/access-requests/:grant_id":             permission.ReadGrants,
	"GET /v1/access-requests/:grant_id/credentials": permission.ReadCredentials,
	"POST /v1/access-requests/:grant_id/revoke":     permission.RevokeGrant,
	"POST /v1/access-requests/:grant_id/extend":     permission.RequestAccess,
	"GET /v1/me":                      permission.ReadGrants,
	"GET /v1/me/applications":         permission.ReadGrants,
	"GET /v1/audit-events":            permission.ReadAudit,
	"GET /v1/reports":                 permission.GenerateReport,
	"GET /v1/reports/kept":            permission.ReadReports,
	"GET /v1/reports/kept/:report_id": permission.ReadReports,
}

// principal is what the permission matrix needs to know about the actor.
func (s *Server) principal(ctx context.Context, a access.Actor) (permission.Principal, error) {
	return s.deps.Store.Principal(ctx, a.Technician)
}

// auditorGate lets an auditor through only to what the permission matrix allows them (reads);
// other roles pass to the checks they had before.
func (s *Server) auditorGate(c *gin.Context) {
	u := currentUser(c)
	if u.Role != store.RoleAuditor {
		c.Next()
		return
	}
	p, err := s.principal(c.Request.Context(), s.actor(c))
	if err != nil {
		s.internal(c, err)
		return
	}
	action, known := staffActions[c.Request.Method+" "+c.FullPath()]
	if !known || !permission.Allowed(p, action, "") {
		s.audit(c, store.AuditEvent{ActorID: u.ID, ActorKind: u.Role, Action: "auth.denied",
			Target: c.FullPath(), Details: map[string]any{"method": c.Request.Method, "role": u.Role}})
		abort(c, http.StatusForbidden, "forbidden", "Auditors have read-only access to grants, audit events and reports.")
		return
	}
	c.Next()
}

// requireAdminOrAuditor guards the routes both admins and auditors read.
func (s *Server) requireAdminOrAuditor(c *gin.Context) {
	if currentUser(c).Role == store.RoleAuditor {
		s.auditorGate(c)
		return
	}
	s.requireRole(store.RoleAdmin)(c)
}

// auditorTenant narrows a listing's tenant filter to an auditor's scope: ok is false when the
// auditor may see nothing of what was asked.
func auditorTenant(p permission.Principal, tenantID string) (string, *access.Error, bool) {
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
