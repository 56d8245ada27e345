package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/server/api"
)

func (s *API) memberRoutes(g *gin.RouterGroup) {
	g.GET("/tenants/:tenant_id/members", s.listMembers)
	g.PUT("/tenants/:tenant_id/members/:technician_id", s.putMember)
	g.DELETE("/tenants/:tenant_id/members/:technician_id", s.deleteMember)
}

func (s *API) listMembers(c *gin.Context) {
	t, ok := s.tenant(c)
	if !ok {
		return
	}
	ms, err := s.Deps.Store.Members(c.Request.Context(), t.ID)
	if err != nil {
		s.Internal(c, err)
		return
	}
	out := make([]technicianView, len(ms))
	for i, m := range ms {
		out[i] = viewTechnician(m)
	}
	c.JSON(http.StatusOK, api.List(out, ""))
}

func (s *API) putMember(c *gin.Context) {
	s.changeMember(c, true)
}

func (s *API) deleteMember(c *gin.Context) {
	s.changeMember(c, false)
}

func (s *API) changeMember(c *gin.Context, add bool) {
	if err := s.Svc.SetMember(c.Request.Context(), s.Actor(c), c.Param("tenant_id"), c.Param("technician_id"), add); err != nil {
		s.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// storeRefError answers a store error about missing tenants, technicians or groups (404)
// and reports whether it answered.
func (s *API) storeRefError(c *gin.Context, err error) bool {
	if err == nil {
		return false
	}
	s.Fail(c, access.RefError(err))
	return true
}
