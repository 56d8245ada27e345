// Package web is what the two front ends (server/api, server/portal) share: their
// configuration (Deps), the request's actor and audit, the one mapping of domain refusals to
// HTTP statuses (StatusOf), the JSON error body, the failure counter and a few views and
// operations both show.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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

// Deps are the server's explicit dependencies (server.Deps).
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

// Base is what every handler of both front ends holds: the configuration, the domain service
// and the counter of failed credentials per client address.
type Base struct {
	Deps Deps
	Svc  *access.Service // the rules; every handler is a front end over it
	Log  *slog.Logger
	// failures counts failed credentials per client IP (API tokens, sign-ins, callbacks).
	failures *WindowCounter
}

// NewBase holds d (defaults applied) and the service built over it.
func NewBase(d Deps, svc *access.Service) *Base {
	return &Base{Deps: d, Svc: svc, Log: d.Logger, failures: NewWindowCounter(d.AuthFailureWindow)}
}

// Failures counts one failed credential of key and returns the count in the current window
// and when that window ends.
func (b *Base) Failures(key string, now time.Time) (int, time.Time) { return b.failures.Add(key, now) }
