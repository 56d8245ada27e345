package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/store"
)

func (s *Server) groupRoutes(g *gin.RouterGroup) {
	g.GET("/tenants/:tenant_id/groups", s.listGroups)
	g.POST("/tenants/:tenant_id/groups", s.createGroup)
	g.GET("/tenants/:tenant_id/groups/:group_id", s.getGroup)
	g.DELETE("/tenants/:tenant_id/groups/:group_id", s.deleteGroup)
	g.PUT("/tenants/:tenant_id/groups/:group_id/members/:technician_id", s.putGroupMember)
	g.DELETE("/tenants/:tenant_id/groups/:group_id/members/:technician_id", s.deleteGroupMember)
}

func (s *Server) listGroups(c *gin.Context) {
	gs, err := s.deps.Store.Groups(c.Request.Context(), c.Param("tenant_id"))
	if s.storeRefError(c, err) {
		return
	}
	out := make([]groupView, len(gs))
	for i, g := range gs {
		out[i] = viewGroup(g)
	}
	c.JSON(http.StatusOK, list(out, ""))
}

// CreateGroup adds a custom group to a customer tenant.
func (s *Server) CreateGroup(ctx context.Context, a Actor, tenantID, name string) (store.Group, error) {
	name, err := checkName("name", name)
	if err != nil {
		return store.Group{}, err
	}
	g, err := s.deps.Store.CreateGroup(ctx, tenantID, name)
	if errors.Is(err, store.ErrConflict) {
		return g, access.Refuse(access.Conflict, "already_exists", "The tenant already has a group with this name.")
	}
	if err != nil {
		return g, refProblem(err)
	}
	s.auditAs(ctx, a, store.AuditEvent{TenantID: g.TenantID, Action: "group.created", Target: g.ID, Details: map[string]any{"name": g.Name}})
	return g, nil
}

func (s *Server) createGroup(c *gin.Context) {
	var in struct {
		Name string `json:"name"`
	}
	if !decodeJSON(c, &in) {
		return
	}
	g, err := s.CreateGroup(c.Request.Context(), s.actor(c), c.Param("tenant_id"), in.Name)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, viewGroup(g))
}

func (s *Server) getGroup(c *gin.Context) {
	g, err := s.deps.Store.Group(c.Request.Context(), c.Param("tenant_id"), c.Param("group_id"))
	if s.storeRefError(c, err) {
		return
	}
	c.JSON(http.StatusOK, viewGroup(g))
}

func (s *Server) deleteGroup(c *gin.Context) {
	tenantID, groupID := c.Param("tenant_id"), c.Param("group_id")
	if _, ok := s.tenant(c); !ok {
		return
	}
	if s.storeRefError(c, s.deps.Store.DeleteGroup(c.Request.Context(), tenantID, groupID)) {
		return
	}
	s.audit(c, store.AuditEvent{TenantID: tenantID, Action: "group.deleted", Target: groupID})
	c.Status(http.StatusNoContent)
}

func (s *Server) putGroupMember(c *gin.Context) { s.changeGroupMember(c, true) }

func (s *Server) deleteGroupMember(c *gin.Context) { s.changeGroupMember(c, false) }

func (s *Server) changeGroupMember(c *gin.Context, add bool) {
	err := s.SetGroupMember(c.Request.Context(), s.actor(c), c.Param("tenant_id"), c.Param("group_id"), c.Param("technician_id"), add)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// SetGroupMember adds (add) or removes a technician to or from a custom group.
func (s *Server) SetGroupMember(ctx context.Context, a Actor, tenantID, groupID, techID string, add bool) error {
	var err error
	action := "group.member_added"
	if add {
		err = s.deps.Store.AddGroupMember(ctx, tenantID, groupID, techID)
	} else {
		action = "group.member_removed"
		err = s.deps.Store.RemoveGroupMember(ctx, tenantID, groupID, techID)
	}
	if err != nil {
		return refProblem(err)
	}
	s.auditAs(ctx, a, store.AuditEvent{TenantID: tenantID, Action: action, Target: groupID, Details: map[string]any{"technician_id": techID}})
	if add {
		return nil
	}
	return s.endUnentitled(ctx, a, store.GrantFilter{TenantID: tenantID, TechnicianID: techID}, "technician removed from group "+groupID)
}
