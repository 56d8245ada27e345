// Package entra is the connector to a customer's Microsoft Entra ID tenant: Microsoft Graph
// v1.0 through msgraph-sdk-go, with access tokens from entra/token (OAuth 2.0), Graph's error
// answers classified by entra/grapherr and $batch retries run by entra/batch. It is the only
// package of jitaccess that imports the Graph SDK; everything it returns is expressed in
// package directory's types and errors.
//
// Every operation is idempotent, so that a Temporal activity retried after a partial
// success converges: creating a user that already exists re-enables it and resets its
// password, assigning a role that is already assigned succeeds, and removing something that
// is gone succeeds. Tokens and passwords never appear in errors or logs.
package entra

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	absauth "github.com/microsoft/kiota-abstractions-go/authentication"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"go.opentelemetry.io/otel/trace"

	"github.com/jitaccess/jitaccess/entra/token"
)

// Defaults of Config.
const (
	DefaultAuthority = token.DefaultAuthority
	DefaultGraphURL  = "https://graph.microsoft.com/v1.0"
)

// ConsentScopes are the delegated permissions the connector asks an admin to consent to.
const ConsentScopes = token.ConsentScopes

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
type CredentialStore = token.CredentialStore

// TenantLookup names the Entra tenant of an application; used by app-only clients.
type TenantLookup = token.TenantLookup

// TenantLookupFunc adapts a function to TenantLookup.
type TenantLookupFunc = token.TenantLookupFunc

// Client talks to customers' tenants on behalf of jitaccess applications. It is safe for
// concurrent use; access tokens are cached per application in memory.
type Client struct {
	cfg     Config
	tokens  *token.Source
	graph   *msgraphsdk.GraphServiceClient
	adapter *msgraphsdk.GraphRequestAdapter
	initErr error
}

// New returns a client using delegated permissions: the refresh token an admin's consent
// produced, read from creds, with every rotated refresh token saved back to it.
func New(cfg Config, creds CredentialStore) *Client {
	return newClient(cfg, func(tc token.Config) *token.Source { return token.NewDelegated(tc, creds) })
}

// NewAppOnly returns a client using application permissions (client credentials) in the
// tenant tenants names for each application, for operators who grant the jitaccess
// application User.ReadWrite.All, RoleManagement.ReadWrite.Directory and
// Domain.Read.All as application permissions instead of consenting as an admin.
// AuthCodeURL and Redeem are not used in this mode.
func NewAppOnly(cfg Config, tenants TenantLookup) *Client {
	return newClient(cfg, func(tc token.Config) *token.Source { return token.NewAppOnly(tc, tenants) })
}

func newClient(cfg Config, tokens func(token.Config) *token.Source) *Client {
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
	cfg.HTTPClient = base
	c := &Client{cfg: cfg, tokens: tokens(token.Config{Authority: cfg.Authority, ClientID: cfg.ClientID,
		ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL, HTTPClient: base, StoreRecheck: cfg.StoreRecheck})}

	u, err := url.Parse(cfg.GraphURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		c.initErr = fmt.Errorf("entra: Graph URL %q is not an absolute http(s) URL", cfg.GraphURL)
		return c
	}

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
	auth := absauth.NewBaseBearerTokenAuthenticationProvider(&token.Provider{Source: c.tokens, Host: u.Host})
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
