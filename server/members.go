package server

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/store"
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
	tenantID, techID := c.Param("tenant_id"), c.Param("technician_id")
	var err error
	action := "tenant.member_added"
	if add {
		err = s.deps.Store.AddMember(c.Request.Context(), tenantID, techID)
	} else {
		action = "tenant.member_removed"
		err = s.deps.Store.RemoveMember(c.Request.Context(), tenantID, techID)
	}
	if s.storeRefError(c, err) {
		return
	}
	s.audit(c, store.AuditEvent{TenantID: tenantID, Action: action, Target: techID})
	c.Status(http.StatusNoContent)
}

// storeRefError answers a store error about missing tenants, technicians or groups (404)
// and reports whether it answered.
func (s *Server) storeRefError(c *gin.Context, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound):
		abort(c, http.StatusNotFound, "not_found", notFoundMessage(err))
	case errors.Is(err, store.ErrBuiltinGroup):
		abort(c, http.StatusConflict, "builtin_group", "The members of All admins are exactly the tenant's members; change the tenant's members instead.")
	default:
		s.internal(c, err)
	}
	return true
}

// notFoundMessage says what was not found without echoing internals: the store's errors
// start with the kind of object.
func notFoundMessage(err error) string {
	msg := err.Error()
	for _, what := range []string{"tenant", "technician", "group", "application", "entitlement", "grant"} {
		if len(msg) >= len(what) && msg[:len(what)] == what {
			return "The " + what + " does not exist."
		}
	}
	return "Not found."
}
