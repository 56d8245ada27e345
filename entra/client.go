// Package entra is the connector to a customer's Microsoft Entra ID tenant: OAuth 2.0 with
// golang.org/x/oauth2 against the Microsoft identity platform, and Microsoft Graph v1.0
// through msgraph-sdk-go. It is the only package of jitaccess that imports the Graph SDK;
// everything it returns is expressed in package directory's types and errors.
//
// Every operation is idempotent, so that a Temporal activity retried after a partial
// success converges: creating a user that already exists re-enables it and resets its
// password, assigning a role that is already assigned succeeds, and removing something that
// is gone succeeds. Tokens and passwords never appear in errors or logs.
package entra

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	absauth "github.com/microsoft/kiota-abstractions-go/authentication"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/oauth2"
)

// Defaults of Config.
const (
	DefaultAuthority = "https://login.microsoftonline.com"
	DefaultGraphURL  = "https://graph.microsoft.com/v1.0"
)

// ConsentScopes are the delegated permissions (space-separated) the connector asks an admin
// to consent to; offline_access yields the refresh token. UserAuthenticationMethod.ReadWrite.All
// and Policy.Read.All serve Temporary Access Passes and cleaning accounts (SPEC §10),
// AdministrativeUnit.ReadWrite.All the restricted administrative unit (adminunit.go): an
// application authorized before they were added must be authorized again.
const ConsentScopes = "openid profile offline_access" +
	" https://graph.microsoft.com/User.ReadWrite.All" +
	" https://graph.microsoft.com/RoleManagement.ReadWrite.Directory" +
	" https://graph.microsoft.com/Domain.Read.All" +
	" https://graph.microsoft.com/Directory.Read.All" +
	" https://graph.microsoft.com/UserAuthenticationMethod.ReadWrite.All" +
	" https://graph.microsoft.com/Policy.Read.All" +
	" https://graph.microsoft.com/AdministrativeUnit.ReadWrite.All"

// appOnlyScope is the client-credentials scope: every application permission granted.
const appOnlyScope = "https://graph.microsoft.com/.default"

// Config configures a Client. Authority and GraphURL default to Microsoft's public cloud.
type Config struct {
	Authority    string // e.g. https://login.microsoftonline.com or the emulator's base URL
	GraphURL     string // e.g. https://graph.microsoft.com/v1.0
	ClientID     string
	ClientSecret string
	RedirectURL  string
	// HTTPClient carries every request (token endpoint and Graph); nil means a default
	// client with a 60 s timeout and a pool of idle connections (pooledTransport). Graph's
	// middleware (retry, telemetry) wraps its transport.
	HTTPClient *http.Client
	// TracerProvider, when set, traces every Graph request (otelhttp, tracing.go).
	TracerProvider trace.TracerProvider

	// ReplicationWait bounds how long AssignRoles itself retries role assignments that
	// Entra refuses because a just-created user is not yet replicated, before it returns a
	// *directory.ReplicationLagError for the caller's retry policy. 0 means 4 s; negative
	// means no retry inside the connector.
	ReplicationWait time.Duration
	// ThrottleWait bounds how long a $batch waits inside the connector to resend items
	// answered 429/503 (whose Retry-After is honoured) before it returns a
	// *directory.ThrottledError. 0 means 5 s; negative means no retry inside the connector.
	ThrottleWait time.Duration
	// StoreRecheck is how long a cached access token is used without reading the
	// application's refresh token from the store again: a re-authorization (a new token,
	// maybe another tenant) takes effect within it. Reading the store on every Graph call cost
	// a database query and an unseal per round trip, under the application's lock
	// (docs/performance.md). 0 means 5 s; negative means every call.
	StoreRecheck time.Duration
}

// CredentialStore holds each application's refresh token (implemented by *store.Store).
type CredentialStore interface {
	RefreshToken(ctx context.Context, applicationID string) (entraTenantID, refreshToken string, err error)
	SaveRefreshToken(ctx context.Context, applicationID, refreshToken string) error
}

// TenantLookup names the Entra tenant of an application; used by app-only clients.
type TenantLookup interface {
	EntraTenantID(ctx context.Context, applicationID string) (string, error)
}

// TenantLookupFunc adapts a function to TenantLookup.
type TenantLookupFunc func(ctx context.Context, applicationID string) (string, error)

// EntraTenantID implements TenantLookup.
func (f TenantLookupFunc) EntraTenantID(ctx context.Context, applicationID string) (string, error) {
	return f(ctx, applicationID)
}

// Client talks to customers' tenants on behalf of jitaccess applications. It is safe for
// concurrent use; access tokens are cached per application in memory.
type Client struct {
	cfg        Config
	creds      CredentialStore // delegated mode
	tenants    TenantLookup    // app-only mode
	httpClient *http.Client    // token endpoint
	graph      *msgraphsdk.GraphServiceClient
	adapter    *msgraphsdk.GraphRequestAdapter
	graphHost  string
	initErr    error

	mu   sync.Mutex
	apps map[string]*appTokens
}

// New returns a client using delegated permissions: the refresh token an admin's consent
// produced, read from creds, with every rotated refresh token saved back to it.
func New(cfg Config, creds CredentialStore) *Client {
	c := newClient(cfg)
	c.creds = creds
	return c
}

// NewAppOnly returns a client using application permissions (client credentials) in the
// tenant tenants names for each application, for operators who grant the jitaccess
// application User.ReadWrite.All, RoleManagement.ReadWrite.Directory and
// Domain.Read.All as application permissions instead of consenting as an admin.
// AuthCodeURL and Redeem are not used in this mode.
func NewAppOnly(cfg Config, tenants TenantLookup) *Client {
	c := newClient(cfg)
	c.tenants = tenants
	return c
}

func newClient(cfg Config) *Client {
	cfg.Authority = strings.TrimRight(cfg.Authority, "/")
	if cfg.Authority == "" {
		cfg.Authority = DefaultAuthority
	}
	cfg.GraphURL = strings.TrimRight(cfg.GraphURL, "/")
	if cfg.GraphURL == "" {
		cfg.GraphURL = DefaultGraphURL
	}
	if cfg.ReplicationWait == 0 {
		cfg.ReplicationWait = 4 * time.Second
	}
	if cfg.ThrottleWait == 0 {
		cfg.ThrottleWait = 5 * time.Second
	}
	base := cfg.HTTPClient
	if base == nil {
		base = &http.Client{Timeout: 60 * time.Second, Transport: pooledTransport()}
	}
	c := &Client{cfg: cfg, httpClient: base, apps: make(map[string]*appTokens)}

	u, err := url.Parse(cfg.GraphURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		c.initErr = fmt.Errorf("entra: Graph URL %q is not an absolute http(s) URL", cfg.GraphURL)
		return c
	}
	c.graphHost = u.Host

	// Graph's default middleware (retry on 429/503/504 honouring Retry-After, telemetry,
	// redirects, parameter decoding) around the caller's transport. Retries without a
	// Retry-After start at 1 s. Request-body gzip is off: our bodies are a few hundred bytes,
	// and an endpoint answering 415 to gzip would cost a second round trip per write.
	opts := msgraphsdk.GetDefaultClientOptions()
	kiotaMW, err := khttp.GetDefaultMiddlewaresWithOptions(&khttp.RetryHandlerOptions{
		MaxRetries:   3,
		DelaySeconds: 1,
		ShouldRetry:  func(time.Duration, int, *http.Request, *http.Response) bool { return true },
	}, khttp.NewCompressionOptionsReference(false))
	if err != nil {
		c.initErr = fmt.Errorf("entra: Graph middleware: %w", err)
		return c
	}
	mw := append([]khttp.Middleware{
		msgraphgocore.NewGraphTelemetryHandler(&opts),
		khttp.NewUrlReplaceHandler(true, msgraphgocore.ReplacementPairs),
	}, kiotaMW...)
	graphHTTP := &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(traced(base.Transport, cfg.TracerProvider), mw...),
		Timeout:   base.Timeout,
		Jar:       base.Jar,
		// Graph answers with data, never redirects we should follow blindly with a token.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	auth := absauth.NewBaseBearerTokenAuthenticationProvider(&tokenProvider{c: c})
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, graphHTTP)
	if err != nil {
		c.initErr = fmt.Errorf("entra: Graph request adapter: %w", err)
		return c
	}
	// Before NewGraphServiceClient, which copies the base URL into its request builders.
	adapter.SetBaseUrl(cfg.GraphURL)
	c.adapter = adapter
	c.graph = msgraphsdk.NewGraphServiceClient(adapter)
	return c
}

// pooledTransport is net/http's default transport keeping enough idle connections for a
// worker's concurrent Graph calls (a burst of disables). The default keeps 2 per host, so over
// HTTP/1.1 (the emulator, an egress proxy without HTTP/2) every call beyond the second opened
// and closed a connection of its own; over HTTP/2 one connection serves them all anyway.
func pooledTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 128
	return t
}

// ctxKey carries, on a request's context, which credentials its bearer token comes from.
type ctxKey struct{}

type ctxAuth struct {
	applicationID string
	accessToken   string // a fixed token (Redeem's /me and /organization)
}

func withApp(ctx context.Context, applicationID string) context.Context {
	return context.WithValue(ctx, ctxKey{}, ctxAuth{applicationID: applicationID})
}

func withToken(ctx context.Context, accessToken string) context.Context {
	return context.WithValue(ctx, ctxKey{}, ctxAuth{accessToken: accessToken})
}

// tokenProvider is kiota's AccessTokenProvider: it hands out the cached access token of the
// application named on the request's context, and only to the configured Graph host.
type tokenProvider struct{ c *Client }

func (p *tokenProvider) GetAuthorizationToken(ctx context.Context, u *url.URL, _ map[string]any) (string, error) {
	if u == nil || !strings.EqualFold(u.Host, p.c.graphHost) {
		return "", errors.New("entra: refusing to send a token to a host other than the configured Graph URL")
	}
	a, ok := ctx.Value(ctxKey{}).(ctxAuth)
	switch {
	case !ok:
		return "", errors.New("entra: no application on the request context")
	case a.accessToken != "":
		return a.accessToken, nil
	}
	tok, err := p.c.accessToken(ctx, a.applicationID)
	if err != nil {
		return "", err
	}
	if err := checkTenant(ctx, tok); err != nil {
		return "", err
	}
	return tok, nil
}

// GetAllowedHostsValidator allows every host: GetAuthorizationToken checks the host itself,
// and plain http to the emulator on 127.0.0.1 must work.
func (p *tokenProvider) GetAllowedHostsValidator() *absauth.AllowedHostsValidator {
	v := absauth.NewAllowedHostsValidator(nil)
	return &v
}

// oauthConfig returns the OAuth client configuration for a tenant path segment
// ("organizations" for sign-in, the Entra tenant id for refreshing).
func (c *Client) oauthConfig(tenant string, scopes []string) *oauth2.Config {
	base := c.cfg.Authority + "/" + url.PathEscape(tenant) + "/oauth2/v2.0"
	return &oauth2.Config{
		ClientID:     c.cfg.ClientID,
		ClientSecret: c.cfg.ClientSecret,
		RedirectURL:  c.cfg.RedirectURL,
		Scopes:       scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:  base + "/authorize",
			TokenURL: base + "/token",
			// Entra accepts the secret in the body; saying so avoids x/oauth2's
			// Basic-then-body probing (two token requests on any error).
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

func (c *Client) oauthContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.httpClient)
}
