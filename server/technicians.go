package server

import (
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

func (s *Server) createTechnician(c *gin.Context) {
	var in struct {
		Email       string `json:"email"`
		DisplayName string `json:"display_name"`
		Role        string `json:"role"`
	}
	if !decodeJSON(c, &in) {
		return
	}
	email := strings.TrimSpace(in.Email)
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email || len(email) > 254 {
		badField(c, "email", "must be an e-mail address such as alice@msp.example.")
		return
	}
	name, ok := validName(c, "display_name", in.DisplayName)
	if !ok {
		return
	}
	switch in.Role {
	case "":
		in.Role = store.RoleTechnician
	case store.RoleTechnician, store.RoleAdmin:
	default:
		badField(c, "role", `must be "technician" or "admin".`)
		return
	}
	t, token, err := s.deps.Store.CreateTechnician(c.Request.Context(), email, name, in.Role)
	if errors.Is(err, store.ErrConflict) {
		abort(c, http.StatusConflict, "already_exists", "A technician with this e-mail already exists.")
		return
	}
	if err != nil {
		s.internal(c, err)
		return
	}
	s.audit(c, store.AuditEvent{Action: "technician.created", Target: t.ID, Details: map[string]any{"email": t.Email, "role": t.Role}})
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
