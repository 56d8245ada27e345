package server

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/store"
)

// audit records an event of the request's caller (see Audit).
func (s *Server) audit(c *gin.Context, e store.AuditEvent) {
	s.svc.Audit(c.Request.Context(), s.actor(c), e)
}

func (s *Server) auditRoutes(g *gin.RouterGroup) {
	g.GET("/audit-events", s.listAuditEvents)
}

func (s *Server) listAuditEvents(c *gin.Context) {
	p, ok := page(c)
	if !ok {
		return
	}
	f := store.AuditFilter{TenantID: c.Query("tenant_id")}
	if v := c.Query("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			badField(c, "since", "must be an RFC 3339 time such as 2026-01-02T15:04:05Z.")
			return
		}
		f.Since = t
	}
	if a := s.actor(c); a.Role == store.RoleAuditor {
		pr, err := s.principal(c.Request.Context(), a)
		if err != nil {
			s.internal(c, err)
			return
		}
		tenant, prob, ok := auditorTenant(pr, f.TenantID)
		if prob != nil {
			s.fail(c, prob)
			return
		}
		if !ok {
			c.JSON(http.StatusOK, list([]auditEventView{}, ""))
			return
		}
		f.TenantID = tenant
	}
	events, next, err := s.deps.Store.AuditEvents(c.Request.Context(), f, p)
	if err != nil {
		s.listError(c, err)
		return
	}
	out := make([]auditEventView, len(events))
	for i, e := range events {
		out[i] = viewAudit(e)
	}
	c.JSON(http.StatusOK, list(out, next))
}
