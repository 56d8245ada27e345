package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/store"
)

// audit records an event; when the actor is empty it is the current user. A failure to
// write the log is logged, not shown to the caller whose change already happened.
func (s *Server) audit(c *gin.Context, e store.AuditEvent) {
	if e.ActorID == "" {
		u := currentUser(c)
		e.ActorID, e.ActorKind = u.ID, u.Role
	}
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	e.Details["request_id"] = c.GetString(requestIDKey)
	// The change is done; record it even if the client went away.
	ctx := context.WithoutCancel(c.Request.Context())
	if err := s.deps.Store.RecordAudit(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "audit event lost", slog.String("action", e.Action), slog.String("target", e.Target), slog.Any("error", err))
	}
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
