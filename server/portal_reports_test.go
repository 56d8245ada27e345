package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/store"
)

// In the portal an admin makes a member of staff an auditor of one tenant; the auditor then
// picks tenant, period and format on the reports page and downloads CSV and PDF, and the
// kept monthly reports of their tenant only; technicians are refused the page.
func TestPortalReportsAndAuditorTenants(t *testing.T) {
	pe := newPortalEnv(t)
	f := pe.fixture()
	ctx := context.Background()
	other := pe.createTenant("Northwind")
	want := seedReportMonth(t, pe.store, f.tenantID, other)
	for _, tn := range []string{f.tenantID, other} {
		_, _, err := pe.store.KeepReport(ctx, store.KeptReport{TenantID: tn, PeriodFrom: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
			PeriodTo: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Format: "csv", Content: []byte("kept " + tn), CreatedBy: "schedule"})
		require.NoError(t, err)
	}

	admin := pe.browser()
	admin.signIn("admin@msp.example")
	p := admin.get("/admin/staff")
	require.Contains(t, p.Body, `action="/admin/auditors"`)
	require.Contains(t, p.Body, `<option value="`+f.outsiderID+`">`)
	p = admin.post("/admin/auditors", url.Values{"csrf_token": {admin.csrf()}, "technician_id": {f.outsiderID}, "tenant_ids": {f.tenantID}}, pe.url)
	require.Equal(t, 200, p.Status, p.Body)
	require.Contains(t, p.Body, "Auditor&#39;s tenants saved")
	require.Regexp(t, `outsider@msp.example</span></th>\s*<td>Contoso Retail</td>`, p.Body)
	// A refusal is shown on the page.
	p = admin.post("/admin/auditors", url.Values{"csrf_token": {admin.csrf()}, "technician_id": {f.outsiderID}, "tenant_ids": {"tnt_missing"}}, pe.url)
	require.Equal(t, 400, p.Status)
	require.Contains(t, p.Body, "names a tenant that does not exist")
	p = admin.get("/reports")
	require.Equal(t, 200, p.Status)
	require.Contains(t, p.Body, ">Northwind</option>", "admins report on every tenant")

	auditor := pe.browser()
	auditor.signIn("outsider@msp.example")
	p = auditor.get("/reports")
	require.Equal(t, 200, p.Status, p.Body)
	require.Contains(t, p.Body, `<a href="/reports" aria-current="page">Reports</a>`)
	require.Contains(t, p.Body, ">Contoso Retail</option>")
	require.NotContains(t, p.Body, "Northwind")
	links := regexp.MustCompile(`href="(/reports/kept/rep_[a-z2-7]+)"`).FindAllStringSubmatch(p.Body, -1)
	require.Len(t, links, 1, "only their tenant's kept report")
	kept := auditor.get(links[0][1])
	require.Equal(t, "kept "+f.tenantID, kept.Body)

	q := url.Values{"tenant_id": {f.tenantID}, "from": {"2026-11-01"}, "to": {"2026-12-01"}, "format": {"csv"}}
	res := auditor.get("/reports/download?" + q.Encode())
	require.Equal(t, 200, res.Status, res.Body)
	require.Equal(t, "text/csv; charset=utf-8", res.Header.Get("Content-Type"))
	require.Contains(t, res.Header.Get("Content-Disposition"), "attachment;")
	rows, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
	require.NoError(t, err)
	grants := 0
	for _, r := range rows[1:] {
		if r[0] == "grant" {
			require.Contains(t, want, r[1])
			grants++
		}
	}
	require.Equal(t, len(want), grants)
	q.Set("format", "pdf")
	res = auditor.get("/reports/download?" + q.Encode())
	require.Equal(t, "application/pdf", res.Header.Get("Content-Type"))
	require.True(t, bytes.HasPrefix([]byte(res.Body), []byte("%PDF-")))

	q.Set("tenant_id", other)
	require.Equal(t, 403, auditor.get("/reports/download?"+q.Encode()).Status)
	q.Set("tenant_id", f.tenantID)
	q.Set("to", "2026-10-01")
	p = auditor.get("/reports/download?" + q.Encode())
	require.Equal(t, 400, p.Status)
	require.Contains(t, p.Body, "must be after from")
	require.Equal(t, 403, auditor.get("/admin/staff").Status)

	// Grants and the audit log of their tenant, read-only, and nothing of another tenant.
	require.NoError(t, pe.store.RecordAudit(ctx, store.AuditEvent{TenantID: f.tenantID, ActorID: "admin", ActorKind: store.ActorSystem, Action: "check.contoso_event"}))
	require.NoError(t, pe.store.RecordAudit(ctx, store.AuditEvent{TenantID: other, ActorID: "admin", ActorKind: store.ActorSystem, Action: "check.northwind_event"}))
	p = auditor.get("/my")
	require.Contains(t, p.Body, `href="/review/audit"`)
	require.NotContains(t, p.Body, `href="/admin/audit"`)
	p = auditor.get("/review/audit")
	require.Equal(t, 200, p.Status, p.Body)
	require.Contains(t, p.Body, "check.contoso_event")
	require.NotContains(t, p.Body, "check.northwind_event")
	require.NotContains(t, p.Body, "All tenants")
	require.Equal(t, 403, auditor.get("/review/audit?tenant_id="+other).Status)
	p = auditor.get("/review/grants?status=expired")
	require.Equal(t, 200, p.Status, p.Body)
	require.Contains(t, p.Body, "Contoso Retail")
	require.NotContains(t, p.Body, "Northwind")
	require.NotContains(t, p.Body, ">Revoke</button>")
	require.Equal(t, 403, auditor.get("/review/grants?status=expired&tenant_id="+other).Status)
	require.Equal(t, 403, auditor.get("/admin/audit").Status)
	p = admin.get("/admin/audit")
	require.Contains(t, p.Body, "check.contoso_event")
	require.Contains(t, p.Body, "check.northwind_event")

	tech := pe.browser()
	tech.signIn("tech@msp.example")
	require.Equal(t, 403, tech.get("/reports").Status)
	require.Equal(t, 403, tech.get("/reports/download?tenant_id="+f.tenantID).Status)
	require.Equal(t, 403, tech.get("/review/audit").Status)
	require.Equal(t, 403, tech.get("/review/grants").Status)
	require.NotContains(t, tech.get("/my").Body, `href="/reports"`)
}
