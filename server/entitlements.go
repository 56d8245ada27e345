package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
)

func (s *Server) entitlementRoutes(g *gin.RouterGroup) {
	g.GET("/tenants/:tenant_id/entitlements", s.listEntitlements)
	g.POST("/tenants/:tenant_id/entitlements", s.createEntitlement)
	g.GET("/tenants/:tenant_id/entitlements/:entitlement_id", s.getEntitlement)
	g.DELETE("/tenants/:tenant_id/entitlements/:entitlement_id", s.deleteEntitlement)
}

func (s *Server) createEntitlement(c *gin.Context) {
	var in access.EntitlementInput
	if !decodeJSON(c, &in) {
		return
	}
	r, err := s.svc.CreateEntitlement(c.Request.Context(), s.actor(c), c.Param("tenant_id"), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, viewRule(r))
}

func (s *Server) listEntitlements(c *gin.Context) {
	p, ok := page(c)
	if !ok {
		return
	}
	rs, next, err := s.deps.Store.Rules(c.Request.Context(), c.Param("tenant_id"), p)
	if err != nil {
		s.listError(c, err)
		return
	}
	out := make([]entitlementView, len(rs))
	for i, r := range rs {
		out[i] = viewRule(r)
	}
	c.JSON(http.StatusOK, list(out, next))
}

func (s *Server) getEntitlement(c *gin.Context) {
	if _, ok := s.tenant(c); !ok {
		return
	}
	r, err := s.deps.Store.Rule(c.Request.Context(), c.Param("tenant_id"), c.Param("entitlement_id"))
	if s.storeRefError(c, err) {
		return
	}
	c.JSON(http.StatusOK, viewRule(r))
}

func (s *Server) deleteEntitlement(c *gin.Context) {
	if err := s.svc.DeleteEntitlement(c.Request.Context(), s.actor(c), c.Param("tenant_id"), c.Param("entitlement_id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
