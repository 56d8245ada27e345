package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/store"
)

// maxNameLength bounds every display name (tenants, groups, applications, rules).

func (s *Server) tenantRoutes(g *gin.RouterGroup) {
	g.POST("/tenants", s.createTenant)
	g.GET("/tenants", s.listTenants)
	g.GET("/tenants/:tenant_id", s.getTenant)
}

func (s *Server) createTenant(c *gin.Context) {
	var in struct {
		Name string `json:"name"`
	}
	if !decodeJSON(c, &in) {
		return
	}
	t, err := s.svc.CreateTenant(c.Request.Context(), s.actor(c), in.Name)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, viewTenant(t))
}

func (s *Server) listTenants(c *gin.Context) {
	p, ok := page(c)
	if !ok {
		return
	}
	ts, next, err := s.deps.Store.Tenants(c.Request.Context(), p)
	if err != nil {
		s.listError(c, err)
		return
	}
	out := make([]tenantView, len(ts))
	for i, t := range ts {
		out[i] = viewTenant(t)
	}
	c.JSON(http.StatusOK, list(out, next))
}

func (s *Server) getTenant(c *gin.Context) {
	t, ok := s.tenant(c)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, viewTenant(t))
}

// tenant loads the path's tenant or answers 404.
func (s *Server) tenant(c *gin.Context) (store.Tenant, bool) {
	t, err := s.svc.Tenant(c.Request.Context(), c.Param("tenant_id"))
	if err != nil {
		s.fail(c, err)
		return t, false
	}
	return t, true
}
