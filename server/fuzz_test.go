package server_test

// Security tests of the API's edges: fuzzing of request decoding and of the OAuth callback
// (corpora under testdata/fuzz; seed them further with
// `go test ./server/ -run '^$' -fuzz FuzzDecodeJSON -fuzztime 30s`), and API tokens: never
// logged, looked up by hash. Brute force (TestFailedAuthenticationIsRateLimited) and OAuth
// state forgery, replay and expiry (TestOAuthCallbackRefusals) are tested beside the routes.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/server"
	"github.com/jitaccess/jitaccess/store"
)

// fuzzEnv is a server on a throwaway database shared by every input of one fuzz target
// (newEnv needs a *testing.T; a fuzz target has a *testing.F).
type fuzzEnv struct {
	srv        *server.Server
	store      *store.Store
	dir        *fakeDirectory
	adminToken string
	logs       *syncLog
	tenantID   string
	appID      string // authorized, domain and role set
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	f.Helper()
	ctx := context.Background()
	db, err := schema.Open(ctx, testenv.Postgres(f), "", 0)
	require.NoError(f, err)
	f.Cleanup(func() { _ = db.Close() })
	require.NoError(f, schema.Migrate(ctx, db))
	sealer, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	require.NoError(f, err)
	st := store.New(db, sealer)
	admin, err := st.EnsureAdmin(ctx, "admin@msp.example", "MSP Admin")
	require.NoError(f, err)
	token, _ := seal.NewToken()
	require.NoError(f, st.AddToken(ctx, admin.ID, token))
	logs := &syncLog{}
	reg := prometheus.NewRegistry()
	dir := newFakeDirectory()
	srv, err := server.New(server.Deps{
		Store: st, Directory: dir, Workflows: stubWorkflows{},
		MinAccessDuration: 5 * time.Minute, MaxAccessDuration: 24 * time.Hour,
		PublicURL:   "http://127.0.0.1:8080",
		ReadyChecks: []server.Check{{Name: "temporal", Check: func(context.Context) error { return nil }}},
		Registerer:  reg, Gatherer: reg,
		AuthFailureLimit: 1 << 30,
		Logger:           slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	require.NoError(f, err)
	e := &fuzzEnv{srv: srv, store: st, dir: dir, adminToken: token, logs: logs}

	// A tenant and a ready application for the routes that need them.
	var tenant, app struct{ ID string }
	e.mustCall(f, 201, "POST", "/v1/tenants", `{"name":"Contoso"}`, &tenant)
	e.mustCall(f, 201, "POST", "/v1/tenants/"+tenant.ID+"/applications", `{"name":"Entra","type":"web","credentials":"entra_oidc"}`, &app)
	e.tenantID, e.appID = tenant.ID, app.ID
	var auth struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	e.mustCall(f, 200, "POST", e.appPath()+"/authorize", "", &auth)
	state := queryParam(f, auth.AuthorizeURL, "state")
	code, _ := e.call("GET", "/oauth/callback?code=code-"+url.QueryEscape(state)+"&state="+url.QueryEscape(state), "", "")
	require.Equal(f, 200, code)
	e.mustCall(f, 200, "PATCH", e.appPath(), `{"domain":"contoso.com","roles":["`+roleUserAdmin+`"]}`, nil)
	return e
}

func (e *fuzzEnv) appPath() string { return "/v1/tenants/" + e.tenantID + "/applications/" + e.appID }

// call sends body (when not empty) as JSON with the admin token (when token is "admin").
func (e *fuzzEnv) call(method, path, token, body string) (int, *httptest.ResponseRecorder) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token == "admin" {
		token = e.adminToken
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, req)
	return w.Code, w
}

func (e *fuzzEnv) mustCall(tb testing.TB, status int, method, path, body string, out any) {
	tb.Helper()
	code, w := e.call(method, path, "admin", body)
	require.Equal(tb, status, code, "%s %s: %s", method, path, w.Body.String())
	if out != nil {
		require.NoError(tb, json.Unmarshal(w.Body.Bytes(), out))
	}
}

func queryParam(tb testing.TB, raw, key string) string {
	tb.Helper()
	u, err := url.Parse(raw)
	require.NoError(tb, err)
	v := u.Query().Get(key)
	require.NotEmpty(tb, v)
	return v
}

// syncLog collects the server's log lines.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var errorCodeShape = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// FuzzDecodeJSON sends arbitrary bodies to the JSON endpoints. Whatever the bytes, the API
// answers without a 5xx, with the error envelope of SPEC §4 when it refuses, and accepts
// only a single well-formed JSON object.
func FuzzDecodeJSON(f *testing.F) {
	routes := []struct{ method, path string }{
		{"POST", "/v1/tenants"},
		{"POST", "/v1/technicians"},
		{"PATCH", "/v1/tenants/{t}/applications/{a}"},
		{"POST", "/v1/tenants/{t}/entitlements"},
		{"POST", "/v1/tenants/{t}/groups"},
		{"POST", "/v1/tenants/{t}/applications"},
		{"POST", "/v1/tenants/{t}/applications/{a}/authorize"},
	}
	for _, s := range []struct {
		route uint8
		body  string
	}{
		{0, `{"name":"Fabrikam"}`},
		{0, `{"name":"x","colour":"red"}`},
		{0, `{"name":42}`},
		{0, `{"name":"a"}{"name":"b"}`},
		{0, `[1,2]`},
		{1, `{"email":"fuzz@msp.example","display_name":"Fuzz","role":"technician"}`},
		{2, `{"access_duration":"2h","roles":["` + roleHelpdesk + `"]}`},
		{2, `{"domain":"fabrikam-federated.com"}`},
		{3, `{"name":"r","condition":{"type":"group","group_id":"all-admins"},"application_id":"app_x"}`},
		{4, `{"name":"Tier 2"}`},
		{5, `{"name":"E","type":"web","credentials":"entra_oidc"}`},
		{6, `{"login_hint":"admin@contoso.onmicrosoft.com"}`},
		{2, "{\"name\":\"\\ud800\"}"},
		{0, "{\"name\":\"\x00\"}"},
	} {
		f.Add(s.route, []byte(s.body))
	}
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := routes[int(route)%len(routes)]
		path := strings.NewReplacer("{t}", e.tenantID, "{a}", e.appID).Replace(r.path)
		req := httptest.NewRequest(r.method, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.adminToken)
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, req)

		if w.Code >= 500 {
			t.Fatalf("%s %s answered %d to %q: %s", r.method, path, w.Code, body, w.Body.String())
		}
		require.True(t, strings.HasPrefix(w.Header().Get("Content-Type"), "application/json"), "content type %q", w.Header().Get("Content-Type"))
		if w.Code < 300 {
			// Accepted: exactly one JSON object (or, for authorize, possibly no body).
			if len(body) > 0 || r.path != routes[6].path {
				var obj map[string]json.RawMessage
				dec := json.NewDecoder(bytes.NewReader(body))
				require.NoError(t, dec.Decode(&obj), "accepted a body that is not a JSON object: %q", body)
			}
			return
		}
		var env struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &env), "error body %q", w.Body.String())
		require.Regexp(t, errorCodeShape, env.Error.Code)
		require.NotEmpty(t, env.Error.Message)
		if !json.Valid(body) {
			require.Contains(t, []int{400, 413}, w.Code, "invalid JSON %q answered %d", body, w.Code)
		}
	})
}

// FuzzOAuthCallback sends arbitrary query strings to /oauth/callback, alone (forged state),
// after a state this server issued, or after a state and its valid code. Only the last may
// succeed, never twice; nothing the query carries is reflected unescaped or logged; no
// internal detail of a failed redemption reaches the page.
func FuzzOAuthCallback(f *testing.F) {
	for _, s := range []struct {
		mode  uint8
		query string
	}{
		{0, "code=x&state=forged"},
		{0, "code=x"},
		{0, ""},
		{0, "state=%00%ff&code=%zz"},
		{1, "code=bogus"},
		{1, "error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E"},
		{1, "error=invalid_request&error_description=AADSTS50011%3A+redirect"},
		{2, ""},
		{2, "error=access_denied"},
		{2, "state=other&code=other"},
		{1, "code=" + strings.Repeat("A", 300)},
		{0, "state=" + strings.Repeat("%", 40)},
	} {
		f.Add(s.mode, s.query)
	}
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, mode uint8, query string) {
		mode %= 3
		prefix, secret := "", ""
		if mode > 0 {
			var auth struct {
				AuthorizeURL string `json:"authorize_url"`
			}
			e.mustCall(t, 200, "POST", e.appPath()+"/authorize", "", &auth)
			state := queryParam(t, auth.AuthorizeURL, "state")
			prefix = "state=" + url.QueryEscape(state) + "&"
			secret = state
			if mode == 2 {
				prefix += "code=" + url.QueryEscape("code-"+state) + "&"
			}
		}
		path := "/oauth/callback?" + prefix + query
		req, err := http.NewRequest("GET", path, nil)
		if err != nil {
			t.Skip("not a request line")
		}
		req.RemoteAddr = "192.0.2.1:1234"
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, req)

		require.Contains(t, []int{200, 400, 404, 502}, w.Code, "%s: %s", path, w.Body.String())
		if w.Code == 200 {
			require.Equal(t, uint8(2), mode, "only an issued state with its code may authorize: %s", path)
			// The same callback again is refused: a state is single use.
			again := httptest.NewRecorder()
			e.srv.ServeHTTP(again, req.Clone(context.Background()))
			require.Equal(t, 400, again.Code, "replayed callback")
		}
		if mode == 0 {
			require.NotEqual(t, 200, w.Code)
		}
		page := w.Body.String()
		require.NotContains(t, page, "secret-internal-detail", "redemption internals reach the page")
		values, _ := url.ParseQuery(query)
		for _, vs := range values {
			for _, v := range vs {
				if strings.ContainsAny(v, "<>\"") && len(v) > 3 {
					require.NotContains(t, page, v, "query value reflected unescaped")
				}
			}
		}
		if secret != "" {
			require.NotContains(t, e.logs.String(), secret, "an OAuth state reached the logs")
		}
	})
}

// API tokens are never logged: not the admin's, not one just issued, not a wrong one, in
// whatever header shape they arrive; and the audit log of a failed sign-in holds no token.
func TestAPITokensNeverLogged(t *testing.T) {
	logs := &syncLog{}
	e := newEnv(t, withStubWorkflows, func(d *server.Deps) {
		d.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	_, techToken := e.createTechnician("alice@msp.example")
	wrong, _ := seal.NewToken()
	e.must(200, e.do("GET", "/v1/tenants", e.adminToken, nil))
	e.must(200, e.do("GET", "/v1/me", techToken, nil))
	e.must(403, e.do("GET", "/v1/tenants", techToken, nil))
	r := e.must(401, e.do("GET", "/v1/tenants", wrong, nil))
	require.NotContains(t, string(r.Body), wrong)
	for _, h := range []string{"Basic " + techToken, "Bearer  " + techToken + " extra", "bearer " + wrong, techToken} {
		req := httptest.NewRequest("GET", "/v1/tenants", nil)
		req.Header.Set("Authorization", h)
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, req)
		require.NotContains(t, w.Body.String(), techToken)
	}
	// In the query string (a client's mistake): the log names the route, never the query.
	e.do("GET", "/v1/tenants?access_token="+url.QueryEscape(techToken), e.adminToken, nil)

	out := logs.String()
	require.Contains(t, out, `"route":"/v1/tenants"`, "the requests were logged")
	for name, tok := range map[string]string{"admin": e.adminToken, "technician": techToken, "wrong": wrong} {
		require.NotContains(t, out, tok, "the %s token reached the log", name)
		require.NotContains(t, out, tok[len(seal.TokenPrefix):], "the %s token (without prefix) reached the log", name)
	}
	evs, _, err := e.store.AuditEvents(context.Background(), store.AuditFilter{}, store.Page{Limit: store.MaxLimit})
	require.NoError(t, err)
	b, _ := json.Marshal(evs)
	for _, tok := range []string{e.adminToken, techToken, wrong} {
		require.NotContains(t, string(b), tok, "a token reached the audit log")
	}
}

// Tokens are looked up by their SHA-256 hash (the stored form) and then compared in constant
// time (store.Authenticate, seal.TokenMatches): the stored hash is not itself a credential,
// and a token one character off is refused.
func TestTokensAreLookedUpByHash(t *testing.T) {
	e := newEnv(t, withStubWorkflows)
	_, token := e.createTechnician("bob@msp.example")
	ctx := context.Background()

	got, err := e.store.Authenticate(ctx, token)
	require.NoError(t, err)
	require.Equal(t, "bob@msp.example", got.Email)

	hash := seal.HashToken(token)
	require.True(t, seal.TokenMatches(token, hash))
	for name, forged := range map[string]string{
		"the stored hash":      hash,
		"one character off":    token[:len(token)-1] + flip(token[len(token)-1]),
		"a prefix":             token[:len(token)-4],
		"different case":       strings.ToUpper(token),
		"the hash with prefix": seal.TokenPrefix + hash,
	} {
		_, err := e.store.Authenticate(ctx, forged)
		require.ErrorIs(t, err, store.ErrUnauthenticated, name)
		require.False(t, seal.TokenMatches(forged, hash), name)
		require.Equal(t, 401, e.do("GET", "/v1/me", forged, nil).Status, name)
	}
	require.Equal(t, 200, e.do("GET", "/v1/me", token, nil).Status)
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}
