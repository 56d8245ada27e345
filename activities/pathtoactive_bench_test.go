package activities_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/entra"
	"github.com/jitaccess/jitaccess/internal/entrasim"
	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/notify"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// BenchmarkPathToActive times the product's own work on the path from request to active,
// step by step, without Temporal: the activities the worker runs, on PostgreSQL and the real
// connector against the emulator over HTTP (in this process, as in the benchmark's dev
// topology), a new account with 3 roles and a Temporary Access Pass each iteration. What it
// reports per step is what the product adds to a floor step at c = 1.
//
//	go test -run '^$' -bench PathToActive -benchtime 200x -cpuprofile /tmp/path.pprof ./activities/
func BenchmarkPathToActive(b *testing.B) {
	db := testenv.MigratedDB(b, "postgres")
	sl, err := seal.New([]byte(strings.Repeat("k", seal.KeySize)))
	if err != nil {
		b.Fatal(err)
	}
	st := store.New(db, sl)
	ctx := context.Background()
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	sim, err := entrasim.New(entrasim.Options{AutoConsent: true})
	must(err)
	ts := httptest.NewServer(sim)
	b.Cleanup(ts.Close)
	redirect := "http://127.0.0.1:9999/oauth/callback"
	dir := entra.New(entra.Config{Authority: ts.URL, GraphURL: ts.URL + "/v1.0", ClientID: entrasim.ClientID,
		ClientSecret: entrasim.ClientSecret, RedirectURL: redirect}, st)

	tn, err := st.CreateTenant(ctx, "Contoso")
	must(err)
	admin, _, err := st.CreateTechnician(ctx, "admin@msp.example", "Admin", store.RoleAdmin)
	must(err)
	app, err := st.CreateApplication(ctx, tn.ID, store.NewApplication{Name: "Entra", Type: "web", Credentials: "entra_oidc"})
	must(err)
	verifier := "verifier-" + strings.Repeat("v", 43)
	stop := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := stop.Get(dir.AuthCodeURL("s", verifier, entrasim.ContosoAdminUPN))
	must(err)
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	must(err)
	consent, err := dir.Redeem(ctx, loc.Query().Get("code"), verifier)
	must(err)
	_, err = st.SaveAuthorization(ctx, app.ID, consent, admin.ID)
	must(err)
	domain := "contoso.onmicrosoft.com"
	roles := []string{"729827e3-9c14-49f7-bb1b-9608f156bbb8", "fe930be7-5e62-47db-91af-98c3a49a38b1", "f2ef992c-3afb-46b9-b7cf-a126ee74c451"}
	_, err = st.UpdateApplication(ctx, tn.ID, app.ID, store.ApplicationPatch{Domain: &domain, Roles: &roles})
	must(err)

	acts := &activities.Activities{Store: st, Directory: dir, MaxAccessDuration: 8 * time.Hour, Now: time.Now,
		Notifier: &notify.Publisher{Store: st, PublicURL: "http://127.0.0.1:8080"}}
	signIn := &activities.SignIn{Store: st, Directory: dir}

	names := []string{"BeginGrant", "PrepareAccount", "EnsureAccount", "IssueTAP", "AssignRoles", "RecordGrant_active"}
	spent := make([]time.Duration, len(names))
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		tech, _, err := st.CreateTechnician(ctx, "tech"+strconv.Itoa(i)+"@msp.example", "Tech "+strconv.Itoa(i), "")
		must(err)
		must(st.AddMember(ctx, tn.ID, tech.ID))
		_, err = st.CreateRule(ctx, store.Rule{TenantID: tn.ID, Name: "tech " + strconv.Itoa(i), ConditionType: store.ConditionTechnician,
			TechnicianID: tech.ID, ApplicationID: app.ID})
		must(err)
		g, err := st.CreatePendingGrant(ctx, store.PendingGrant{WorkflowID: "access/" + tech.ID, TenantID: tn.ID, ApplicationID: app.ID,
			TechnicianID: tech.ID, Justification: "ticket", Duration: time.Hour})
		must(err)
		b.StartTimer()

		var plan workflows.Plan
		var acct workflows.AccountResult
		steps := []func() error{
			func() (err error) {
				plan, err = acts.BeginGrant(ctx, workflows.BeginInput{GrantID: g.ID, TenantID: tn.ID, ApplicationID: app.ID, TechnicianID: tech.ID,
					WorkflowID: g.WorkflowID, RunID: "run-" + g.ID, FirstRunID: "run-" + g.ID})
				if err == nil && (plan.Denied || plan.Refused) {
					b.Fatalf("grant not allowed: %s", plan.Reason)
				}
				return err
			},
			func() error {
				_, err := signIn.PrepareAccount(ctx, activities.PrepareAccountInput{GrantID: g.ID, ApplicationID: app.ID, UPN: plan.AccountUPN, KeepRoleIDs: plan.Roles})
				return err
			},
			func() (err error) {
				acct, err = acts.EnsureAccount(ctx, workflows.EnsureAccountInput{GrantID: g.ID, ApplicationID: app.ID,
					TechnicianEmail: plan.TechnicianEmail, TechnicianDisplayName: plan.TechnicianDisplayName, Domain: plan.Domain})
				return err
			},
			func() error {
				res, err := signIn.IssueTAP(ctx, activities.IssueTAPInput{GrantID: g.ID, ApplicationID: app.ID, ObjectID: acct.ObjectID, ExpiresAt: time.Now().Add(time.Hour)})
				if err == nil && !res.Issued {
					b.Fatal("no Temporary Access Pass issued")
				}
				return err
			},
			func() error {
				_, err := acts.AssignRoles(ctx, workflows.AssignRolesInput{GrantID: g.ID, ApplicationID: app.ID, ObjectID: acct.ObjectID, RoleIDs: plan.Roles})
				return err
			},
			func() error {
				now := time.Now()
				return acts.RecordGrant(ctx, []workflows.Record{{GrantID: g.ID, WorkflowID: g.WorkflowID, RunID: "run-" + g.ID, TenantID: tn.ID,
					ApplicationID: app.ID, TechnicianID: tech.ID, Status: workflows.StatusActive, Action: workflows.ActionActivated,
					Key: "activated", ActivatedAt: now, ExpiresAt: now.Add(time.Hour), AccountUPN: acct.UPN, AccountID: acct.ObjectID}})
			},
		}
		for k, step := range steps {
			start := time.Now()
			if err := step(); err != nil {
				b.Fatalf("%s: %v", names[k], err)
			}
			spent[k] += time.Since(start)
		}
	}
	total := time.Duration(0)
	for k, name := range names {
		total += spent[k]
		b.ReportMetric(float64(spent[k].Microseconds())/1000/float64(i), "ms/"+name)
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(i), "ms/path")
}
