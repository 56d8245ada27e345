package entra

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/jitaccess/jitaccess/directory"
)

// signInTenant is the authority path segment of the sign-in: any work or school account,
// since which customer tenant the admin belongs to is only known after sign-in.
const signInTenant = "organizations"

// refreshMargin: an access token this close to expiry is refreshed before use.
const refreshMargin = 2 * time.Minute

// AuthCodeURL returns the Entra ID sign-in and consent URL for an admin of a customer tenant:
// authorization code flow with PKCE (S256 of codeVerifier), the given single-use state, and
// loginHint (the admin's UPN) when known. prompt=select_account lets an MSP admin, who
// usually has one account per customer tenant, pick the right one; Entra shows the consent
// screen whenever the permissions are not yet granted.
func (c *Client) AuthCodeURL(state, codeVerifier, loginHint string) string {
	opts := []oauth2.AuthCodeOption{
		oauth2.S256ChallengeOption(codeVerifier),
		oauth2.SetAuthURLParam("prompt", "select_account"),
		oauth2.SetAuthURLParam("response_mode", "query"),
	}
	if loginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", loginHint))
	}
	return c.oauthConfig(signInTenant, strings.Fields(ConsentScopes)).AuthCodeURL(state, opts...)
}

// Redeem exchanges an authorization code (with its PKCE verifier) for tokens, then reads
// who consented (GET /me) and in which tenant (GET /organization).
func (c *Client) Redeem(ctx context.Context, code, codeVerifier string) (directory.Consent, error) {
	if c.initErr != nil {
		return directory.Consent{}, c.initErr
	}
	conf := c.oauthConfig(signInTenant, strings.Fields(ConsentScopes))
	tok, err := conf.Exchange(c.oauthContext(ctx), code, oauth2.VerifierOption(codeVerifier))
	if err != nil {
		return directory.Consent{}, tokenError("redeem the authorization code", err)
	}
	if tok.RefreshToken == "" {
		return directory.Consent{}, errors.New("entra: redeem the authorization code: the identity platform returned no refresh token (was offline_access consented?)")
	}
	gctx := withToken(ctx, tok.AccessToken)

	me, err := c.graph.Me().Get(gctx, nil)
	if err != nil {
		return directory.Consent{}, mapGraphError("read the consenting admin (GET /me)", err)
	}
	orgs, err := c.graph.Organization().Get(gctx, nil)
	if err != nil {
		return directory.Consent{}, mapGraphError("read the tenant (GET /organization)", err)
	}
	if len(orgs.GetValue()) == 0 {
		return directory.Consent{}, errors.New("entra: read the tenant (GET /organization): Graph returned no organization")
	}
	org := orgs.GetValue()[0]
	consent := directory.Consent{
		RefreshToken:  tok.RefreshToken,
		Account:       deref(me.GetUserPrincipalName()),
		EntraTenantID: deref(org.GetId()),
		DisplayName:   deref(org.GetDisplayName()),
	}
	if consent.EntraTenantID == "" || consent.Account == "" {
		return directory.Consent{}, errors.New("entra: Graph returned no tenant id or no user principal name for the consenting admin")
	}
	return consent, nil
}

// appTokens is the in-memory token state of one application.
type appTokens struct {
	mu       sync.Mutex // serialises refreshes: a refresh token must not be redeemed twice at once
	tenantID string
	storedRT string // the store's refresh token when last read or written
	latestRT string // the newest refresh token held (differs from storedRT while unsaved)
	tok      *oauth2.Token
	checked  time.Time // when the store was last read
}

// defaultStoreRecheck is Config.StoreRecheck's default.
const defaultStoreRecheck = 5 * time.Second

func (c *Client) entry(applicationID string) *appTokens {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.apps[applicationID]
	if e == nil {
		e = &appTokens{}
		c.apps[applicationID] = e
	}
	return e
}

// dropAccessToken forgets an application's cached access token (after Graph answered 401).
func (c *Client) dropAccessToken(applicationID string) {
	e := c.entry(applicationID)
	e.mu.Lock()
	e.tok = nil
	e.mu.Unlock()
}

func fresh(t *oauth2.Token) bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || time.Until(t.Expiry) > refreshMargin)
}

// accessToken returns a Graph access token for the application, from the cache when it is
// fresh, else by redeeming the stored refresh token at {authority}/{tenant}/oauth2/v2.0/token.
// The store is read again at least every Config.StoreRecheck, so a re-authorization (new refresh
// token, maybe another tenant) takes effect within seconds; a rotated refresh token is saved
// back immediately.
func (c *Client) storeRecheck() time.Duration {
	if c.cfg.StoreRecheck == 0 {
		return defaultStoreRecheck
	}
	return c.cfg.StoreRecheck
}

func (c *Client) accessToken(ctx context.Context, applicationID string) (string, error) {
	if c.tenants != nil {
		return c.appOnlyToken(ctx, applicationID)
	}
	if c.creds == nil {
		return "", errors.New("entra: no credential store configured")
	}
	e := c.entry(applicationID)
	e.mu.Lock() // held across the store read, so a concurrent rotation is never undone
	defer e.mu.Unlock()
	if fresh(e.tok) && time.Since(e.checked) < c.storeRecheck() {
		return e.tok.AccessToken, nil
	}
	tenant, rt, err := c.creds.RefreshToken(ctx, applicationID)
	if err != nil {
		return "", fmt.Errorf("entra: read the refresh token of application %s: %w", applicationID, err)
	}
	if tenant == "" || rt == "" {
		return "", fmt.Errorf("entra: application %s: %w", applicationID, directory.ErrNotAuthorized)
	}
	if tenant != e.tenantID { // first use, or re-authorized into another tenant
		e.tenantID, e.tok = tenant, nil
	}
	if rt != e.storedRT { // first use, a re-authorization, or another worker rotated it
		e.storedRT, e.latestRT = rt, rt
	}
	if e.latestRT != e.storedRT { // a rotated token whose save failed earlier: try again
		if err := c.creds.SaveRefreshToken(ctx, applicationID, e.latestRT); err == nil {
			e.storedRT = e.latestRT
		}
	}
	e.checked = time.Now()
	if fresh(e.tok) {
		return e.tok.AccessToken, nil
	}

	tok, err := c.refresh(ctx, tenant, e.latestRT)
	if isAuthLost(err) && e.latestRT != rt {
		// Our unsaved rotated token was refused; the stored one may still work.
		e.latestRT = rt
		tok, err = c.refresh(ctx, tenant, rt)
	}
	if isAuthLost(err) {
		// Another worker may have rotated the token a moment ago: re-read once.
		if t2, rt2, err2 := c.creds.RefreshToken(ctx, applicationID); err2 == nil && t2 == tenant && rt2 != "" && rt2 != e.latestRT {
			e.storedRT, e.latestRT = rt2, rt2
			tok, err = c.refresh(ctx, tenant, rt2)
		}
	}
	if err != nil {
		return "", err
	}
	if got := tokenTenant(tok.AccessToken); got != "" && got != strings.ToLower(tenant) {
		// The identity platform answered for another tenant than the pinned one.
		return "", &directory.TenantMismatchError{Pinned: tenant, Got: got}
	}
	e.tok = tok
	if tok.RefreshToken != "" && tok.RefreshToken != e.latestRT {
		// Entra rotates the refresh token on every redemption; persist each one so that
		// an idle application does not lose its 90-day inactivity window.
		e.latestRT = tok.RefreshToken
		if err := c.creds.SaveRefreshToken(ctx, applicationID, tok.RefreshToken); err == nil {
			e.storedRT = tok.RefreshToken
		}
		// On failure the access token is still good; the save is retried on the next call.
	}
	return tok.AccessToken, nil
}

// refresh redeems a refresh token in the given Entra tenant.
func (c *Client) refresh(ctx context.Context, tenant, refreshToken string) (*oauth2.Token, error) {
	conf := c.oauthConfig(tenant, strings.Fields(ConsentScopes))
	tok, err := conf.TokenSource(c.oauthContext(ctx), &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return nil, tokenError("refresh the access token", err)
	}
	return tok, nil
}

// appOnlyToken returns a client-credentials token for the application's tenant.
func (c *Client) appOnlyToken(ctx context.Context, applicationID string) (string, error) {
	tenant, err := c.tenants.EntraTenantID(ctx, applicationID)
	if err != nil {
		return "", fmt.Errorf("entra: look up the tenant of application %s: %w", applicationID, err)
	}
	if tenant == "" {
		return "", fmt.Errorf("entra: application %s: %w", applicationID, directory.ErrNotAuthorized)
	}
	e := c.entry(applicationID)
	e.mu.Lock()
	defer e.mu.Unlock()
	if tenant != e.tenantID {
		e.tenantID, e.tok = tenant, nil
	}
	if fresh(e.tok) {
		return e.tok.AccessToken, nil
	}
	conf := clientcredentials.Config{
		ClientID:     c.cfg.ClientID,
		ClientSecret: c.cfg.ClientSecret,
		TokenURL:     c.oauthConfig(tenant, nil).Endpoint.TokenURL,
		Scopes:       []string{appOnlyScope},
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	tok, err := conf.Token(c.oauthContext(ctx))
	if err != nil {
		return "", tokenError("obtain an app-only access token", err)
	}
	e.tok = tok
	return tok.AccessToken, nil
}

// isAuthLost reports whether err says the grant is gone for good.
func isAuthLost(err error) bool { return errors.Is(err, directory.ErrAuthorizationLost) }

// tokenError turns a token-endpoint failure into an error that names the AADSTS code but
// never the token or the response body. Dead grants (invalid_grant: expired, revoked,
// reused; consent_required/interaction_required) wrap directory.ErrAuthorizationLost.
func tokenError(op string, err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		// Transport failures and context cancellation: the URL is the token endpoint's,
		// and the form body (with the refresh token) is never part of these errors.
		return fmt.Errorf("entra: %s: %w", op, err)
	}
	detail := re.ErrorCode
	if code := aadsts(re.ErrorDescription); code != "" {
		detail += ", " + code
	}
	if re.Response != nil && detail == "" {
		detail = fmt.Sprintf("HTTP %d", re.Response.StatusCode)
	}
	switch re.ErrorCode {
	case "invalid_grant", "interaction_required", "consent_required":
		return fmt.Errorf("entra: %s: %w (%s)", op, directory.ErrAuthorizationLost, detail)
	case "invalid_client", "unauthorized_client":
		return fmt.Errorf("entra: %s: the identity platform refused jitaccess's client id or secret (%s); check JIT_OAUTH_CLIENT_ID and JIT_OAUTH_CLIENT_SECRET", op, detail)
	}
	if re.Response != nil && (re.Response.StatusCode == 429 || re.Response.StatusCode >= 500) {
		return &directory.ThrottledError{Op: "entra: " + op + " (" + detail + ")", RetryAfter: retryAfter(re.Response.Header.Get("Retry-After"), 5*time.Second)}
	}
	return fmt.Errorf("entra: %s: the identity platform answered %s", op, detail)
}

// aadsts extracts "AADSTS70008" from an Entra error_description.
func aadsts(desc string) string {
	i := strings.Index(desc, "AADSTS")
	if i < 0 {
		return ""
	}
	j := i + len("AADSTS")
	for j < len(desc) && desc[j] >= '0' && desc[j] <= '9' {
		j++
	}
	return desc[i:j]
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
