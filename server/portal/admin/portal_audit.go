package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/server/portal"
	"github.com/jitaccess/jitaccess/server/web"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// The admin pages of live grants and the audit log.

// portalGrants lists the live grants (or those of ?status=), each linked to its workflow in
// the Temporal UI.
func (s *Pages) portalGrants(c *gin.Context) {
	ctx := c.Request.Context()
	status := c.Query("status")
	statuses := []string{string(workflows.StatusPending), string(workflows.StatusPendingApproval), string(workflows.StatusProvisioning), string(workflows.StatusActive), string(workflows.StatusRevoking)}
	if status != "" {
		statuses = []string{status}
	}
	tenantID := c.Query("tenant_id")
	a := s.Actor(c)
	ts, err := s.visibleTenants(ctx, a)
	if err != nil {
		s.Fail(c, err)
		return
	}
	if a.Role == store.RoleAuditor {
		if tenantID == "" && len(ts) > 0 {
			tenantID = ts[0].ID // an auditor of several tenants reads one at a time
		}
		if !slices.ContainsFunc(ts, func(t store.Tenant) bool { return t.ID == tenantID }) {
			s.Message(c, http.StatusForbidden, "Not one of your tenants", "You audit other tenants than this one.")
			return
		}
	}
	var all []store.Grant
	for _, st := range statuses {
		gs, _, err := s.Svc.ListGrants(ctx, a, store.GrantFilter{Status: st, TenantID: tenantID}, store.Page{Limit: store.MaxLimit})
		if err != nil {
			s.Fail(c, err)
			return
		}
		all = append(all, gs...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].RequestedAt.After(all[j].RequestedAt) })
	s.Render(c, http.StatusOK, "grants.html", portal.PageData{Title: "Grants", Nav: "grants", Data: map[string]any{
		"Grants": s.GrantRows(ctx, all), "Status": status, "CanRevoke": s.Deps.Workflows != nil && a.Role == store.RoleAdmin,
		"Base": c.Request.URL.Path, "Tenants": ts, "TenantID": tenantID, "AllTenants": a.Role == store.RoleAdmin,
		"Statuses": []string{"pending", "provisioning", "active", "revoking", "expired", "revoked", "denied", "failed"}}})
}

type auditRow struct {
	store.AuditEvent
	Actor   string
	Tenant  string
	Details string
}

func (s *Pages) portalAudit(c *gin.Context) {
	ctx := c.Request.Context()
	f := store.AuditFilter{TenantID: c.Query("tenant_id")}
	a := s.Actor(c)
	ts, err := s.visibleTenants(ctx, a)
	if err != nil {
		s.Fail(c, err)
		return
	}
	if a.Role == store.RoleAuditor {
		// An auditor reads the events of the tenants given to them, one tenant at a time
		// unless they were given all.
		pr, err := s.Principal(ctx, a)
		if err != nil {
			s.Fail(c, err)
			return
		}
		if f.TenantID == "" && !pr.Scope.All && len(ts) > 0 {
			f.TenantID = ts[0].ID
		}
		tenant, prob, ok := web.AuditorTenant(pr, f.TenantID)
		switch {
		case prob != nil:
			s.Fail(c, prob)
			return
		case !ok:
			s.Message(c, http.StatusForbidden, "Not one of your tenants", "You audit other tenants than this one.")
			return
		}
		f.TenantID = tenant
	}
	events, next, err := s.Deps.Store.AuditEvents(ctx, f, store.Page{Limit: 50, Cursor: c.Query("cursor")})
	if errors.Is(err, store.ErrBadCursor) {
		err = access.FieldError("cursor", "is not a cursor returned by this list.")
	}
	if err != nil {
		s.Fail(c, access.RefError(err))
		return
	}
	n := s.NewNames(ctx)
	rows := make([]auditRow, len(events))
	for i, e := range events {
		r := auditRow{AuditEvent: e, Actor: e.ActorID}
		if strings.HasPrefix(e.ActorID, "tec_") {
			r.Actor = n.Tech(e.ActorID)
		}
		if e.TenantID != "" {
			r.Tenant = n.Tenant(e.TenantID)
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
	s.Render(c, http.StatusOK, "audit.html", portal.PageData{Title: "Audit log", Nav: "audit",
		Data: map[string]any{"Events": rows, "Next": nextURL, "Tenants": ts, "TenantID": f.TenantID,
			"Base": c.Request.URL.Path, "AllTenants": a.Role == store.RoleAdmin}})
}
