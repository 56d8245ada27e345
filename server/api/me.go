package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jitaccess/jitaccess/server/web"
)

// staffRoutes are the route groups any authenticated member of staff (technician or admin)
// may call. They exist only with a workflow engine: without one, nothing a technician can
// do would work.
func (s *API) staffRoutes() []func(*gin.RouterGroup) {
	if s.Deps.Workflows == nil {
		s.Log.Warn("no workflow engine configured: the technicians' routes /v1/me and /v1/access-requests are not served")
		return nil
	}
	return []func(*gin.RouterGroup){s.meRoutes, s.accessRequestRoutes}
}

func (s *API) meRoutes(g *gin.RouterGroup) {
	g.GET("/me", s.getMe)
	g.GET("/me/applications", s.myApplications)
}

type memberTenantView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type meView struct {
	ID          string             `json:"id"`
	Email       string             `json:"email"`
	DisplayName string             `json:"display_name"`
	Role        string             `json:"role"`
	Tenants     []memberTenantView `json:"tenants"`
}

// getMe answers who the caller is and which customer tenants they work in.
func (s *API) getMe(c *gin.Context) {
	u := web.CurrentUser(c)
	ts, err := s.Deps.Store.TenantsOf(c.Request.Context(), u.ID)
	if err != nil {
		s.Internal(c, err)
		return
	}
	v := meView{ID: u.ID, Email: u.Email, DisplayName: u.DisplayName, Role: u.Role, Tenants: make([]memberTenantView, len(ts))}
	for i, t := range ts {
		v.Tenants[i] = memberTenantView{ID: t.ID, Name: t.Name}
	}
	c.JSON(http.StatusOK, v)
}

// myApplications lists the applications the caller may request, each with the rule that
// entitles them. Applications that are not ready yet are listed with their status, so the
// portal can say why a request would be refused.
func (s *API) myApplications(c *gin.Context) {
	out, err := s.MyApplications(c.Request.Context(), s.Actor(c))
	if err != nil {
		s.Internal(c, err)
		return
	}
	c.JSON(http.StatusOK, List(out, ""))
}
