package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/store"
)

func (s *Server) entitlementRoutes(g *gin.RouterGroup) {
	g.GET("/tenants/:tenant_id/entitlements", s.listEntitlements)
	g.POST("/tenants/:tenant_id/entitlements", s.createEntitlement)
	g.GET("/tenants/:tenant_id/entitlements/:entitlement_id", s.getEntitlement)
	g.DELETE("/tenants/:tenant_id/entitlements/:entitlement_id", s.deleteEntitlement)
}

// conditionInput is the IF of a rule: a group (all-admins for the built-in one) or one
// technician.
type conditionInput struct {
	Type         string `json:"type"`
	GroupID      string `json:"group_id"`
	TechnicianID string `json:"technician_id"`
}

// entitlementInput is a new rule: IF condition THEN application.
type entitlementInput struct {
	Name          string          `json:"name"`
	Condition     *conditionInput `json:"condition"`
	ApplicationID string          `json:"application_id"`
}

func (s *Server) createEntitlement(c *gin.Context) {
	var in entitlementInput
	if !decodeJSON(c, &in) {
		return
	}
	r, err := s.CreateEntitlement(c.Request.Context(), s.actor(c), c.Param("tenant_id"), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, viewRule(r))
}

// CreateEntitlement writes the rule IF <group or technician> THEN <application>.
func (s *Server) CreateEntitlement(ctx context.Context, a Actor, tenantID string, in entitlementInput) (store.Rule, error) {
	name, err := checkName("name", in.Name)
	if err != nil {
		return store.Rule{}, err
	}
	if in.Condition == nil {
		return store.Rule{}, access.FieldError("condition", `is required: {"type":"group","group_id":…} or {"type":"technician","technician_id":…}.`)
	}
	cond := *in.Condition
	switch cond.Type {
	case store.ConditionGroup:
		if cond.GroupID == "" {
			return store.Rule{}, access.FieldError("condition.group_id", "is required for a group condition (all-admins for the built-in group).")
		}
		if cond.TechnicianID != "" {
			return store.Rule{}, access.FieldError("condition.technician_id", "is not allowed in a group condition.")
		}
	case store.ConditionTechnician:
		if cond.TechnicianID == "" {
			return store.Rule{}, access.FieldError("condition.technician_id", "is required for a technician condition.")
		}
		if cond.GroupID != "" {
			return store.Rule{}, access.FieldError("condition.group_id", "is not allowed in a technician condition.")
		}
	default:
		return store.Rule{}, access.FieldError("condition.type", `must be "group" or "technician".`)
	}
	if in.ApplicationID == "" {
		return store.Rule{}, access.FieldError("application_id", "is required.")
	}
	if _, err := s.Tenant(ctx, tenantID); err != nil {
		return store.Rule{}, err
	}
	r, err := s.deps.Store.CreateRule(ctx, store.Rule{TenantID: tenantID, Name: name, ConditionType: cond.Type,
		GroupID: cond.GroupID, TechnicianID: cond.TechnicianID, ApplicationID: in.ApplicationID})
	var ref *store.ErrInvalidReference
	switch {
	case errors.As(err, &ref):
		return r, &access.Error{Kind: access.Invalid, Code: "invalid_reference", Field: ref.Field, Message: ref.Field + ": " + ref.Error() + "."}
	case errors.Is(err, store.ErrConflict):
		return r, access.Refuse(access.Conflict, "already_exists", "The tenant already has an entitlement rule with this name.")
	case err != nil:
		return r, refProblem(err)
	}
	s.auditAs(ctx, a, store.AuditEvent{TenantID: r.TenantID, Action: "entitlement.created", Target: r.ID, Details: map[string]any{
		"name": r.Name, "condition_type": r.ConditionType, "group_id": r.GroupID, "technician_id": r.TechnicianID, "application_id": r.ApplicationID}})
	return r, nil
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
	if err := s.DeleteEntitlement(c.Request.Context(), s.actor(c), c.Param("tenant_id"), c.Param("entitlement_id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// DeleteEntitlement removes a rule.
func (s *Server) DeleteEntitlement(ctx context.Context, a Actor, tenantID, id string) error {
	if _, err := s.Tenant(ctx, tenantID); err != nil {
		return err
	}
	rule, err := s.deps.Store.Rule(ctx, tenantID, id)
	if err != nil {
		return refProblem(err)
	}
	if err := s.deps.Store.DeleteRule(ctx, tenantID, id); err != nil {
		return refProblem(err)
	}
	s.auditAs(ctx, a, store.AuditEvent{TenantID: tenantID, Action: "entitlement.deleted", Target: id})
	return s.endUnentitled(ctx, a, store.GrantFilter{TenantID: tenantID, ApplicationID: rule.ApplicationID},
		fmt.Sprintf("entitlement rule %q removed", rule.Name))
}
