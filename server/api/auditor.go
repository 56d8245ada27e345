package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/permission"
	"github.com/jitaccess/jitaccess/server/web"
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

// auditorGate lets an auditor through only to what the permission matrix allows them (reads);
// other roles pass to the checks they had before.
func (s *API) auditorGate(c *gin.Context) {
	u := web.CurrentUser(c)
	if u.Role != store.RoleAuditor {
		c.Next()
		return
	}
	p, err := s.Principal(c.Request.Context(), s.Actor(c))
	if err != nil {
		s.Internal(c, err)
		return
	}
	action, known := staffActions[c.Request.Method+" "+c.FullPath()]
	if !known || !permission.Allowed(p, action, "") {
		s.Audit(c, store.AuditEvent{ActorID: u.ID, ActorKind: u.Role, Action: "auth.denied",
			Target: c.FullPath(), Details: map[string]any{"method": c.Request.Method, "role": u.Role}})
		web.Abort(c, http.StatusForbidden, "forbidden", "Auditors have read-only access to grants, audit events and reports.")
		return
	}
	c.Next()
}

// requireAdminOrAuditor guards the routes both admins and auditors read.
func (s *API) requireAdminOrAuditor(c *gin.Context) {
	if web.CurrentUser(c).Role == store.RoleAuditor {
		s.auditorGate(c)
		return
	}
	s.requireRole(store.RoleAdmin)(c)
}
