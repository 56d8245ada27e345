package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/server/api"
	"github.com/jitaccess/jitaccess/store"
)

func (s *API) groupRoutes(g *gin.RouterGroup) {
	g.GET("/tenants/:tenant_id/groups", s.listGroups)
	g.POST("/tenants/:tenant_id/groups", s.createGroup)
	g.GET("/tenants/:tenant_id/groups/:group_id", s.getGroup)
	g.DELETE("/tenants/:tenant_id/groups/:group_id", s.deleteGroup)
	g.PUT("/tenants/:tenant_id/groups/:group_id/members/:technician_id", s.putGroupMember)
	g.DELETE("/tenants/:tenant_id/groups/:group_id/members/:technician_id", s.deleteGroupMember)
}

func (s *API) listGroups(c *gin.Context) {
	gs, err := s.Deps.Store.Groups(c.Request.Context(), c.Param("tenant_id"))
	if s.storeRefError(c, err) {
		return
	}
	out := make([]groupView, len(gs))
	for i, g := range gs {
		out[i] = viewGroup(g)
	}
	c.JSON(http.StatusOK, api.List(out, ""))
}

func (s *API) createGroup(c *gin.Context) {
	var in struct {
		Name string `json:"name"`
	}
	if !api.DecodeJSON(c, &in) {
		return
	}
	g, err := s.Svc.CreateGroup(c.Request.Context(), s.Actor(c), c.Param("tenant_id"), in.Name)
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, viewGroup(g))
}

func (s *API) getGroup(c *gin.Context) {
	g, err := s.Deps.Store.Group(c.Request.Context(), c.Param("tenant_id"), c.Param("group_id"))
	if s.storeRefError(c, err) {
		return
	}
	c.JSON(http.StatusOK, viewGroup(g))
}

func (s *API) deleteGroup(c *gin.Context) {
	tenantID, groupID := c.Param("tenant_id"), c.Param("group_id")
	if _, ok := s.tenant(c); !ok {
		return
	}
	if s.storeRefError(c, s.Deps.Store.DeleteGroup(c.Request.Context(), tenantID, groupID)) {
		return
	}
	s.Audit(c, store.AuditEvent{TenantID: tenantID, Action: "group.deleted", Target: groupID})
	c.Status(http.StatusNoContent)
}

func (s *API) putGroupMember(c *gin.Context) { s.changeGroupMember(c, true) }

func (s *API) deleteGroupMember(c *gin.Context) { s.changeGroupMember(c, false) }

func (s *API) changeGroupMember(c *gin.Context, add bool) {
	err := s.Svc.SetGroupMember(c.Request.Context(), s.Actor(c), c.Param("tenant_id"), c.Param("group_id"), c.Param("technician_id"), add)
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
