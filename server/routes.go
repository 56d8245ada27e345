package server

import (
	"github.com/gin-gonic/gin"

	apiadmin "github.com/jitaccess/jitaccess/server/api/admin"
	portaladmin "github.com/jitaccess/jitaccess/server/portal/admin"
	"github.com/jitaccess/jitaccess/server/web"
)

// routes wires the middleware every request passes and mounts the front ends: each registers
// its own routes, the admins' packages on the groups their front end hands them.
func (s *Server) routes() {
	r := s.engine
	r.Use(s.recoverJSON, s.tracing(), s.requestID, s.observe, s.api.ExtensionCORS)
	r.NoRoute(func(c *gin.Context) { web.Abort(c, 404, "not_found", "There is no such endpoint.") })
	r.NoMethod(func(c *gin.Context) {
		web.Abort(c, 405, "method_not_allowed", "The endpoint does not support this method.")
	})

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/openapi.json", s.openAPI)
	if s.Deps.Gatherer != nil {
		r.GET("/metrics", gin.WrapH(MetricsHandler(s.Deps.Gatherer)))
	}
	r.GET("/oauth/callback", s.consent.Handle)
	s.temporalUIRoutes(r)

	// The web portal (HTML, session cookies) at /; its pages call the same service as the API.
	in, admin := s.portal.Routes(r)
	portaladmin.New(s.portal).Routes(in, admin)

	// The JSON API under /v1 (and Slack's callback, whose request signing is its credential).
	apiadmin.New(s.api).Routes(r, s.api.Routes(r))
}
