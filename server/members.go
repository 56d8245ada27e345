package server

import (
	"context"
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
	if err := s.SetMember(c.Request.Context(), s.actor(c), c.Param("tenant_id"), c.Param("technician_id"), add); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// SetMember gives (add) or takes a technician's access to a customer tenant.
func (s *Server) SetMember(ctx context.Context, a Actor, tenantID, techID string, add bool) error {
	var err error
	action := "tenant.member_added"
	if add {
		err = s.deps.Store.AddMember(ctx, tenantID, techID)
	} else {
		action = "tenant.member_removed"
		err = s.deps.Store.RemoveMember(ctx, tenantID, techID)
	}
	if err != nil {
		return refProblem(err)
	}
	s.auditAs(ctx, a, store.AuditEvent{TenantID: tenantID, Action: action, Target: techID})
	if add {
		return nil
	}
	return s.endUnentitled(ctx, a, store.GrantFilter{TenantID: tenantID, TechnicianID: techID}, "technician removed from the tenant")
}

// endUnentitled revokes the live grants matching f that no rule allows any more.
func (s *Server) endUnentitled(ctx context.Context, a Actor, f store.GrantFilter, why string) error {
	gs, err := s.deps.Store.LiveGrants(ctx, f)
	if err != nil {
		return err
	}
	_, err = s.endGrants(ctx, a, gs, why, true)
	return err
}

// storeRefError answers a store error about missing tenants, technicians or groups (404)
// and reports whether it answered.
func (s *Server) storeRefError(c *gin.Context, err error) bool {
	if err == nil {
		return false
	}
	s.fail(c, refProblem(err))
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
