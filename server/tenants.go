package server

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/store"
)

// maxNameLength bounds every display name (tenants, groups, applications, rules).
const maxNameLength = 200

func (s *Server) tenantRoutes(g *gin.RouterGroup) {
	g.POST("/tenants", s.createTenant)
	g.GET("/tenants", s.listTenants)
	g.GET("/tenants/:tenant_id", s.getTenant)
}

// validName checks a required display name and answers 400 naming the field.
func validName(c *gin.Context, field, v string) (string, bool) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		badField(c, field, "is required.")
		return "", false
	case utf8.RuneCountInString(v) > maxNameLength:
		badField(c, field, "is longer than 200 characters.")
		return "", false
	case strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		badField(c, field, "must not contain control characters.")
		return "", false
	}
	return v, true
}

func (s *Server) createTenant(c *gin.Context) {
	var in struct {
		Name string `json:"name"`
	}
	if !decodeJSON(c, &in) {
		return
	}
	name, ok := validName(c, "name", in.Name)
	if !ok {
		return
	}
	t, err := s.deps.Store.CreateTenant(c.Request.Context(), name)
	if errors.Is(err, store.ErrConflict) {
		abort(c, http.StatusConflict, "already_exists", "A tenant with this name already exists.")
		return
	}
	if err != nil {
		s.internal(c, err)
		return
	}
	s.audit(c, store.AuditEvent{TenantID: t.ID, Action: "tenant.created", Target: t.ID, Details: map[string]any{"name": t.Name}})
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
	t, err := s.deps.Store.Tenant(c.Request.Context(), c.Param("tenant_id"))
	if errors.Is(err, store.ErrNotFound) {
		notFoundAnswer(c, "tenant")
		return t, false
	}
	if err != nil {
		s.internal(c, err)
		return t, false
	}
	return t, true
}
