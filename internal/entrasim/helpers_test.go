package entrasim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microsoft/kiota-abstractions-go/authentication"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

const testRedirect = "http://127.0.0.1:9999/oauth/callback"

// graphScopes is what the jitaccess connector asks for.
var graphScopes = []string{"openid", "profile", "offline_access", "https://graph.microsoft.com/User.ReadWrite.All",
	"https://graph.microsoft.com/RoleManagement.ReadWrite.Directory", "https://graph.microsoft.com/Domain.Read.All",
	"https://graph.microsoft.com/Directory.Read.All"}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t     *testing.T
	sim   *Server
	ts    *httptest.Server
	clock *testClock
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	sim, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, sim: sim, clock: clock}
	e.ts = httptest.NewServer(sim)
	t.Cleanup(e.ts.Close)
	return e
}

func (e *env) oauthConfig(tenant string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: ClientID, ClientSecret: ClientSecret, RedirectURL: testRedirect, Scopes: scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:  e.ts.URL + "/" + tenant + "/oauth2/v2.0/authorize",
			TokenURL: e.ts.URL + "/" + tenant + "/oauth2/v2.0/token",
		},
	}
}

// noRedirect is an HTTP client that returns redirects instead of following them.
func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// authorize runs the authorize endpoint and returns the redirect's query.
func (e *env) authorize(authURL string) url.Values {
	e.t.Helper()
	resp, err := noRedirect().Get(authURL)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		b, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("authorize: status %d: %s", resp.StatusCode, b)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != testRedirect {
		e.t.Fatalf("redirected to %s", got)
	}
	return loc.Query()
}

// codeFor runs authorize with PKCE and returns (config, code, verifier).
func (e *env) codeFor(tenant, loginHint string, scopes ...string) (*oauth2.Config, string, string) {
	e.t.Helper()
	if len(scopes) == 0 {
		scopes = graphScopes
	}
	cfg := e.oauthConfig(tenant, scopes...)
	verifier := oauth2.GenerateVerifier()
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if loginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", loginHint))
	}
	q := e.authorize(cfg.AuthCodeURL("st4te", opts...))
	if q.Get("state") != "st4te" || q.Get("code") == "" {
		e.t.Fatalf("authorize redirect query %v", q)
	}
	return cfg, q.Get("code"), verifier
}

// userToken signs in through the authorization-code flow (auto-consent) and returns the token.
func (e *env) userToken(tenant, loginHint string, scopes ...string) *oauth2.Token {
	e.t.Helper()
	if len(scopes) == 0 {
		scopes = graphScopes
	}
	cfg, code, verifier := e.codeFor(tenant, loginHint, scopes...)
	tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		e.t.Fatalf("exchange: %v", err)
	}
	return tok
}

func (e *env) appToken(tenantID string) string {
	e.t.Helper()
	cc := clientcredentials.Config{ClientID: ClientID, ClientSecret: ClientSecret,
		TokenURL: e.ts.URL + "/" + tenantID + "/oauth2/v2.0/token", Scopes: []string{"https://graph.microsoft.com/.default"}}
	tok, err := cc.Token(context.Background())
	if err != nil {
		e.t.Fatalf("client credentials: %v", err)
	}
	return tok.AccessToken
}

type staticToken string

func (s staticToken) GetAuthorizationToken(context.Context, *url.URL, map[string]any) (string, error) {
	return string(s), nil
}

func (s staticToken) GetAllowedHostsValidator() *authentication.AllowedHostsValidator {
	v := authentication.NewAllowedHostsValidator(nil)
	return &v
}

func (e *env) graph(accessToken string) (*msgraphsdk.GraphServiceClient, *msgraphsdk.GraphRequestAdapter) {
	e.t.Helper()
	adapter, err := msgraphsdk.NewGraphRequestAdapter(authentication.NewBaseBearerTokenAuthenticationProvider(staticToken(accessToken)))
	if err != nil {
		e.t.Fatal(err)
	}
	adapter.SetBaseUrl(e.ts.URL + "/v1.0")
	return msgraphsdk.NewGraphServiceClient(adapter), adapter
}

// graphNoCompression is a Graph client without kiota's request-compression handler. The default
// pipeline is built from a map, so its order is random; when the retry handler runs outside the
// compression handler a retried POST/PATCH goes out uncompressed but labelled gzip, and Graph
// answers 400 (microsoft/kiota-http-go#183). Retrying bodied requests needs compression off.
func (e *env) graphNoCompression(accessToken string) *msgraphsdk.GraphServiceClient {
	e.t.Helper()
	opts := &msgraphgocore.GraphClientOptions{GraphServiceVersion: "v1.0", GraphServiceLibraryVersion: "test"}
	var keep []khttp.Middleware
	for _, m := range msgraphgocore.GetDefaultMiddlewaresWithOptions(opts) {
		if _, ok := m.(*khttp.CompressionHandler); !ok {
			keep = append(keep, m)
		}
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		authentication.NewBaseBearerTokenAuthenticationProvider(staticToken(accessToken)), nil, nil,
		msgraphgocore.GetDefaultClient(opts, keep...))
	if err != nil {
		e.t.Fatal(err)
	}
	adapter.SetBaseUrl(e.ts.URL + "/v1.0")
	return msgraphsdk.NewGraphServiceClient(adapter)
}

// odata extracts Graph's error as the SDK surfaces it.
func odata(t *testing.T, err error) (status int, code, message string, e *odataerrors.ODataError) {
	t.Helper()
	if !errors.As(err, &e) {
		t.Fatalf("want *odataerrors.ODataError, got %T: %v", err, err)
	}
	main := e.GetErrorEscaped()
	if main == nil || main.GetCode() == nil || main.GetMessage() == nil {
		t.Fatalf("error without code/message: %v", err)
	}
	inner := main.GetInnerError()
	if inner == nil || inner.GetRequestId() == nil || inner.GetDate() == nil {
		t.Fatalf("error without innerError request-id/date")
	}
	return e.ResponseStatusCode, *main.GetCode(), *main.GetMessage(), e
}

// do sends a raw request and decodes the JSON body (if any).
func (e *env) do(method, path, token string, body any, hdr ...string) (int, http.Header, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = strings.NewReader(string(raw))
	}
	req, _ := http.NewRequest(method, e.ts.URL+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := noRedirect().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &m)
	}
	return resp.StatusCode, resp.Header, m
}

// postForm posts to the token endpoint and decodes the JSON answer.
func (e *env) postForm(path string, form url.Values, basic ...string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// aadsts returns the first error code of a token error body.
func aadsts(m map[string]any) int {
	codes, _ := m["error_codes"].([]any)
	if len(codes) == 0 {
		return 0
	}
	f, _ := codes[0].(float64)
	return int(f)
}

func errCode(m map[string]any) (string, string) {
	e, _ := m["error"].(map[string]any)
	c, _ := e["code"].(string)
	msg, _ := e["message"].(string)
	return c, msg
}

func ptr[T any](v T) *T { return &v }
