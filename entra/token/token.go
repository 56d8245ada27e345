// Package token holds the OAuth 2.0 side of the Entra connector, with golang.org/x/oauth2
// against the Microsoft identity platform: the sign-in and consent URL, the redemption of an
// admin's authorization code, and a Source of Graph access tokens per application (delegated
// with refresh-token rotation saved to the store, or app-only with client credentials) that
// refuses a token of another tenant than the one a call is bound to. Tokens never appear in
// errors or logs.
package token

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// DefaultAuthority is Microsoft's public cloud.
const DefaultAuthority = "https://login.microsoftonline.com"

// ConsentScopes are the delegated permissions (space-separated) the connector asks an admin
// to consent to; offline_access yields the refresh token. UserAuthenticationMethod.ReadWrite.All
// and Policy.Read.All serve Temporary Access Passes and cleaning accounts (SPEC §10),
// AdministrativeUnit.ReadWrite.All the restricted administrative unit (entra/adminunit.go): an
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

// signInTenant is the authority path segment of the sign-in: any work or school account,
// since which customer tenant the admin belongs to is only known after sign-in.
const signInTenant = "organizations"

// refreshMargin: an access token this close to expiry is refreshed before use.
const refreshMargin = 2 * time.Minute

// defaultStoreRecheck is Config.StoreRecheck's default.
const defaultStoreRecheck = 5 * time.Second

// Config configures a Source.
type Config struct {
	Authority    string // "" means DefaultAuthority
	ClientID     string
	ClientSecret string
	RedirectURL  string
	HTTPClient   *http.Client // carries the token endpoint's requests; nil means http.DefaultClient
	// StoreRecheck is how long a cached access token is used without reading the
	// application's refresh token from the store again (see entra.Config). 0 means 5 s;
	// negative means every call.
	StoreRecheck time.Duration
}

// CredentialStore holds each application's refresh token (implemented by *store.Store).
type CredentialStore interface {
	RefreshToken(ctx context.Context, applicationID string) (entraTenantID, refreshToken string, err error)
	SaveRefreshToken(ctx context.Context, applicationID, refreshToken string) error
}

// TenantLookup names the Entra tenant of an application; used by app-only sources.
type TenantLookup interface {
	EntraTenantID(ctx context.Context, applicationID string) (string, error)
}

// TenantLookupFunc adapts a function to TenantLookup.
type TenantLookupFunc func(ctx context.Context, applicationID string) (string, error)

// EntraTenantID implements TenantLookup.
func (f TenantLookupFunc) EntraTenantID(ctx context.Context, applicationID string) (string, error) {
	return f(ctx, applicationID)
}

// Source hands out access tokens per application. It is safe for concurrent use; access
// tokens are cached in memory.
type Source struct {
	cfg     Config
	creds   CredentialStore // delegated mode
	tenants TenantLookup    // app-only mode

	mu   sync.Mutex
	apps map[string]*appTokens
}

// NewDelegated returns a source using the refresh token an admin's consent produced, read
// from creds, with every rotated refresh token saved back to it.
func NewDelegated(cfg Config, creds CredentialStore) *Source {
	s := newSource(cfg)
	s.creds = creds
	return s
}

// NewAppOnly returns a source using client credentials in the tenant tenants names for each
// application.
func NewAppOnly(cfg Config, tenants TenantLookup) *Source {
	s := newSource(cfg)
	s.tenants = tenants
	return s
}

func newSource(cfg Config) *Source {
	cfg.Authority = strings.TrimRight(cfg.Authority, "/")
	if cfg.Authority == "" {
		cfg.Authority = DefaultAuthority
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	return &Source{cfg: cfg, apps: make(map[string]*appTokens)}
}

// oauthConfig returns the OAuth client configuration for a tenant path segment
// ("organizations" for sign-in, the Entra tenant id for refreshing).
func (s *Source) oauthConfig(tenant string, scopes []string) *oauth2.Config {
	base := s.cfg.Authority + "/" + url.PathEscape(tenant) + "/oauth2/v2.0"
	return &oauth2.Config{
		ClientID:     s.cfg.ClientID,
		ClientSecret: s.cfg.ClientSecret,
		RedirectURL:  s.cfg.RedirectURL,
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

func (s *Source) oauthContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, s.cfg.HTTPClient)
}

// AuthCodeURL returns the Entra ID sign-in and consent URL for an admin of a customer tenant:
// authorization code flow with PKCE (S256 of codeVerifier), the given single-use state, and
// loginHint (the admin's UPN) when known. prompt=select_account lets an MSP admin, who
// usually has one account per customer tenant, pick the right one; Entra shows the consent
// screen whenever the permissions are not yet granted.
func (s *Source) AuthCodeURL(state, codeVerifier, loginHint string) string {
	opts := []oauth2.AuthCodeOption{
		oauth2.S256ChallengeOption(codeVerifier),
		oauth2.SetAuthURLParam("prompt", "select_account"),
		oauth2.SetAuthURLParam("response_mode", "query"),
	}
	if loginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", loginHint))
	}
	return s.oauthConfig(signInTenant, strings.Fields(ConsentScopes)).AuthCodeURL(state, opts...)
}

// Exchange redeems an authorization code (with its PKCE verifier); the answer must carry a
// refresh token.
func (s *Source) Exchange(ctx context.Context, code, codeVerifier string) (*oauth2.Token, error) {
	conf := s.oauthConfig(signInTenant, strings.Fields(ConsentScopes))
	tok, err := conf.Exchange(s.oauthContext(ctx), code, oauth2.VerifierOption(codeVerifier))
	if err != nil {
		return nil, tokenError("redeem the authorization code", err)
	}
	if tok.RefreshToken == "" {
		return nil, errors.New("entra: redeem the authorization code: the identity platform returned no refresh token (was offline_access consented?)")
	}
	return tok, nil
}
