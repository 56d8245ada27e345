package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// The admin pages of live grants and the audit log.

// grantRow is a grant with the names an admin reads.
type grantRow struct {
	store.Grant
	Tenant      string
	Application string
	Technician  string
	TemporalURL string
}

// names resolves ids to names for grant lists, each looked up once per page.
type names struct {
	s       *Server
	ctx     context.Context
	tenants map[string]string
	apps    map[string]string
	techs   map[string]string
}

func (s *Server) newNames(ctx context.Context) *names {
	return &names{s: s, ctx: ctx, tenants: map[string]string{}, apps: map[string]string{}, techs: map[string]string{}}
}

func (n *names) tenant(id string) string {
	if v, ok := n.tenants[id]; ok {
		return v
	}
	t, err := n.s.deps.Store.Tenant(n.ctx, id)
	n.tenants[id] = nameOr(t.Name, id)
	if err != nil {
		n.tenants[id] = id
	}
	return n.tenants[id]
}

func (n *names) app(id string) string {
	if v, ok := n.apps[id]; ok {
		return v
	}
	a, err := n.s.deps.Store.ApplicationByID(n.ctx, id)
	n.apps[id] = a.Name
	if err != nil {
		n.apps[id] = id
	}
	return n.apps[id]
}

func (n *names) tech(id string) string {
	if v, ok := n.techs[id]; ok {
		return v
	}
	t, err := n.s.deps.Store.Technician(n.ctx, id)
	n.techs[id] = t.Email
	if err != nil || t.Email == "" {
		n.techs[id] = id
	}
	return n.techs[id]
}

func (s *Server) grantRows(ctx context.Context, gs []store.Grant) []grantRow {
	n := s.newNames(ctx)
	out := make([]grantRow, len(gs))
	for i, g := range gs {
		out[i] = grantRow{Grant: g, Tenant: n.tenant(g.TenantID), Application: n.app(g.ApplicationID),
			Technician: n.tech(g.TechnicianID), TemporalURL: s.temporalURL(g.WorkflowID, g.RunID)}
	}
	return out
}

// portalGrants lists the live grants (or those of ?status=), each linked to its workflow in
// the Temporal UI.
func (s *Server) portalGrants(c *gin.Context) {
	ctx := c.Request.Context()
	status := c.Query("status")
	statuses := []string{string(workflows.StatusPending), string(workflows.StatusPendingApproval), string(workflows.StatusProvisioning), string(workflows.StatusActive), string(workflows.StatusRevoking)}
	if status != "" {
		statuses = []string{status}
	}
	tenantID := c.Query("tenant_id")
	a := s.actor(c)
	ts, err := s.visibleTenants(ctx, a)
	if err != nil {
		s.portalFail(c, err)
		return
	}
	if a.Role == store.RoleAuditor {
		if tenantID == "" && len(ts) > 0 {
			tenantID = ts[0].ID // an auditor of several tenants reads one at a time
		}
		if !slices.ContainsFunc(ts, func(t store.Tenant) bool { return t.ID == tenantID }) {
			s.message(c, http.StatusForbidden, "Not one of your tenants", "You audit other tenants than this one.")
			return
		}
	}
	var all []store.Grant
	for _, st := range statuses {
		gs, _, err := s.svc.ListGrants(ctx, a, store.GrantFilter{Status: st, TenantID: tenantID}, store.Page{Limit: store.MaxLimit})
		if err != nil {
			s.portalFail(c, err)
			return
		}
		all = append(all, gs...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].RequestedAt.After(all[j].RequestedAt) })
	s.render(c, http.StatusOK, "grants.html", pageData{Title: "Grants", Nav: "grants", Data: map[string]any{
		"Grants": s.grantRows(ctx, all), "Status": status, "CanRevoke": s.deps.Workflows != nil && a.Role == store.RoleAdmin,
		"Base": c.Request.URL.Path, "Tenants": ts, "TenantID": tenantID, "AllTenants": a.Role == store.RoleAdmin,
		"Statuses": []string{"pending", "provisioning", "active", "revoking", "expired", "revoked", "denied", "failed"}}})
}

type auditRow struct {
	store.AuditEvent
	Actor   string
	Tenant  string
	Details string
}

func (s *Server) portalAudit(c *gin.Context) {
	ctx := c.Request.Context()
	f := store.AuditFilter{TenantID: c.Query("tenant_id")}
	a := s.actor(c)
	ts, err := s.visibleTenants(ctx, a)
	if err != nil {
		s.portalFail(c, err)
		return
	}
	if a.Role == store.RoleAuditor {
		// An auditor reads the events of the tenants given to them, one tenant at a time
		// unless they were given all.
		pr, err := s.principal(ctx, a)
		if err != nil {
			s.portalFail(c, err)
			return
		}
		if f.TenantID == "" && !pr.Scope.All && len(ts) > 0 {
			f.TenantID = ts[0].ID
		}
		tenant, prob, ok := auditorTenant(pr, f.TenantID)
		switch {
		case prob != nil:
			s.portalFail(c, prob)
			return
		case !ok:
			s.message(c, http.StatusForbidden, "Not one of your tenants", "You audit other tenants than this one.")
			return
		}
		f.TenantID = tenant
	}
	events, next, err := s.deps.Store.AuditEvents(ctx, f, store.Page{Limit: 50, Cursor: c.Query("cursor")})
	if errors.Is(err, store.ErrBadCursor) {
		err = access.FieldError("cursor", "is not a cursor returned by this list.")
	}
	if err != nil {
		s.portalFail(c, access.RefError(err))
		return
	}
	n := s.newNames(ctx)
	rows := make([]auditRow, len(events))
	for i, e := range events {
		r := auditRow{AuditEvent: e, Actor: e.ActorID}
		if strings.HasPrefix(e.ActorID, "tec_") {
			r.Actor = n.tech(e.ActorID)
		}
		if e.TenantID != "" {
			r.Tenant = n.tenant(e.TenantID)
		}
		d := map[string]any{}
		for k, v := range e.Details {
			if k != "request_id" {
				d[k] = v
			}
		}
		if len(d) > 0 {
			b, _ := json.Marshal(d)
			r.Details = string(b)
		}
		rows[i] = r
	}
	nextURL := ""
	if next != "" {
		q := url.Values{"cursor": {next}}
		if f.TenantID != "" {
			q.Set("tenant_id", f.TenantID)
		}
		nextURL = c.Request.URL.Path + "?" + q.Encode()
	}
	s.render(c, http.StatusOK, "audit.html", pageData{Title: "Audit log", Nav: "audit",
		Data: map[string]any{"Events": rows, "Next": nextURL, "Tenants": ts, "TenantID": f.TenantID,
			"Base": c.Request.URL.Path, "AllTenants": a.Role == store.RoleAdmin}})
}
