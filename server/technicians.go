package server

import (
	"context"
	"errors"
	"net/http"
	"net/mail"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/store"
)

func (s *Server) technicianRoutes(g *gin.RouterGroup) {
	g.POST("/technicians", s.createTechnician)
	g.GET("/technicians", s.listTechnicians)
}

// CreateTechnician adds a member of the MSP's staff and returns their first API token
// (shown once; only its hash is stored).
func (s *Server) CreateTechnician(ctx context.Context, a Actor, email, displayName, role string) (store.Technician, string, error) {
	email = strings.TrimSpace(email)
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email || len(email) > 254 {
		return store.Technician{}, "", fieldProblem("email", "must be an e-mail address such as alice@msp.example.")
	}
	name, err := checkName("display_name", displayName)
	if err != nil {
		return store.Technician{}, "", err
	}
	switch role {
	case "":
		role = store.RoleTechnician
	case store.RoleTechnician, store.RoleAdmin, store.RoleAuditor:
	default:
		return store.Technician{}, "", fieldProblem("role", `must be "technician", "admin" or "auditor".`)
	}
	t, token, err := s.deps.Store.CreateTechnician(ctx, email, name, role)
	if errors.Is(err, store.ErrConflict) {
		return t, "", problem(http.StatusConflict, "already_exists", "A technician with this e-mail already exists.")
	}
	if err != nil {
		return t, "", err
	}
	s.auditAs(ctx, a, store.AuditEvent{Action: "technician.created", Target: t.ID, Details: map[string]any{"email": t.Email, "role": t.Role}})
	return t, token, nil
}

func (s *Server) createTechnician(c *gin.Context) {
	var in struct {
		Email       string `json:"email"`
		DisplayName string `json:"display_name"`
		Role        string `json:"role"`
	}
	if !decodeJSON(c, &in) {
		return
	}
	t, token, err := s.CreateTechnician(c.Request.Context(), s.actor(c), in.Email, in.DisplayName, in.Role)
	if err != nil {
		s.fail(c, err)
		return
	}
	v := viewTechnician(t)
	v.Token = token // shown once; only its hash is stored
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, v)
}

func (s *Server) listTechnicians(c *gin.Context) {
	p, ok := page(c)
	if !ok {
		return
	}
	ts, next, err := s.deps.Store.Technicians(c.Request.Context(), p)
	if err != nil {
		s.listError(c, err)
		return
	}
	out := make([]technicianView, len(ts))
	for i, t := range ts {
		out[i] = viewTechnician(t)
	}
	c.JSON(http.StatusOK, list(out, next))
}
