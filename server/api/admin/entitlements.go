package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/server/api"
)

func (s *API) entitlementRoutes(g *gin.RouterGroup) {
	g.GET("/tenants/:tenant_id/entitlements", s.listEntitlements)
	g.POST("/tenants/:tenant_id/entitlements", s.createEntitlement)
	g.GET("/tenants/:tenant_id/entitlements/:entitlement_id", s.getEntitlement)
	g.DELETE("/tenants/:tenant_id/entitlements/:entitlement_id", s.deleteEntitlement)
}

func (s *API) createEntitlement(c *gin.Context) {
	var in access.EntitlementInput
	if !api.DecodeJSON(c, &in) {
		return
	}
	r, err := s.Svc.CreateEntitlement(c.Request.Context(), s.Actor(c), c.Param("tenant_id"), in)
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, viewRule(r))
}

func (s *API) listEntitlements(c *gin.Context) {
	p, ok := api.Page(c)
	if !ok {
		return
	}
	rs, next, err := s.Deps.Store.Rules(c.Request.Context(), c.Param("tenant_id"), p)
	if err != nil {
		s.ListError(c, err)
		return
	}
	out := make([]entitlementView, len(rs))
	for i, r := range rs {
		out[i] = viewRule(r)
	}
	c.JSON(http.StatusOK, api.List(out, next))
}

func (s *API) getEntitlement(c *gin.Context) {
	if _, ok := s.tenant(c); !ok {
		return
	}
	r, err := s.Deps.Store.Rule(c.Request.Context(), c.Param("tenant_id"), c.Param("entitlement_id"))
	if s.storeRefError(c, err) {
		return
	}
	c.JSON(http.StatusOK, viewRule(r))
}

func (s *API) deleteEntitlement(c *gin.Context) {
	if err := s.Svc.DeleteEntitlement(c.Request.Context(), s.Actor(c), c.Param("tenant_id"), c.Param("entitlement_id")); err != nil {
		s.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
