package activities_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/notify"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// statements counts what the store sends to PostgreSQL (BEGIN and COMMIT included): each is
// one round trip.
type statements struct {
	n   atomic.Int64
	log []string
}

func (h *statements) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	h.n.Add(1)
	h.log = append(h.log, strings.SplitN(e.Query, " WHERE ", 2)[0])
	return ctx
}

func (h *statements) AfterQuery(context.Context, *bun.QueryEvent) {}

// benchStore is the product's store on a new migrated PostgreSQL database.
func benchStore(tb testing.TB) (*bun.DB, *store.Store) {
	db := testenv.MigratedDB(tb, "postgres")
	sl, err := seal.New([]byte(strings.Repeat("k", seal.KeySize)))
	if err != nil {
		tb.Fatal(err)
	}
	return db, store.New(db, sl)
}

// BenchmarkLifecycleRoundTrips counts the PostgreSQL round trips of each database step of a
// plain lifecycle (no notification destination configured), with the product's store and
// notification publisher: counts, not times. -v lists the statements.
//
//	go test -run '^$' -bench LifecycleRoundTrips -benchtime 1x -v ./activities/
func BenchmarkLifecycleRoundTrips(b *testing.B) {
	db, st := benchStore(b)
	h := &statements{}
	db.AddQueryHook(h)
	ctx := context.Background()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	tn, err := st.CreateTenant(ctx, "Contoso")
	must(err)
	admin, _, err := st.CreateTechnician(ctx, "admin@msp.example", "Admin", store.RoleAdmin)
	must(err)
	acts := &activities.Activities{Store: st, MaxAccessDuration: 8 * time.Hour, Now: time.Now,
		Notifier: &notify.Publisher{Store: st, PublicURL: "http://127.0.0.1:8080"}}
	app, err := st.CreateApplication(ctx, tn.ID, store.NewApplication{Name: "Entra", Type: "web", Credentials: "entra_oidc"})
	must(err)
	_, err = st.SaveAuthorization(ctx, app.ID, directory.Consent{RefreshToken: "rt", Account: "a@contoso.com", EntraTenantID: "tid"}, admin.ID)
	must(err)
	domain, roles := "contoso.com", []string{"role-1"}
	_, err = st.UpdateApplication(ctx, tn.ID, app.ID, store.ApplicationPatch{Domain: &domain, Roles: &roles})
	must(err)

	i := 0
	for b.Loop() {
		i++
		tech, _, err := st.CreateTechnician(ctx, "t"+strings.Repeat("x", i)+"@msp.example", "T", "")
		must(err)
		must(st.AddMember(ctx, tn.ID, tech.ID))
		g, err := st.CreatePendingGrant(ctx, store.PendingGrant{WorkflowID: "access/" + tech.ID, TenantID: tn.ID, ApplicationID: app.ID,
			TechnicianID: tech.ID, Justification: "ticket", Duration: time.Hour})
		must(err)
		rec := workflows.Record{GrantID: g.ID, WorkflowID: g.WorkflowID, RunID: "run", TenantID: tn.ID, ApplicationID: app.ID, TechnicianID: tech.ID}
		now := time.Now()
		active, revoking, expired := rec, rec, rec
		active.Status, active.Action, active.Key, active.ActivatedAt, active.ExpiresAt = workflows.StatusActive, workflows.ActionActivated, "activated", now, now.Add(time.Hour)
		revoking.Status, revoking.Key = workflows.StatusRevoking, "revoking"
		expired.Status, expired.Action, expired.Key, expired.EndedAt, expired.ReleaseAccount = workflows.StatusExpired, workflows.ActionExpired, "final", now, true
		steps := []struct {
			name string
			fn   func() error
		}{
			{"BeginGrant", func() error {
				_, err := acts.BeginGrant(ctx, workflows.BeginInput{GrantID: g.ID, TenantID: tn.ID, ApplicationID: app.ID, TechnicianID: tech.ID,
					WorkflowID: g.WorkflowID, RunID: "run", FirstRunID: "run"})
				return err
			}},
			{"EnsureAccount_db", func() error { // its database part: the remembered id, the sealed password
				if _, err := st.KnownAccountID(ctx, g.ID, "t@contoso.com"); err != nil {
					return err
				}
				return st.SaveCredential(ctx, g.ID, "t@contoso.com", "pw")
			}},
			{"RecordGrant_active", func() error { return acts.RecordGrant(ctx, []workflows.Record{active}) }},
			{"RecordGrant_revoking", func() error { return acts.RecordGrant(ctx, []workflows.Record{revoking}) }},
			{"DisableAccount_db", func() error { return st.DeleteCredential(ctx, g.ID) }},
			{"DeleteTAP_db", func() error { // beside the disable: the pass's id, then forgetting it
				if _, err := st.TAPID(ctx, g.ID); err != nil {
					return err
				}
				return st.ForgetTAP(ctx, g.ID)
			}},
			{"RecordGrant_expired", func() error { return acts.RecordGrant(ctx, []workflows.Record{expired}) }},
		}
		total := int64(0)
		for _, s := range steps {
			h.n.Store(0)
			h.log = nil
			must(s.fn())
			n := h.n.Load()
			total += n
			if i == 1 {
				b.ReportMetric(float64(n), "roundtrips/"+s.name)
				b.Logf("%s: %d round trips\n\t%s", s.name, n, strings.Join(h.log, "\n\t"))
			}
		}
		if i == 1 {
			b.ReportMetric(float64(total), "roundtrips/lifecycle")
		}
	}
}
