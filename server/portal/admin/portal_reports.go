package admin

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/server/portal"
	"github.com/jitaccess/jitaccess/server/web"
	"github.com/jitaccess/jitaccess/store"
)

// The reports page (admins and auditors) and the staff page's auditor form (admins).

func (s *Pages) portalReportRoutes(in *gin.RouterGroup) {
	r := in.Group("/reports", s.portalRequireReader)
	r.GET("", s.portalReports)
	r.GET("/download", s.portalDownloadReport)
	r.GET("/kept/:report_id", s.portalDownloadKept)
	in.Group("/admin", s.RequireAdmin).POST("/auditors", s.portalSetAuditorTenants)
	// Auditors read grants and the audit log here (admins at /admin/grants and /admin/audit).
	rv := in.Group("/review", s.portalRequireReader)
	rv.GET("/grants", s.portalGrants)
	rv.GET("/audit", s.portalAudit)
}

// portalRequireReader lets admins and auditors through.
func (s *Pages) portalRequireReader(c *gin.Context) {
	if u := web.CurrentUser(c); u.Role != store.RoleAdmin && u.Role != store.RoleAuditor {
		s.Audit(c, store.AuditEvent{Action: "auth.denied", Target: c.FullPath(),
			Details: map[string]any{"method": c.Request.Method, "required_role": "admin or auditor", "portal": true}})
		s.Message(c, http.StatusForbidden, "For admins and auditors only", "Reports are for the MSP's admins and auditors.")
		return
	}
	c.Next()
}

// visibleTenants are the tenants the actor may report on, by name.
func (s *Pages) visibleTenants(ctx context.Context, a access.Actor) ([]store.Tenant, error) {
	ts, _, err := s.Deps.Store.Tenants(ctx, store.Page{Limit: store.MaxLimit})
	if err != nil || a.Role != store.RoleAuditor {
		return ts, err
	}
	p, err := s.Principal(ctx, a)
	if err != nil {
		return nil, err
	}
	out := ts[:0]
	for _, t := range ts {
		if p.Scope.All || p.Scope.Contains(t.ID) {
			out = append(out, t)
		}
	}
	return out, nil
}

type keptRow struct {
	store.KeptReport
	Tenant string
}

func (s *Pages) portalReports(c *gin.Context) { s.renderReports(c, http.StatusOK, nil) }

func (s *Pages) renderReports(c *gin.Context, status int, p *access.Error) {
	ctx, a := c.Request.Context(), s.Actor(c)
	ts, err := s.visibleTenants(ctx, a)
	if err != nil {
		s.Fail(c, err)
		return
	}
	kept, err := s.Svc.KeptReports(ctx, a, "")
	if err != nil {
		s.Fail(c, err)
		return
	}
	n := s.NewNames(ctx)
	rows := make([]keptRow, len(kept))
	for i, k := range kept {
		rows[i] = keptRow{KeptReport: k, Tenant: n.Tenant(k.TenantID)}
	}
	now := time.Now().UTC()
	to := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	from, toV := c.Query("from"), c.Query("to")
	if from == "" && toV == "" {
		from, toV = to.AddDate(0, -1, 0).Format(time.DateOnly), to.Format(time.DateOnly)
	}
	s.Render(c, status, "reports.html", portal.PageData{Title: "Reports", Nav: "reports", Problem: p, Data: map[string]any{
		"Tenants": ts, "Kept": rows, "TenantID": c.Query("tenant_id"), "From": from, "To": toV, "Format": c.Query("format")}})
}

func (s *Pages) portalDownloadReport(c *gin.Context) {
	in := access.ReportRequest{TenantID: c.Query("tenant_id"), Format: c.Query("format")}
	var bad *access.Error
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"from", &in.From}, {"to", &in.To}} {
		if t, ok := web.ParseDay(c.Query(f.name)); ok {
			*f.dst = t
		} else if bad == nil {
			bad = access.FieldError(f.name, "must be a date such as 2026-11-01.")
		}
	}
	if bad != nil {
		s.renderReports(c, http.StatusBadRequest, bad)
		return
	}
	r, err := s.Svc.GenerateReport(c.Request.Context(), s.Actor(c), in)
	if err != nil {
		s.FormFailed(c, err, func(status int, p *access.Error) { s.renderReports(c, status, p) })
		return
	}
	web.SendFile(c, r.ContentType, r.Filename, "", r.Content)
}

func (s *Pages) portalDownloadKept(c *gin.Context) {
	r, err := s.Svc.KeptReport(c.Request.Context(), s.Actor(c), c.Param("report_id"))
	if err != nil {
		s.Fail(c, err)
		return
	}
	web.SendFile(c, access.ReportContentType(r.Format), access.ReportFilename(r.TenantID, r.PeriodFrom, r.PeriodTo, r.Format), r.SHA256, r.Content)
}

// auditorRow is an auditor on the staff page with the tenants they see.
type auditorRow struct {
	store.Technician
	All     bool
	Tenants []string
}

// auditorStaffData is what the staff page's auditor section shows: the auditors and their
// tenants, the staff who may be made auditors, and the tenants to choose from.
func (s *Pages) auditorStaffData(ctx context.Context, self string, staff []store.Technician) (map[string]any, error) {
	ts, _, err := s.Deps.Store.Tenants(ctx, store.Page{Limit: store.MaxLimit})
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, t := range ts {
		names[t.ID] = t.Name
	}
	var auditors []auditorRow
	var candidates []store.Technician
	for _, t := range staff {
		if t.Role == store.RoleAuditor {
			p, err := s.Deps.Store.Principal(ctx, t)
			if err != nil {
				return nil, err
			}
			row := auditorRow{Technician: t, All: p.Scope.All}
			for _, id := range p.Scope.Tenants {
				row.Tenants = append(row.Tenants, portal.NameOr(names[id], id))
			}
			sort.Strings(row.Tenants)
			auditors = append(auditors, row)
		}
		if t.Role != store.RoleAdmin && t.ID != self && t.Active {
			candidates = append(candidates, t)
		}
	}
	return map[string]any{"Auditors": auditors, "Candidates": candidates, "AllTenants": ts}, nil
}

func (s *Pages) portalSetAuditorTenants(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.renderStaff(c, http.StatusBadRequest, access.FieldError("tenant_ids", "could not be read."))
		return
	}
	id := c.PostForm("technician_id")
	_, err := s.Svc.SetAuditorTenants(c.Request.Context(), s.Actor(c), access.AuditorScope{TechnicianID: id,
		All: c.PostForm("all_tenants") == "on", TenantIDs: c.PostFormArray("tenant_ids")})
	if err != nil {
		s.FormFailed(c, err, func(status int, p *access.Error) { s.renderStaff(c, status, p) })
		return
	}
	portal.Redirect(c, "/admin/staff?done=auditor_tenants")
}
