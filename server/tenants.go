package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/store"
)

// maxNameLength bounds every display name (tenants, groups, applications, rules).
const maxNameLength = 200

func (s *Server) tenantRoutes(g *gin.RouterGroup) {
	g.POST("/tenants", s.createTenant)
	g.GET("/tenants", s.listTenants)
	g.GET("/tenants/:tenant_id", s.getTenant)
}

// checkName checks a required display name; the Problem names the field.
func checkName(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", access.FieldError(field, "is required.")
	case utf8.RuneCountInString(v) > maxNameLength:
		return "", access.FieldError(field, "is longer than 200 characters.")
	case strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "", access.FieldError(field, "must not contain control characters.")
	}
	return v, nil
}

// CreateTenant connects a new customer tenant.
func (s *Server) CreateTenant(ctx context.Context, a Actor, name string) (store.Tenant, error) {
	name, err := checkName("name", name)
	if err != nil {
		return store.Tenant{}, err
	}
	t, err := s.deps.Store.CreateTenant(ctx, name)
	if errors.Is(err, store.ErrConflict) {
		return t, access.Refuse(access.Conflict, "already_exists", "A tenant with this name already exists.")
	}
	if err != nil {
		return t, err
	}
	s.auditAs(ctx, a, store.AuditEvent{TenantID: t.ID, Action: "tenant.created", Target: t.ID, Details: map[string]any{"name": t.Name}})
	return t, nil
}

// Tenant reads one customer tenant (404 Problem when missing).
func (s *Server) Tenant(ctx context.Context, tenantID string) (store.Tenant, error) {
	t, err := s.deps.Store.Tenant(ctx, tenantID)
	if errors.Is(err, store.ErrNotFound) {
		return t, access.NotFoundError("tenant")
	}
	return t, err
}

func (s *Server) createTenant(c *gin.Context) {
	var in struct {
		Name string `json:"name"`
	}
	if !decodeJSON(c, &in) {
		return
	}
	t, err := s.CreateTenant(c.Request.Context(), s.actor(c), in.Name)
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
	t, err := s.Tenant(c.Request.Context(), c.Param("tenant_id"))
	if err != nil {
		s.fail(c, err)
		return t, false
	}
	return t, true
}
