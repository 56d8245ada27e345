package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
)

func (s *Server) technicianRoutes(g *gin.RouterGroup) {
	g.POST("/technicians", s.createTechnician)
	g.GET("/technicians", s.listTechnicians)
	g.PATCH("/technicians/:technician_id", s.patchTechnician)
}

func (s *Server) patchTechnician(c *gin.Context) {
	var in struct {
		Active *bool `json:"active"`
	}
	if !decodeJSON(c, &in) {
		return
	}
	if in.Active == nil {
		s.fail(c, access.FieldError("active", "is required (false deactivates, true reactivates)."))
		return
	}
	t, err := s.svc.SetTechnicianActive(c.Request.Context(), s.actor(c), c.Param("technician_id"), *in.Active)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, viewTechnician(t))
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
	t, token, err := s.svc.CreateTechnician(c.Request.Context(), s.actor(c), in.Email, in.DisplayName, in.Role)
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
