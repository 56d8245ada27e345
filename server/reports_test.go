package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/store"
)

type seededReportGrant struct {
	tech              string
	requested, active time.Time
	ended             time.Time
	status            string
}

// seedReportMonth writes November 2026 grants of tenant into the store as the workflow
// does (pending → active → ended with audit events), plus one in October and one of
// another tenant; it returns the grants the November report of tenant must list.
func seedReportMonth(t *testing.T, st *store.Store, tenant, other string) map[string]seededReportGrant {
	t.Helper()
	ctx := context.Background()
	alice, _, err := st.CreateTechnician(ctx, "alice.report@msp.example", "Alice", "")
	require.NoError(t, err)
	app, err := st.CreateApplication(ctx, tenant, store.NewApplication{Name: "Entra ID - Contoso", Type: "web", Credentials: "entra_oidc"})
	require.NoError(t, err)
	otherApp, err := st.CreateApplication(ctx, other, store.NewApplication{Name: "Entra ID - Other", Type: "web", Credentials: "entra_oidc"})
	require.NoError(t, err)
	want := map[string]seededReportGrant{}
	for i, p := range []struct {
		tenant, app string
		req         time.Time
		held        time.Duration
		end         string
	}{
		{tenant, app.ID, time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC), 2 * time.Hour, "expired"},
		{tenant, app.ID, time.Date(2026, 11, 20, 14, 30, 0, 0, time.UTC), 45 * time.Minute, "revoked"},
		{tenant, app.ID, time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC), time.Hour, "expired"},
		{other, otherApp.ID, time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC), time.Hour, "expired"},
	} {
		pg, err := st.CreatePendingGrant(ctx, store.PendingGrant{WorkflowID: "access/" + p.tenant + "/" + p.app + "/" + alice.ID,
			TenantID: p.tenant, ApplicationID: p.app, TechnicianID: alice.ID, Justification: "ticket work", RequestedAt: p.req})
		require.NoError(t, err)
		run := fmt.Sprint("run-", i)
		require.NoError(t, st.AttachRun(ctx, pg.ID, run))
		act, end := p.req.Add(30*time.Second), p.req.Add(30*time.Second+p.held)
		u := store.GrantUpdate{GrantID: pg.ID, RunID: run, Roles: []string{"User Administrator"}, Status: "pending"}
		ev := func(action string, at time.Time) *store.AuditEvent {
			return &store.AuditEvent{ID: store.DerivedID("aud", pg.ID+action), CreatedAt: at, TenantID: p.tenant, ActorID: "system",
				ActorKind: "system", Action: action, Target: pg.ID, Details: map[string]any{"ended_at": end.Format(time.RFC3339Nano)}}
		}
		require.NoError(t, st.RecordTransition(ctx, u, ev("grant.requested", p.req)))
		u.Status, u.ActivatedAt = "active", act
		require.NoError(t, st.RecordTransition(ctx, u, ev("grant.activated", act)))
		u.Status, u.EndedAt = p.end, end
		require.NoError(t, st.RecordTransition(ctx, u, ev("grant."+p.end, end.Add(time.Second))))
		if p.tenant == tenant && p.req.Month() == time.November {
			want[pg.ID] = seededReportGrant{tech: alice.Email, requested: p.req, active: act, ended: end, status: p.end}
		}
	}
	return want
}

// Admins and the tenant's auditors download a tenant's report for a period as CSV (rows
// match the seeded grants) or PDF; technicians, and auditors of other tenants, are refused.
func TestReportDownload(t *testing.T) {
	e := newEnv(t, withStubWorkflows)
	ctx := context.Background()
	contoso := e.createTenant("Contoso")
	other := e.createTenant("Northwind")
	want := seedReportMonth(t, e.store, contoso, other)
	_, techToken := e.createTechnician("tech.report@msp.example")
	r := e.must(201, e.do("POST", "/v1/technicians", e.adminToken, map[string]any{"email": "auditor.report@msp.example", "display_name": "Auditor", "role": "auditor"}))
	auditorID, auditorToken := r.str("id"), r.str("token")
	e.must(200, e.do("PUT", "/v1/technicians/"+auditorID+"/auditor-tenants", e.adminToken, map[string]any{"tenant_ids": []string{contoso}}))

	q := func(tenant, format string) string {
		return "/v1/reports?" + url.Values{"tenant_id": {tenant}, "from": {"2026-11-01"}, "to": {"2026-12-01"}, "format": {format}}.Encode()
	}
	for _, token := range []string{e.adminToken, auditorToken} {
		res := e.must(200, e.do("GET", q(contoso, "csv"), token, nil))
		require.Equal(t, "text/csv; charset=utf-8", res.Header.Get("Content-Type"))
		require.Equal(t, `attachment; filename="jitaccess-`+contoso+`-2026-11-01-2026-12-01.csv"`, res.Header.Get("Content-Disposition"))
		rows, err := csv.NewReader(bytes.NewReader(res.Body)).ReadAll()
		require.NoError(t, err)
		col := map[string]int{}
		for i, h := range rows[0] {
			col[h] = i
		}
		got := map[string]bool{}
		for _, row := range rows[1:] {
			if row[col["record"]] != "grant" {
				continue
			}
			g, ok := want[row[col["id"]]]
			require.True(t, ok, "grant %s is not one of November's in this tenant", row[col["id"]])
			require.Equal(t, g.tech, row[col["technician"]])
			require.Equal(t, g.requested.Format(time.RFC3339), row[col["requested_at"]])
			require.Equal(t, g.active.Format(time.RFC3339), row[col["activated_at"]])
			require.Equal(t, g.ended.Format(time.RFC3339), row[col["ended_at"]])
			require.Equal(t, fmt.Sprint(int(g.ended.Sub(g.active).Seconds())), row[col["held_seconds"]])
			require.Equal(t, g.status, row[col["outcome"]])
			got[row[col["id"]]] = true
		}
		require.Len(t, got, len(want))

		pdf := e.must(200, e.do("GET", q(contoso, "pdf"), token, nil))
		require.Equal(t, "application/pdf", pdf.Header.Get("Content-Type"))
		require.True(t, bytes.HasPrefix(pdf.Body, []byte("%PDF-")), "not a PDF")
	}

	// Refused: a technician; the auditor for another tenant; bad input.
	require.Equal(t, 403, e.do("GET", q(contoso, "csv"), techToken, nil).Status)
	require.Equal(t, 403, e.do("GET", "/v1/reports/kept", techToken, nil).Status)
	require.Equal(t, 403, e.do("GET", q(other, "csv"), auditorToken, nil).Status)
	require.Equal(t, "invalid_field", e.do("GET", q(contoso, "docx"), e.adminToken, nil).errorCode())
	require.Equal(t, "invalid_field", e.do("GET", "/v1/reports?tenant_id="+contoso+"&from=2026-11-01&to=2026-10-01", e.adminToken, nil).errorCode())
	require.Equal(t, 404, e.do("GET", q("tnt_missing", "csv"), e.adminToken, nil).Status)

	// Kept reports: listed and downloadable within the auditor's tenants only.
	for _, tn := range []string{contoso, other} {
		for _, f := range []string{"csv", "pdf"} {
			_, _, err := e.store.KeepReport(ctx, store.KeptReport{TenantID: tn, PeriodFrom: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
				PeriodTo: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Format: f, Content: []byte(f + " of " + tn), CreatedBy: "schedule"})
			require.NoError(t, err)
		}
	}
	require.Len(t, e.must(200, e.do("GET", "/v1/reports/kept", e.adminToken, nil)).items(), 4)
	kept := e.must(200, e.do("GET", "/v1/reports/kept", auditorToken, nil)).items()
	require.Len(t, kept, 2)
	for _, k := range kept {
		require.Equal(t, contoso, k["tenant_id"])
		res := e.must(200, e.do("GET", k["download_url"].(string), auditorToken, nil))
		require.Equal(t, k["format"].(string)+" of "+contoso, string(res.Body))
		require.Equal(t, k["sha256"], res.Header.Get("X-Content-SHA256"))
	}
	adminKept := e.must(200, e.do("GET", "/v1/reports/kept?tenant_id="+other, e.adminToken, nil)).items()
	require.Len(t, adminKept, 2)
	require.Equal(t, 404, e.do("GET", adminKept[0]["download_url"].(string), auditorToken, nil).Status)
	require.Equal(t, 403, e.do("GET", "/v1/reports/kept?tenant_id="+other, auditorToken, nil).Status)

	acts := e.auditActions()
	require.Contains(t, acts, "report.generated")
	require.Contains(t, acts, "report.downloaded")
}
