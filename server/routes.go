package server

import (
	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/store"
)

// routes wires middleware and route groups. Each group registers its own routes from its
// own file; a new group (for example the technicians' /v1/me and /v1/access-requests) adds a
// register function to the matching list below.
func (s *Server) routes() {
	r := s.engine
	r.Use(s.recoverJSON, s.tracing(), s.requestID, s.observe, s.extensionCORS)
	r.NoRoute(func(c *gin.Context) { abort(c, 404, "not_found", "There is no such endpoint.") })
	r.NoMethod(func(c *gin.Context) {
		abort(c, 405, "method_not_allowed", "The endpoint does not support this method.")
	})

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/openapi.json", s.openAPI)
	if s.deps.Gatherer != nil {
		r.GET("/metrics", gin.WrapH(MetricsHandler(s.deps.Gatherer)))
	}
	r.GET("/oauth/callback", s.oauthCallback)
	s.temporalUIRoutes(r)

	// The web portal (HTML, session cookies) at /; its pages call the same methods as the API.
	s.portalRoutes(r)

	// The extension's code-for-session exchange: the one-time code is the credential.
	r.POST("/v1/extension/sessions", s.limitBody, s.requireJSON, s.createExtensionSession)
	// Slack's Approve / Deny buttons: the request signing is the credential.
	s.slackRoute(r)

	// Everything else under /v1 is JSON, authenticated, and size-limited.
	v1 := r.Group("/v1", s.limitBody, s.requireJSON, s.authenticate)

	// Routes any authenticated member of staff may call; handlers check ownership themselves.
	s.tokenRoutes(v1)
	s.extensionRoutes(v1)
	staff := s.staffRoutes()
	readers := v1.Group("", s.auditorGate)
	for _, register := range staff {
		register(readers)
	}
	s.auditRoutes(v1.Group("", s.requireAdminOrAuditor))
	s.reportRoutes(v1.Group("", s.requireAdminOrAuditor))

	admin := v1.Group("", s.requireRole(store.RoleAdmin))
	for _, register := range []func(*gin.RouterGroup){
		s.tenantRoutes,
		s.technicianRoutes,
		s.auditorTenantRoutes,
		s.memberRoutes,
		s.groupRoutes,
		s.applicationRoutes,
		s.directoryRoutes,
		s.entitlementRoutes,
		s.notificationRoutes,
	} {
		register(admin)
	}
}
