package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/server/api"
	"github.com/jitaccess/jitaccess/store"
)

// maxNameLength bounds every display name (tenants, groups, applications, rules).

func (s *API) tenantRoutes(g *gin.RouterGroup) {
	g.POST("/tenants", s.createTenant)
	g.GET("/tenants", s.listTenants)
	g.GET("/tenants/:tenant_id", s.getTenant)
}

func (s *API) createTenant(c *gin.Context) {
	var in struct {
		Name string `json:"name"`
	}
	if !api.DecodeJSON(c, &in) {
		return
	}
	t, err := s.Svc.CreateTenant(c.Request.Context(), s.Actor(c), in.Name)
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, viewTenant(t))
}

func (s *API) listTenants(c *gin.Context) {
	p, ok := api.Page(c)
	if !ok {
		return
	}
	ts, next, err := s.Deps.Store.Tenants(c.Request.Context(), p)
	if err != nil {
		s.ListError(c, err)
		return
	}
	out := make([]tenantView, len(ts))
	for i, t := range ts {
		out[i] = viewTenant(t)
	}
	c.JSON(http.StatusOK, api.List(out, next))
}

func (s *API) getTenant(c *gin.Context) {
	t, ok := s.tenant(c)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, viewTenant(t))
}

// tenant loads the path's tenant or answers 404.
func (s *API) tenant(c *gin.Context) (store.Tenant, bool) {
	t, err := s.Svc.Tenant(c.Request.Context(), c.Param("tenant_id"))
	if err != nil {
		s.Fail(c, err)
		return t, false
	}
	return t, true
}
