package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/report"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store"
)

var updateSample = flag.Bool("update-sample", false, "rewrite the sample report in docs/")

type seeded struct {
	tenant store.Tenant
	from   time.Time
	to     time.Time
	grants map[string]seededGrant // by grant id, only those requested in the month
}

type seededGrant struct {
	tech                           string
	requested, activated, ended    time.Time
	status, ticket, approver, just string
}

// seedMonth writes November 2026 for a tenant the way the workflow does: each grant's
// transitions with their audit events, plus a grant of October, a denied request and a drift
// finding.
func seedMonth(t *testing.T, st *store.Store) seeded {
	t.Helper()
	ctx := context.Background()
	tn, err := st.CreateTenant(ctx, "Contoso Ltd")
	require.NoError(t, err)
	other, err := st.CreateTenant(ctx, "Fabrikam")
	require.NoError(t, err)
	alice, _, err := st.CreateTechnician(ctx, "alice@msp.example", "Alice", "")
	require.NoError(t, err)
	bob, _, err := st.CreateTechnician(ctx, "bob@msp.example", "Bob", "")
	require.NoError(t, err)
	boss, _, err := st.CreateTechnician(ctx, "boss@msp.example", "Boss", store.RoleAdmin)
	require.NoError(t, err)
	app, err := st.CreateApplication(ctx, tn.ID, store.NewApplication{Name: "Entra ID - Contoso", Type: "web", Credentials: "entra_oidc"})
	require.NoError(t, err)
	otherApp, err := st.CreateApplication(ctx, other.ID, store.NewApplication{Name: "Entra ID - Fabrikam", Type: "web", Credentials: "entra_oidc"})
	require.NoError(t, err)

	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	s := seeded{tenant: tn, from: from, to: from.AddDate(0, 1, 0), grants: map[string]seededGrant{}}
	day := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, time.UTC) }
	type plan struct {
		tenant, app            string
		tech                   store.Technician
		req                    time.Time
		held                   time.Duration
		end                    string
		ticket, approver, just string
	}
	plans := []plan{
		{tn.ID, app.ID, alice, day(3, 9, 0), 2 * time.Hour, "expired", "INC-1001", "", "Mailbox restore"},
		{tn.ID, app.ID, alice, day(3, 14, 30), 45 * time.Minute, "revoked", "INC-1002", boss.ID, "Conditional access fix"},
		{tn.ID, app.ID, bob, day(17, 22, 5), 4 * time.Hour, "expired", "CHG-77", boss.ID, "Licence migration"},
		{tn.ID, app.ID, bob, time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC), time.Hour, "expired", "OLD-1", "", "October"},
		{other.ID, otherApp.ID, bob, day(5, 10, 0), time.Hour, "expired", "FAB-1", "", "Other tenant"},
	}
	for i, p := range plans {
		wf := "access/" + p.tenant + "/" + p.app + "/" + p.tech.ID
		run := fmt.Sprintf("run-%d", i)
		act, end := p.req.Add(40*time.Second), p.req.Add(40*time.Second+p.held)
		pg, err := st.CreatePendingGrant(ctx, store.PendingGrant{WorkflowID: wf, TenantID: p.tenant, ApplicationID: p.app,
			TechnicianID: p.tech.ID, Justification: p.just, RequestedAt: p.req})
		require.NoError(t, err)
		require.NoError(t, st.AttachRun(ctx, pg.ID, run))
		id := pg.ID
		u := store.GrantUpdate{GrantID: id, RunID: run, Roles: []string{"Exchange Administrator"}}
		ev := func(action, actor string, at time.Time, details map[string]any) *store.AuditEvent {
			return &store.AuditEvent{ID: store.DerivedID("aud", id+action), CreatedAt: at, TenantID: p.tenant, ActorID: actor,
				ActorKind: "technician", Action: action, Target: id, Details: details}
		}
		u.Status = "pending"
		require.NoError(t, st.RecordTransition(ctx, u, ev("grant.requested", p.tech.ID, p.req, map[string]any{"ticket_reference": p.ticket})))
		if p.approver != "" {
			require.NoError(t, st.RecordAudit(ctx, *ev("grant.approved", p.approver, p.req.Add(20*time.Second), nil)))
		}
		u.Status, u.ActivatedAt = "active", act
		require.NoError(t, st.RecordTransition(ctx, u, ev("grant.activated", "system", act, nil)))
		u.Status, u.EndedAt = p.end, end
		if p.end == "revoked" {
			u.RevokedBy = boss.ID
		}
		require.NoError(t, st.RecordTransition(ctx, u, ev("grant."+p.end, "system", end.Add(2*time.Second),
			map[string]any{"ended_at": end.Format(time.RFC3339Nano)})))
		if p.tenant == tn.ID && !p.req.Before(from) {
			s.grants[id] = seededGrant{tech: p.tech.Email, requested: p.req, activated: act, ended: end, status: p.end, ticket: p.ticket,
				approver: map[string]string{"": "", boss.ID: boss.Email}[p.approver], just: p.just}
		}
	}
	require.NoError(t, st.RecordAudit(ctx, store.AuditEvent{CreatedAt: day(9, 8, 0), TenantID: tn.ID, ActorID: bob.ID, ActorKind: "technician",
		Action: "grant.request_denied", Target: app.ID, Details: map[string]any{"reason": "not_entitled"}}))
	require.NoError(t, st.RecordAudit(ctx, store.AuditEvent{CreatedAt: day(12, 3, 0), TenantID: tn.ID, Action: "reconcile.drift_found",
		Target: "user-123", Details: map[string]any{"finding": "account enabled outside a grant"}}))
	return s
}

func TestMonthlyReportMatchesTheGrants(t *testing.T) {
	db := testenv.MigratedDB(t, "postgres")
	sealer, err := seal.New([]byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	st := store.New(db, sealer)
	s := seedMonth(t, st)
	ctx := context.Background()
	generated := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)

	r, err := report.Build(ctx, st, s.tenant.ID, s.from, s.to, generated)
	require.NoError(t, err)
	require.Len(t, r.Grants, len(s.grants))
	for _, g := range r.Grants {
		want, ok := s.grants[g.ID]
		require.True(t, ok, g.ID)
		require.Equal(t, want.tech, g.Technician)
		require.Equal(t, "Entra ID - Contoso", g.Application)
		require.Equal(t, want.ticket, g.Ticket)
		require.Equal(t, want.just, g.Justification)
		require.Equal(t, want.approver, g.Approver)
		require.Equal(t, want.status, g.Outcome)
		require.True(t, want.requested.Equal(g.RequestedAt), g.ID)
		require.True(t, want.activated.Equal(g.ActivatedAt), g.ID)
		require.True(t, want.ended.Equal(g.EndedAt), g.ID)
		require.True(t, want.ended.Equal(g.DisabledAt), g.ID)
		require.NotZero(t, g.ProofSeq)
		require.NotEmpty(t, g.ProofEventID)
	}
	require.Len(t, r.Denied, 1)
	require.Contains(t, r.Denied[0].Detail, "not_entitled")
	require.Len(t, r.Drift, 1)
	perDay := map[int]int{}
	for _, d := range r.GrantsPerDay() {
		perDay[d.Day.Day()] = d.Count
	}
	require.Len(t, r.GrantsPerDay(), 30)
	require.Equal(t, map[int]int{3: 2, 17: 1}, nonZero(perDay))
	held := r.HeldPerTechnician()
	require.Equal(t, "bob@msp.example", held[0].Technician)
	require.Equal(t, 4*time.Hour, held[0].Held)
	require.Equal(t, 2*time.Hour+45*time.Minute, held[1].Held)

	var csvBuf bytes.Buffer
	require.NoError(t, report.WriteCSV(&csvBuf, r))
	rows, err := csv.NewReader(bytes.NewReader(csvBuf.Bytes())).ReadAll()
	require.NoError(t, err)
	kinds := map[string]int{}
	for _, row := range rows[1:] {
		kinds[row[0]]++
		if row[0] == "grant" {
			want := s.grants[row[1]]
			require.Equal(t, want.requested.Format(time.RFC3339), row[8])
			require.Equal(t, want.ended.Format(time.RFC3339), row[10])
			require.Equal(t, fmt.Sprint(int64(want.ended.Sub(want.activated).Seconds())), row[11])
		}
	}
	require.Equal(t, map[string]int{"grant": 3, "denied": 1, "drift": 1}, kinds)

	var pdfBuf bytes.Buffer
	require.NoError(t, report.WritePDF(&pdfBuf, r))
	dir := t.TempDir()
	pdfPath := filepath.Join(dir, "report.pdf")
	require.NoError(t, os.WriteFile(pdfPath, pdfBuf.Bytes(), 0o600))
	text, err := exec.Command("pdftotext", "-layout", pdfPath, "-").Output()
	require.NoError(t, err)
	for _, want := range []string{"Privileged access report: Contoso Ltd", "Grants: 3.", "Time held: 6.8 h", "Denied requests: 1.",
		"Grants per day", "Hours held per technician", "alice@msp.example", "INC-1002", "boss@msp.example", "reconcile.drift_found"} {
		require.Contains(t, string(text), want)
	}
	// Every column fits the page: the proof of disable (time and chain sequence) is readable.
	require.Contains(t, string(text), "Disabled (proof)")
	for _, g := range r.Grants {
		require.Contains(t, string(text), fmt.Sprintf("%s #%d", g.DisabledAt.Format("01-02 15:04:05"), g.ProofSeq), g.ID)
	}
	require.NotContains(t, string(text), "OLD-1")
	require.NotContains(t, string(text), "FAB-1")
	out, err := exec.Command("pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", pdfPath, filepath.Join(dir, "page")).CombinedOutput()
	require.NoError(t, err, string(out))
	pngPath := filepath.Join(dir, "page-1.png")
	f, err := os.Open(pngPath)
	require.NoError(t, err)
	img, err := png.Decode(f)
	_ = f.Close()
	require.NoError(t, err)
	require.Greater(t, img.Bounds().Dx(), 800)
	require.True(t, hasColour(img), "the charts are drawn in colour")

	if *updateSample {
		require.NoError(t, os.WriteFile("../docs/report-sample.csv", csvBuf.Bytes(), 0o644))
		b, err := os.ReadFile(pngPath)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile("../docs/report-sample.png", b, 0o644))
	}
}

func nonZero(m map[int]int) map[int]int {
	out := map[int]int{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}
