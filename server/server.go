// Package server holds jitaccess's two front ends over the domain service (package access):
// the JSON API of SPEC §4 (Gin, OpenAPI) and the web portal (sessions and sign-in kept through
// store), plus health, the OAuth admin-consent callback and request middleware. Each maps
// access refusals to its answers through statusOf. Routes are registered per file from
// routes.go.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store"
)

// Directory is what the API needs of a customer's Entra directory. *entra.Client implements
// it; tests use a fake.
type Directory interface {
	AuthCodeURL(state, codeVerifier, loginHint string) string
	Redeem(ctx context.Context, code, codeVerifier string) (directory.Consent, error)
	Domains(ctx context.Context, applicationID string) ([]directory.Domain, error)
	Roles(ctx context.Context, applicationID string) ([]directory.Role, error)
	TAPPolicy(ctx context.Context, applicationID string) (directory.TAPPolicy, error)
}

// Check is one readiness check ("database", "temporal").
type Check struct {
	Name  string
	Check func(ctx context.Context) error
}

// Deps are the server's explicit dependencies.
type Deps struct {
	Store     *store.Store
	Directory Directory

	// Access durations an admin may configure (JIT_MIN/MAX_ACCESS_DURATION).
	MinAccessDuration time.Duration
	MaxAccessDuration time.Duration

	// Workflows starts and steers grant workflows (NewTemporalWorkflows). Without it the
	// technicians' routes (/v1/me, /v1/access-requests) are not served.
	Workflows access.Workflows
	// Approvals decides pending requests (*approvals.Service over the store and Temporal).
	Approvals access.Approvals
	// TemporalUIURL and TemporalNamespace make the temporal_url link of grants shown to
	// admins (JIT_TEMPORAL_UI_URL, JIT_TEMPORAL_NAMESPACE; no link when the URL is empty).
	TemporalUIURL     string
	TemporalNamespace string
	// TemporalUIUpstream, when set, is the Temporal UI server (started with --ui-public-path
	// /temporal) served read-only to admins at /temporal on this origin; Codec, when set, is
	// the codec server (admins only) at /temporal-codec, which that UI calls same-origin.
	TemporalUIUpstream string
	Codec              http.Handler

	// PublicURL is where browsers reach the API (links on the OAuth result page).
	PublicURL string

	// ReadyChecks run on GET /readyz. A "database" check on the store is added when absent.
	ReadyChecks []Check

	Logger *slog.Logger

	// Registerer receives the API's metrics; Gatherer, when set, is served on GET /metrics of
	// this handler. Production leaves it unset and serves metrics on JIT_METRICS_ADDR only.
	Registerer prometheus.Registerer
	// TracerProvider, when set, traces every request (OpenTelemetry, otelgin); the span's
	// context flows into the service and on into Temporal.
	TracerProvider trace.TracerProvider
	Gatherer       prometheus.Gatherer

	// AuthFailureLimit failed authentications per client IP within AuthFailureWindow lead to
	// 429 for further failing credentials until the window passes (defaults 20 per minute);
	// good tokens are always let through. SignInLimit portal sign-ins may start per client
	// IP and window (default 30).
	AuthFailureLimit  int
	AuthFailureWindow time.Duration
	SignInLimit       int

	// OAuthStateTTL is how long an authorize URL stays usable (default 10 minutes).
	OAuthStateTTL time.Duration

	// TrustedProxies (JIT_TRUSTED_PROXIES: addresses or CIDRs) whose X-Forwarded-For is
	// believed for the client IP (none by default).
	TrustedProxies []string

	// Portal sign-in with Microsoft: OpenID Connect against the MSP's own Entra tenant
	// (JIT_OIDC_ISSUER, JIT_OIDC_CLIENT_ID, JIT_OIDC_CLIENT_SECRET). Without an issuer the
	// portal is served but says that sign-in is not configured.
	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret string
	// OIDCHTTPClient, when set, carries discovery, key and token requests (tests).
	OIDCHTTPClient *http.Client
	// BootstrapAdminEmail (JIT_BOOTSTRAP_ADMIN_EMAIL) becomes an admin on first sign-in.
	BootstrapAdminEmail string
	// EntraAuthority (JIT_ENTRA_AUTHORITY) is where the portal's Authorize button leads; the
	// portal's Content-Security-Policy lets forms go there. Empty: taken from the
	// Directory's sign-in URL.
	EntraAuthority string
	// ExtensionIDs (JIT_EXTENSION_IDS) are the browser extensions that may connect; /v1
	// answers CORS for their chrome-extension:// origins only.
	ExtensionIDs []string
	// SessionTTL bounds a portal session (default 8h); SessionIdleTimeout ends an unused one
	// earlier (default 1h).
	SessionTTL         time.Duration
	SessionIdleTimeout time.Duration
}

// Server is the API as an http.Handler.
type Server struct {
	deps    Deps
	svc     *access.Service // the rules; every handler below is a front end over it
	log     *slog.Logger
	engine  *gin.Engine
	metrics *httpMetrics
	limiter *windowCounter // failed credentials per client IP
	signins *windowCounter // portal sign-ins started per client IP
	portal  *portal
}

// New builds the API.
func New(d Deps) (*Server, error) {
	if d.Store == nil {
		return nil, errors.New("server: no store")
	}
	if d.Directory == nil {
		return nil, errors.New("server: no directory")
	}
	if d.MinAccessDuration <= 0 {
		d.MinAccessDuration = 5 * time.Minute
	}
	if d.MaxAccessDuration <= 0 {
		d.MaxAccessDuration = 24 * time.Hour
	}
	if d.MinAccessDuration > d.MaxAccessDuration {
		return nil, errors.New("server: minimum access duration exceeds the maximum")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Registerer == nil {
		d.Registerer = prometheus.NewRegistry()
	}
	if d.AuthFailureLimit <= 0 {
		d.AuthFailureLimit = 20
	}
	if d.AuthFailureWindow <= 0 {
		d.AuthFailureWindow = time.Minute
	}
	if d.SignInLimit <= 0 {
		d.SignInLimit = 30
	}
	if d.OAuthStateTTL <= 0 {
		d.OAuthStateTTL = 10 * time.Minute
	}
	if !hasCheck(d.ReadyChecks, "database") {
		d.ReadyChecks = append([]Check{{Name: "database", Check: d.Store.Ping}}, d.ReadyChecks...)
	}
	m, err := newHTTPMetrics(d.Registerer)
	if err != nil {
		return nil, err
	}
	if d.SessionTTL <= 0 {
		d.SessionTTL = 8 * time.Hour
	}
	if d.SessionIdleTimeout <= 0 {
		d.SessionIdleTimeout = DefaultSessionIdleTimeout
	}
	svc, err := access.New(access.Deps{Store: d.Store, Directory: d.Directory, Workflows: d.Workflows, Approvals: d.Approvals,
		MinAccessDuration: d.MinAccessDuration, MaxAccessDuration: d.MaxAccessDuration, OAuthStateTTL: d.OAuthStateTTL, Logger: d.Logger})
	if err != nil {
		return nil, err
	}
	s := &Server{deps: d, svc: svc, log: d.Logger, metrics: m, limiter: newWindowCounter(d.AuthFailureWindow),
		signins: newWindowCounter(d.AuthFailureWindow)}
	if s.portal, err = newPortal(d); err != nil {
		return nil, err
	}
	s.engine = gin.New()
	s.engine.HandleMethodNotAllowed = true
	s.engine.ContextWithFallback = true
	if err := s.engine.SetTrustedProxies(d.TrustedProxies); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// Engine exposes the router (route listing in tests and the OpenAPI check).
func (s *Server) Engine() *gin.Engine { return s.engine }

// MetricsHandler serves the metrics of g in the Prometheus text format, for the API router
// and for a separate metrics listener.
func MetricsHandler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}

func hasCheck(cs []Check, name string) bool {
	for _, c := range cs {
		if c.Name == name {
			return true
		}
	}
	return false
}
