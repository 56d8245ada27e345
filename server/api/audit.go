package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/server/web"
	"github.com/jitaccess/jitaccess/store"
)

// audit records an event of the request's caller (see Audit).
func (s *API) audit(c *gin.Context, e store.AuditEvent) {
	s.Svc.Audit(c.Request.Context(), s.Actor(c), e)
}

func (s *API) auditRoutes(g *gin.RouterGroup) {
	g.GET("/audit-events", s.listAuditEvents)
}

func (s *API) listAuditEvents(c *gin.Context) {
	p, ok := Page(c)
	if !ok {
		return
	}
	f := store.AuditFilter{TenantID: c.Query("tenant_id")}
	if v := c.Query("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			BadField(c, "since", "must be an RFC 3339 time such as 2026-01-02T15:04:05Z.")
			return
		}
		f.Since = t
	}
	if a := s.Actor(c); a.Role == store.RoleAuditor {
		pr, err := s.Principal(c.Request.Context(), a)
		if err != nil {
			s.Internal(c, err)
			return
		}
		tenant, prob, ok := web.AuditorTenant(pr, f.TenantID)
		if prob != nil {
			s.Fail(c, prob)
			return
		}
		if !ok {
			c.JSON(http.StatusOK, List([]auditEventView{}, ""))
			return
		}
		f.TenantID = tenant
	}
	events, next, err := s.Deps.Store.AuditEvents(c.Request.Context(), f, p)
	if err != nil {
		s.ListError(c, err)
		return
	}
	out := make([]auditEventView, len(events))
	for i, e := range events {
		out[i] = viewAudit(e)
	}
	c.JSON(http.StatusOK, List(out, next))
}

type auditEventView struct {
	ID        string         `json:"id"`
	CreatedAt time.Time      `json:"created_at"`
	TenantID  *string        `json:"tenant_id"`
	ActorID   string         `json:"actor_id"`
	ActorKind string         `json:"actor_kind"`
	Action    string         `json:"action"`
	Target    string         `json:"target"`
	Details   map[string]any `json:"details"`
	// The event's place in the tamper-evident chain and the run it belongs to.
	Seq        int64  `json:"seq"`
	Hash       string `json:"hash"`
	WorkflowID string `json:"workflow_id,omitempty"`
	RunID      string `json:"run_id,omitempty"`
}

func viewAudit(e store.AuditEvent) auditEventView {
	v := auditEventView{ID: e.ID, CreatedAt: e.CreatedAt, ActorID: e.ActorID, ActorKind: e.ActorKind, Action: e.Action, Target: e.Target,
		Details: e.Details, Seq: e.Seq, Hash: e.Hash, WorkflowID: e.WorkflowID, RunID: e.RunID}
	if e.TenantID != "" {
		t := e.TenantID
		v.TenantID = &t
	}
	if v.Details == nil {
		v.Details = map[string]any{}
	}
	return v
}
