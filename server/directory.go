package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

func (s *Server) directoryRoutes(g *gin.RouterGroup) {
	g.GET("/tenants/:tenant_id/applications/:application_id/directory/domains", s.listDomains)
	g.GET("/tenants/:tenant_id/applications/:application_id/directory/roles", s.listRoles)
}

func (s *Server) listDomains(c *gin.Context) {
	ds, err := s.svc.ApplicationDomains(c.Request.Context(), s.actor(c), c.Param("tenant_id"), c.Param("application_id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]domainView, len(ds))
	for i, d := range ds {
		out[i] = viewDomain(d)
	}
	c.JSON(http.StatusOK, list(out, ""))
}

func (s *Server) listRoles(c *gin.Context) {
	rs, err := s.svc.ApplicationRoles(c.Request.Context(), s.actor(c), c.Param("tenant_id"), c.Param("application_id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]roleView, len(rs))
	for i, r := range rs {
		out[i] = viewRole(r)
	}
	c.JSON(http.StatusOK, list(out, ""))
}
