package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/server/api"
)

func (s *API) technicianRoutes(g *gin.RouterGroup) {
	g.POST("/technicians", s.createTechnician)
	g.GET("/technicians", s.listTechnicians)
	g.PATCH("/technicians/:technician_id", s.patchTechnician)
}

func (s *API) patchTechnician(c *gin.Context) {
	var in struct {
		Active *bool `json:"active"`
	}
	if !api.DecodeJSON(c, &in) {
		return
	}
	if in.Active == nil {
		s.Fail(c, access.FieldError("active", "is required (false deactivates, true reactivates)."))
		return
	}
	t, err := s.Svc.SetTechnicianActive(c.Request.Context(), s.Actor(c), c.Param("technician_id"), *in.Active)
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, viewTechnician(t))
}

func (s *API) createTechnician(c *gin.Context) {
	var in struct {
		Email       string `json:"email"`
		DisplayName string `json:"display_name"`
		Role        string `json:"role"`
	}
	if !api.DecodeJSON(c, &in) {
		return
	}
	t, token, err := s.Svc.CreateTechnician(c.Request.Context(), s.Actor(c), in.Email, in.DisplayName, in.Role)
	if err != nil {
		s.Fail(c, err)
		return
	}
	v := viewTechnician(t)
	v.Token = token // shown once; only its hash is stored
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, v)
}

func (s *API) listTechnicians(c *gin.Context) {
	p, ok := api.Page(c)
	if !ok {
		return
	}
	ts, next, err := s.Deps.Store.Technicians(c.Request.Context(), p)
	if err != nil {
		s.ListError(c, err)
		return
	}
	out := make([]technicianView, len(ts))
	for i, t := range ts {
		out[i] = viewTechnician(t)
	}
	c.JSON(http.StatusOK, api.List(out, next))
}
