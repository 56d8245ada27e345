package server

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/store"
)

func (s *Server) entitlementRoutes(g *gin.RouterGroup) {
	g.GET("/tenants/:tenant_id/entitlements", s.listEntitlements)
	g.POST("/tenants/:tenant_id/entitlements", s.createEntitlement)
	g.GET("/tenants/:tenant_id/entitlements/:entitlement_id", s.getEntitlement)
	g.DELETE("/tenants/:tenant_id/entitlements/:entitlement_id", s.deleteEntitlement)
}

func (s *Server) createEntitlement(c *gin.Context) {
	var in struct {
		Name      string `json:"name"`
		Condition *struct {
			Type         string `json:"type"`
			GroupID      string `json:"group_id"`
			TechnicianID string `json:"technician_id"`
		} `json:"condition"`
		ApplicationID string `json:"application_id"`
	}
	if !decodeJSON(c, &in) {
		return
	}
	name, ok := validName(c, "name", in.Name)
	if !ok {
		return
	}
	if in.Condition == nil {
		badField(c, "condition", `is required: {"type":"group","group_id":…} or {"type":"technician","technician_id":…}.`)
		return
	}
	cond := *in.Condition
	switch cond.Type {
	case store.ConditionGroup:
		if cond.GroupID == "" {
			badField(c, "condition.group_id", "is required for a group condition (all-admins for the built-in group).")
			return
		}
		if cond.TechnicianID != "" {
			badField(c, "condition.technician_id", "is not allowed in a group condition.")
			return
		}
	case store.ConditionTechnician:
		if cond.TechnicianID == "" {
			badField(c, "condition.technician_id", "is required for a technician condition.")
			return
		}
		if cond.GroupID != "" {
			badField(c, "condition.group_id", "is not allowed in a technician condition.")
			return
		}
	default:
		badField(c, "condition.type", `must be "group" or "technician".`)
		return
	}
	if in.ApplicationID == "" {
		badField(c, "application_id", "is required.")
		return
	}
	if _, ok := s.tenant(c); !ok {
		return
	}
	r, err := s.deps.Store.CreateRule(c.Request.Context(), store.Rule{TenantID: c.Param("tenant_id"), Name: name, ConditionType: cond.Type,
		GroupID: cond.GroupID, TechnicianID: cond.TechnicianID, ApplicationID: in.ApplicationID})
	var ref *store.ErrInvalidReference
	switch {
	case errors.As(err, &ref):
		abort(c, http.StatusBadRequest, "invalid_reference", ref.Field+": "+ref.Error()+".")
		return
	case errors.Is(err, store.ErrConflict):
		abort(c, http.StatusConflict, "already_exists", "The tenant already has an entitlement rule with this name.")
		return
	case s.storeRefError(c, err):
		return
	}
	s.audit(c, store.AuditEvent{TenantID: r.TenantID, Action: "entitlement.created", Target: r.ID, Details: map[string]any{
		"name": r.Name, "condition_type": r.ConditionType, "group_id": r.GroupID, "technician_id": r.TechnicianID, "application_id": r.ApplicationID}})
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
	if _, ok := s.tenant(c); !ok {
		return
	}
	tenantID, id := c.Param("tenant_id"), c.Param("entitlement_id")
	if s.storeRefError(c, s.deps.Store.DeleteRule(c.Request.Context(), tenantID, id)) {
		return
	}
	s.audit(c, store.AuditEvent{TenantID: tenantID, Action: "entitlement.deleted", Target: id})
	c.Status(http.StatusNoContent)
}
