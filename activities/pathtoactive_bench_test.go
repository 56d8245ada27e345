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
	"github.com/jitaccess/jitaccess/notify"
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
//
// productEnv is the worker's activities on PostgreSQL and the real connector, consented to
// the emulator's Contoso tenant over HTTP, with one application of 3 roles and a Temporary
// Access Pass.
type productEnv struct {
	st     *store.Store
	sim    *entrasim.Server
	acts   *activities.Activities
	signIn *activities.SignIn
	tenant store.Tenant
	app    store.Application
}

func newProductEnv(tb testing.TB) productEnv {
	tb.Helper()
	_, st := benchStore(tb)
	ctx := context.Background()
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	sim, err := entrasim.New(entrasim.Options{AutoConsent: true})
	must(err)
	ts := httptest.NewServer(sim)
	tb.Cleanup(ts.Close)
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
	app, err = st.UpdateApplication(ctx, tn.ID, app.ID, store.ApplicationPatch{Domain: &domain, Roles: &roles})
	must(err)
	return productEnv{st: st, sim: sim, tenant: tn, app: app,
		acts: &activities.Activities{Store: st, Directory: dir, MaxAccessDuration: 8 * time.Hour, Now: time.Now,
			Notifier: &notify.Publisher{Store: st, PublicURL: "http://127.0.0.1:8080"}},
		signIn: &activities.SignIn{Store: st, Directory: dir}}
}

// newGrant is a pending grant of a new entitled technician (tech<i>).
func (e productEnv) newGrant(tb testing.TB, i int) (store.Technician, store.Grant) {
	tb.Helper()
	ctx := context.Background()
	tech, _, err := e.st.CreateTechnician(ctx, "tech"+strconv.Itoa(i)+"@msp.example", "Tech "+strconv.Itoa(i), "")
	if err == nil {
		err = e.st.AddMember(ctx, e.tenant.ID, tech.ID)
	}
	if err == nil {
		_, err = e.st.CreateRule(ctx, store.Rule{TenantID: e.tenant.ID, Name: "tech " + strconv.Itoa(i), ConditionType: store.ConditionTechnician,
			TechnicianID: tech.ID, ApplicationID: e.app.ID})
	}
	var g store.Grant
	if err == nil {
		g, err = e.st.CreatePendingGrant(ctx, store.PendingGrant{WorkflowID: "access/" + tech.ID, TenantID: e.tenant.ID, ApplicationID: e.app.ID,
			TechnicianID: tech.ID, Justification: "ticket", Duration: time.Hour})
	}
	if err != nil {
		tb.Fatal(err)
	}
	return tech, g
}

func BenchmarkPathToActive(b *testing.B) {
	e := newProductEnv(b)
	acts, signIn, tn, app := e.acts, e.signIn, e.tenant, e.app
	ctx := context.Background()
	names := []string{"BeginGrant", "PrepareAccount", "EnsureAccount", "IssueTAP", "AssignRoles", "RecordGrant_active"}
	spent := make([]time.Duration, len(names))
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		tech, g := e.newGrant(b, i)
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
