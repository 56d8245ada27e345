package activities_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/entra"
	"github.com/jitaccess/jitaccess/internal/entrasim"
	"github.com/jitaccess/jitaccess/store"
)

// *store.Store and *entra.Client are what the worker wires in.
var (
	_ activities.SignInStore     = (*store.Store)(nil)
	_ activities.SignInDirectory = (*entra.Client)(nil)
)

// signInStore is an in-memory SignInStore and entra.CredentialStore.
type signInStore struct {
	mu        sync.Mutex
	tenant    string // the application's pinned Entra tenant
	rt        string
	method    string
	known     string
	grantTID  string
	taps      map[string]directory.TAP
	pinsAsked int
}

func (s *signInStore) RefreshToken(context.Context, string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tenant, s.rt, nil
}
func (s *signInStore) SaveRefreshToken(_ context.Context, _ string, rt string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rt = rt
	return nil
}
func (s *signInStore) KnownAccountID(context.Context, string, string) (string, error) {
	return s.known, nil
}
func (s *signInStore) PinGrantTenant(context.Context, string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pinsAsked++
	if s.grantTID == "" {
		s.grantTID = s.tenant
	}
	return s.grantTID, nil
}
func (s *signInStore) SignInMethod(context.Context, string) (string, error) { return s.method, nil }
func (s *signInStore) SaveTAP(_ context.Context, grantID string, tap directory.TAP) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.taps[grantID] = tap
	return nil
}
func (s *signInStore) TAPID(_ context.Context, grantID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.taps[grantID].ID, nil
}
func (s *signInStore) ForgetTAP(_ context.Context, grantID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.taps, grantID)
	return nil
}
func (s *signInStore) TAPExpiry(_ context.Context, grantID string) (time.Time, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.taps[grantID]
	return t.ExpiresAt, ok, nil
}

type signInEnv struct {
	sim *entrasim.Server
	st  *signInStore
	dir *entra.Client
	env *testsuite.TestActivityEnvironment
	a   *activities.SignIn
	// base is the emulator's URL.
	base string
}

const signInApp = "app_signin000000001"

// newSignInEnv consents as the admin of tenant (by domain) through the emulator and the real connector.
func newSignInEnv(t *testing.T, tenantDomain, admin string) *signInEnv {
	t.Helper()
	sim, err := entrasim.New(entrasim.Options{AutoConsent: true})
	require.NoError(t, err)
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	st := &signInStore{method: store.SignInPasswordAndTAP, taps: map[string]directory.TAP{}}
	redirect := "http://127.0.0.1:9999/oauth/callback"
	dir := entra.New(entra.Config{Authority: ts.URL, GraphURL: ts.URL + "/v1.0", ClientID: entrasim.ClientID,
		ClientSecret: entrasim.ClientSecret, RedirectURL: redirect}, st)
	verifier := "verifier-" + strings.Repeat("v", 43)
	stop := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := stop.Get(dir.AuthCodeURL("s", verifier, admin))
	require.NoError(t, err)
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	consent, err := dir.Redeem(context.Background(), loc.Query().Get("code"), verifier)
	require.NoError(t, err)
	st.tenant, st.rt = consent.EntraTenantID, consent.RefreshToken
	_ = tenantDomain

	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	a := &activities.SignIn{Store: st, Directory: dir}
	env.RegisterActivity(a)
	return &signInEnv{sim: sim, st: st, dir: dir, env: env, a: a, base: ts.URL}
}

func appErrType(t *testing.T, err error) (string, bool) {
	t.Helper()
	var ae *temporal.ApplicationError
	require.ErrorAs(t, err, &ae)
	return ae.Type(), ae.NonRetryable()
}

func TestSignInLifecycleAgainstEmulator(t *testing.T) {
	e := newSignInEnv(t, "contoso.onmicrosoft.com", entrasim.ContosoAdminUPN)
	ctx := context.Background()
	spec, err := directory.NewAccountSpec("alice@msp.example", "Alice", "contoso.com")
	require.NoError(t, err)

	// First grant: nothing exists, nothing to clean.
	v, err := e.env.ExecuteActivity(e.a.PrepareAccount, activities.PrepareAccountInput{GrantID: "g1", ApplicationID: signInApp, UPN: spec.UPN})
	require.NoError(t, err)
	var prep activities.PrepareAccountResult
	require.NoError(t, v.Get(&prep))
	require.Empty(t, prep.ObjectID)
	acct, err := e.dir.EnsureAccount(ctx, signInApp, spec, directory.NewPassword())
	require.NoError(t, err)

	expires := time.Now().Add(4 * time.Hour)
	v, err = e.env.ExecuteActivity(e.a.IssueTAP, activities.IssueTAPInput{GrantID: "g1", ApplicationID: signInApp, ObjectID: acct.ObjectID, ExpiresAt: expires})
	require.NoError(t, err)
	var issued activities.IssueTAPResult
	require.NoError(t, v.Get(&issued))
	require.True(t, issued.Issued)
	require.False(t, issued.CappedByPolicy)
	require.WithinDuration(t, expires, issued.ExpiresAt, 2*time.Minute)
	require.NotEmpty(t, e.st.taps["g1"].Pass)
	require.Equal(t, issued.TAPID, e.st.taps["g1"].ID)

	// A grant longer than the policy's 8 hours gets a capped pass, and says so.
	v, err = e.env.ExecuteActivity(e.a.IssueTAP, activities.IssueTAPInput{GrantID: "g1", ApplicationID: signInApp, ObjectID: acct.ObjectID, ExpiresAt: time.Now().Add(12 * time.Hour)})
	require.NoError(t, err)
	require.NoError(t, v.Get(&issued))
	require.True(t, issued.CappedByPolicy)

	// Disable: the TAP goes.
	_, err = e.env.ExecuteActivity(e.a.DeleteTAP, activities.DeleteTAPInput{GrantID: "g1", ApplicationID: signInApp, ObjectID: acct.ObjectID})
	require.NoError(t, err)
	u, _ := e.sim.User(entrasim.ContosoTenant, acct.ObjectID)
	require.Len(t, u.AuthMethods, 1)

	// Dormant: a customer admin adds their own phone and FIDO2 key. The next grant removes them.
	for _, typ := range []string{"phone", "fido2"} {
		_, err := e.sim.AddAuthMethod(entrasim.ContosoTenant, acct.ObjectID, typ)
		require.NoError(t, err)
	}
	e.st.known = acct.ObjectID
	v, err = e.env.ExecuteActivity(e.a.PrepareAccount, activities.PrepareAccountInput{GrantID: "g2", ApplicationID: signInApp, UPN: spec.UPN})
	require.NoError(t, err)
	require.NoError(t, v.Get(&prep))
	require.Equal(t, acct.ObjectID, prep.ObjectID)
	require.Len(t, prep.RemovedMethods, 2)
	require.True(t, prep.SessionsRevoked)
	u, _ = e.sim.User(entrasim.ContosoTenant, acct.ObjectID)
	require.Len(t, u.AuthMethods, 1)

	// The tenant turns its TAP policy off: a typed, non-retryable failure the technician can read.
	require.NoError(t, e.sim.SetTAPPolicyEnabled(entrasim.ContosoTenant, false))
	_, err = e.env.ExecuteActivity(e.a.IssueTAP, activities.IssueTAPInput{GrantID: "g2", ApplicationID: signInApp, ObjectID: acct.ObjectID, ExpiresAt: expires})
	typ, nonRetryable := appErrType(t, err)
	require.Equal(t, activities.ErrTypeTAPPolicyDisabled, typ)
	require.True(t, nonRetryable)
	require.Contains(t, err.Error(), "sign_in_method")

	// Password-only applications issue none.
	e.st.method = store.SignInPassword
	v, err = e.env.ExecuteActivity(e.a.IssueTAP, activities.IssueTAPInput{GrantID: "g2", ApplicationID: signInApp, ObjectID: acct.ObjectID, ExpiresAt: expires})
	require.NoError(t, err)
	require.NoError(t, v.Get(&issued))
	require.False(t, issued.Issued)
}

func TestPrepareAccountRefusesAPreCreatedAccount(t *testing.T) {
	e := newSignInEnv(t, "contoso.onmicrosoft.com", entrasim.ContosoAdminUPN)
	ctx := context.Background()
	// Someone else's account under the predictable name (created here through the connector
	// and then stripped of the marker, as a customer admin would leave it).
	bob, err := directory.NewAccountSpec("bob@msp.example", "Bob", "contoso.com")
	require.NoError(t, err)
	acct, err := e.dir.EnsureAccount(ctx, signInApp, bob, directory.NewPassword())
	require.NoError(t, err)
	_, err = e.env.ExecuteActivity(e.a.PrepareAccount, activities.PrepareAccountInput{GrantID: "g1", ApplicationID: signInApp, UPN: bob.UPN})
	typ, nonRetryable := appErrType(t, err)
	require.Equal(t, activities.ErrTypeAccountConflict, typ, "no object id on record")
	require.True(t, nonRetryable)
	require.Contains(t, err.Error(), bob.UPN)
	_, err = e.sim.AddAuthMethod(entrasim.ContosoTenant, acct.ObjectID, "phone")
	require.NoError(t, err)
	u, _ := e.sim.User(entrasim.ContosoTenant, acct.ObjectID)
	require.Len(t, u.AuthMethods, 2, "a refused account is left untouched")
}

func TestDeleteTAPNeverSucceedsInAnotherTenant(t *testing.T) {
	e := newSignInEnv(t, "contoso.onmicrosoft.com", entrasim.ContosoAdminUPN)
	// The grant was made in northwind; the application now holds a contoso token.
	e.st.grantTID = strings.ToLower(entrasim.NorthwindTenantID)
	e.sim.ResetStats()
	_, err := e.env.ExecuteActivity(e.a.DeleteTAP, activities.DeleteTAPInput{GrantID: "g1", ApplicationID: signInApp, ObjectID: "00000000-0000-0000-0000-00000000abcd"})
	typ, nonRetryable := appErrType(t, err)
	require.Equal(t, activities.ErrTypeTenantMismatch, typ)
	require.False(t, nonRetryable, "a disable keeps retrying until an admin fixes the application")
	require.Zero(t, e.sim.Stats().Total, "nothing was sent to the wrong tenant")
	require.False(t, errors.Is(err, directory.ErrNotFound))
}
