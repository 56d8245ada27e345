package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jitaccess/jitaccess/server/api"
)

func (s *API) directoryRoutes(g *gin.RouterGroup) {
	g.GET("/tenants/:tenant_id/applications/:application_id/directory/domains", s.listDomains)
	g.GET("/tenants/:tenant_id/applications/:application_id/directory/roles", s.listRoles)
}

func (s *API) listDomains(c *gin.Context) {
	ds, err := s.Svc.ApplicationDomains(c.Request.Context(), s.Actor(c), c.Param("tenant_id"), c.Param("application_id"))
	if err != nil {
		s.Fail(c, err)
		return
	}
	out := make([]domainView, len(ds))
	for i, d := range ds {
		out[i] = viewDomain(d)
	}
	c.JSON(http.StatusOK, api.List(out, ""))
}

func (s *API) listRoles(c *gin.Context) {
	rs, err := s.Svc.ApplicationRoles(c.Request.Context(), s.Actor(c), c.Param("tenant_id"), c.Param("application_id"))
	if err != nil {
		s.Fail(c, err)
		return
	}
	out := make([]roleView, len(rs))
	for i, r := range rs {
		out[i] = viewRole(r)
	}
	c.JSON(http.StatusOK, api.List(out, ""))
}
