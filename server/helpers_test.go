package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/policy"
	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/server"
	"github.com/jitaccess/jitaccess/store"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	m.Run()
}

// Role template ids of two real built-in roles.
const (
	roleUserAdmin   = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	roleHelpdesk    = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
	contosoTenantID = "11111111-1111-1111-1111-111111111111"
)

// fakeDirectory stands in for the Entra connector: contoso's domains and roles, and an
// authorization server that issues one code per state and checks the PKCE verifier.
type fakeDirectory struct {
	mu        sync.Mutex
	verifiers map[string]string // code → verifier given with the state
	redeemed  map[string]bool
	account   string
	tenantID  string
	domainErr error
	tapOff    bool // the tenant's Temporary Access Pass policy is disabled
	unitOff   bool // the tenant refuses the restricted administrative unit (admin_unit_test.go)
	units     []string
}

func newFakeDirectory() *fakeDirectory {
	return &fakeDirectory{verifiers: map[string]string{}, redeemed: map[string]bool{},
		account: "admin@contoso.onmicrosoft.com", tenantID: contosoTenantID}
}

func (f *fakeDirectory) AuthCodeURL(state, codeVerifier, loginHint string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.verifiers["code-"+state] = codeVerifier
	q := url.Values{"state": {state}, "client_id": {"jitaccess-dev"}, "code_challenge_method": {"S256"}}
	if loginHint != "" {
		q.Set("login_hint", loginHint)
	}
	return "https://login.example/common/oauth2/v2.0/authorize?" + q.Encode()
}

func (f *fakeDirectory) Redeem(_ context.Context, code, codeVerifier string) (directory.Consent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	want, ok := f.verifiers[code]
	if !ok || f.redeemed[code] || want != codeVerifier {
		return directory.Consent{}, &directory.GraphError{Op: "redeem", Status: 400, Code: "invalid_grant", Message: "AADSTS70008 secret-internal-detail"}
	}
	f.redeemed[code] = true
	return directory.Consent{RefreshToken: "refresh-" + code, Account: f.account, DisplayName: "Contoso Admin", EntraTenantID: f.tenantID}, nil
}

func (f *fakeDirectory) Domains(context.Context, string) ([]directory.Domain, error) {
	if f.domainErr != nil {
		return nil, f.domainErr
	}
	return []directory.Domain{
		{ID: "contoso.onmicrosoft.com", AuthenticationType: "Managed", IsVerified: true, IsInitial: true},
		{ID: "contoso.com", AuthenticationType: "Managed", IsVerified: true, IsDefault: true},
		{ID: "fabrikam-federated.com", AuthenticationType: "Federated", IsVerified: true},
		{ID: "unverified.example", AuthenticationType: "Managed", IsVerified: false},
	}, nil
}

func (f *fakeDirectory) Roles(context.Context, string) ([]directory.Role, error) {
	return []directory.Role{
		{ID: roleUserAdmin, DisplayName: "User Administrator", Description: "Can manage all aspects of users and groups."},
		{ID: roleHelpdesk, DisplayName: "Helpdesk Administrator", Description: "Can reset passwords for non-administrators."},
	}, nil
}

// env is a server on a throwaway PostgreSQL database with a bootstrap admin.
type env struct {
	t          *testing.T
	srv        *server.Server
	store      *store.Store
	dir        *fakeDirectory
	adminToken string
	admin      store.Technician
	reg        *prometheus.Registry
}

type envOption func(*server.Deps)

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	ctx := context.Background()
	db, err := schema.Open(ctx, testenv.Postgres(t), "", 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, schema.Migrate(ctx, db))
	sealer, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	require.NoError(t, err)
	st := store.New(db, sealer)
	admin, err := st.EnsureAdmin(ctx, "admin@msp.example", "MSP Admin")
	require.NoError(t, err)
	token := "jit_test-admin-token"
	require.NoError(t, st.AddToken(ctx, admin.ID, token))

	reg := prometheus.NewRegistry()
	dir := newFakeDirectory()
	deps := server.Deps{
		Store: st, Directory: dir,
		MinAccessDuration: 5 * time.Minute, MaxAccessDuration: 24 * time.Hour,
		PublicURL:   "http://127.0.0.1:8080",
		ReadyChecks: []server.Check{{Name: "temporal", Check: func(context.Context) error { return nil }}},
		Registerer:  reg, Gatherer: reg,
		AuthFailureLimit: 1000,
	}
	for _, o := range opts {
		o(&deps)
	}
	srv, err := server.New(deps)
	require.NoError(t, err)
	return &env{t: t, srv: srv, store: st, dir: dir, adminToken: token, admin: admin, reg: reg}
}

// response is a decoded answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

func (r response) errorCode() string {
	e, _ := r.JSON["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func (r response) errorMessage() string {
	e, _ := r.JSON["error"].(map[string]any)
	msg, _ := e["message"].(string)
	return msg
}

func (r response) str(key string) string {
	v, _ := r.JSON[key].(string)
	return v
}

func (r response) items() []map[string]any {
	raw, _ := r.JSON["items"].([]any)
	out := make([]map[string]any, len(raw))
	for i, x := range raw {
		out[i], _ = x.(map[string]any)
	}
	return out
}

// request is the full form: raw body and content type.
func (e *env) request(method, path, token, contentType string, body io.Reader, remoteAddr string) response {
	e.t.Helper()
	req := httptest.NewRequest(method, path, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if remoteAddr != "" {
		req.RemoteAddr = remoteAddr
	}
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, req)
	r := response{Status: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
	if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") && len(r.Body) > 0 {
		require.NoError(e.t, json.Unmarshal(r.Body, &r.JSON), "body: %s", r.Body)
	}
	return r
}

// do sends body as JSON (nil: no body).
func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	if body == nil {
		return e.request(method, path, token, "", nil, "")
	}
	b, err := json.Marshal(body)
	require.NoError(e.t, err)
	return e.request(method, path, token, "application/json", bytes.NewReader(b), "")
}

// must asserts the status and returns the response.
func (e *env) must(status int, r response) response {
	e.t.Helper()
	require.Equal(e.t, status, r.Status, "body: %s", r.Body)
	return r
}

func (e *env) createTenant(name string) string {
	return e.must(201, e.do("POST", "/v1/tenants", e.adminToken, map[string]any{"name": name})).str("id")
}

func (e *env) createTechnician(email string) (id, token string) {
	r := e.must(201, e.do("POST", "/v1/technicians", e.adminToken, map[string]any{"email": email, "display_name": email}))
	return r.str("id"), r.str("token")
}

func (e *env) createApplication(tenantID, name string) string {
	return e.must(201, e.do("POST", "/v1/tenants/"+tenantID+"/applications", e.adminToken,
		map[string]any{"name": name, "type": "web", "credentials": "entra_oidc"})).str("id")
}

// authorize runs the consent round trip and returns the callback's answer.
func (e *env) authorize(tenantID, appID string) response {
	e.t.Helper()
	r := e.must(200, e.do("POST", fmt.Sprintf("/v1/tenants/%s/applications/%s/authorize", tenantID, appID), e.adminToken, nil))
	state := stateOf(e.t, r.str("authorize_url"))
	return e.do("GET", "/oauth/callback?code=code-"+url.QueryEscape(state)+"&state="+url.QueryEscape(state), "", nil)
}

func stateOf(t *testing.T, authorizeURL string) string {
	t.Helper()
	u, err := url.Parse(authorizeURL)
	require.NoError(t, err)
	state := u.Query().Get("state")
	require.NotEmpty(t, state)
	return state
}

// readyApplication creates an authorized application with a domain and a role.
func (e *env) readyApplication(tenantID, name string) string {
	appID := e.createApplication(tenantID, name)
	e.must(200, e.authorize(tenantID, appID))
	r := e.must(200, e.do("PATCH", fmt.Sprintf("/v1/tenants/%s/applications/%s", tenantID, appID), e.adminToken,
		map[string]any{"domain": "contoso.com", "roles": []string{roleUserAdmin}}))
	require.Equal(e.t, "ready", r.str("status"))
	// User Administrator is privileged: by default its requests wait for an approver. The
	// lifecycle tests run without one; the approval tests set their own policy.
	require.NoError(e.t, e.store.SetApplicationPolicy(context.Background(), tenantID, appID, &policy.Policy{Justification: policy.Optional}))
	return appID
}

func (e *env) auditActions() []string {
	e.t.Helper()
	evs, _, err := e.store.AuditEvents(context.Background(), store.AuditFilter{}, store.Page{Limit: store.MaxLimit})
	require.NoError(e.t, err)
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Action)
	}
	return out
}

func (f *fakeDirectory) TAPPolicy(context.Context, string) (directory.TAPPolicy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return directory.TAPPolicy{Enabled: !f.tapOff}, nil
}
