package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/server/api"
	"github.com/jitaccess/jitaccess/store"
)

func (s *API) applicationRoutes(g *gin.RouterGroup) {
	g.GET("/tenants/:tenant_id/applications", s.listApplications)
	g.POST("/tenants/:tenant_id/applications", s.createApplication)
	g.GET("/tenants/:tenant_id/applications/:application_id", s.getApplication)
	g.PATCH("/tenants/:tenant_id/applications/:application_id", s.patchApplication)
	g.DELETE("/tenants/:tenant_id/applications/:application_id", s.deleteApplication)
	g.POST("/tenants/:tenant_id/applications/:application_id/authorize", s.authorizeApplication)
}

func (s *API) createApplication(c *gin.Context) {
	var in struct {
		Name        string `json:"name"`
		Type        string `json:"type"`
		Credentials string `json:"credentials"`
	}
	if !api.DecodeJSON(c, &in) {
		return
	}
	a, err := s.Svc.CreateApplication(c.Request.Context(), s.Actor(c), c.Param("tenant_id"), in.Name, in.Type, in.Credentials)
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, s.viewApplicationPolicy(c, a))
}

func (s *API) listApplications(c *gin.Context) {
	p, ok := api.Page(c)
	if !ok {
		return
	}
	as, next, err := s.Deps.Store.Applications(c.Request.Context(), c.Param("tenant_id"), p)
	if err != nil {
		s.ListError(c, err)
		return
	}
	out := make([]applicationPolicyView, len(as))
	for i, a := range as {
		out[i] = s.viewApplicationPolicy(c, a)
	}
	c.JSON(http.StatusOK, api.List(out, next))
}

// application loads the path's application of the path's tenant or answers 404.
func (s *API) application(c *gin.Context) (store.Application, bool) {
	a, err := s.Svc.Application(c.Request.Context(), c.Param("tenant_id"), c.Param("application_id"))
	if err != nil {
		s.Fail(c, err)
		return a, false
	}
	return a, true
}

func (s *API) getApplication(c *gin.Context) {
	a, ok := s.application(c)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, s.viewApplicationPolicy(c, a))
}

func (s *API) patchApplication(c *gin.Context) {
	var in access.ApplicationPatch
	if !api.DecodeJSON(c, &in) {
		return
	}
	updated, err := s.Svc.UpdateApplication(c.Request.Context(), s.Actor(c), c.Param("tenant_id"), c.Param("application_id"), in)
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.viewApplicationPolicy(c, updated))
}

func (s *API) deleteApplication(c *gin.Context) {
	if err := s.Svc.DeleteApplication(c.Request.Context(), s.Actor(c), c.Param("tenant_id"), c.Param("application_id")); err != nil {
		s.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
