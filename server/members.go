package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jitaccess/jitaccess/access"
)

func (s *Server) memberRoutes(g *gin.RouterGroup) {
	g.GET("/tenants/:tenant_id/members", s.listMembers)
	g.PUT("/tenants/:tenant_id/members/:technician_id", s.putMember)
	g.DELETE("/tenants/:tenant_id/members/:technician_id", s.deleteMember)
}

func (s *Server) listMembers(c *gin.Context) {
	t, ok := s.tenant(c)
	if !ok {
		return
	}
	ms, err := s.deps.Store.Members(c.Request.Context(), t.ID)
	if err != nil {
		s.internal(c, err)
		return
	}
	out := make([]technicianView, len(ms))
	for i, m := range ms {
		out[i] = viewTechnician(m)
	}
	c.JSON(http.StatusOK, list(out, ""))
}

func (s *Server) putMember(c *gin.Context) {
	s.changeMember(c, true)
}

func (s *Server) deleteMember(c *gin.Context) {
	s.changeMember(c, false)
}

func (s *Server) changeMember(c *gin.Context, add bool) {
	if err := s.svc.SetMember(c.Request.Context(), s.actor(c), c.Param("tenant_id"), c.Param("technician_id"), add); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// storeRefError answers a store error about missing tenants, technicians or groups (404)
// and reports whether it answered.
func (s *Server) storeRefError(c *gin.Context, err error) bool {
	if err == nil {
		return false
	}
	s.fail(c, access.RefError(err))
	return true
}
