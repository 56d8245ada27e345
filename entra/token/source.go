package token

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
	"github.com/jitaccess/jitaccess/entra/grapherr"
)

// appTokens is the in-memory token state of one application.
type appTokens struct {
	mu       sync.Mutex // serialises refreshes: a refresh token must not be redeemed twice at once
	tenantID string
	storedRT string // the store's refresh token when last read or written
	latestRT string // the newest refresh token held (differs from storedRT while unsaved)
	tok      *oauth2.Token
	checked  time.Time // when the store was last read
}

func (s *Source) entry(applicationID string) *appTokens {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.apps[applicationID]
	if e == nil {
		e = &appTokens{}
		s.apps[applicationID] = e
	}
	return e
}

// Drop forgets an application's cached access token (after Graph answered 401).
func (s *Source) Drop(applicationID string) {
	e := s.entry(applicationID)
	e.mu.Lock()
	e.tok = nil
	e.mu.Unlock()
}

func fresh(t *oauth2.Token) bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || time.Until(t.Expiry) > refreshMargin)
}

// storeRecheck is Config.StoreRecheck with its default.
func (s *Source) storeRecheck() time.Duration {
	if s.cfg.StoreRecheck == 0 {
		return defaultStoreRecheck
	}
	return s.cfg.StoreRecheck
}

// AccessToken returns a Graph access token for the application, from the cache when it is
// fresh, else by redeeming the stored refresh token at {authority}/{tenant}/oauth2/v2.0/token.
// The store is read again at least every Config.StoreRecheck, so a re-authorization (new refresh
// token, maybe another tenant) takes effect within seconds; a rotated refresh token is saved
// back immediately.
func (s *Source) AccessToken(ctx context.Context, applicationID string) (string, error) {
	if s.tenants != nil {
		return s.appOnlyToken(ctx, applicationID)
	}
	if s.creds == nil {
		return "", errors.New("entra: no credential store configured")
	}
	e := s.entry(applicationID)
	e.mu.Lock() // held across the store read, so a concurrent rotation is never undone
	defer e.mu.Unlock()
	if fresh(e.tok) && time.Since(e.checked) < s.storeRecheck() {
		return e.tok.AccessToken, nil
	}
	tenant, rt, err := s.creds.RefreshToken(ctx, applicationID)
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
		if err := s.creds.SaveRefreshToken(ctx, applicationID, e.latestRT); err == nil {
			e.storedRT = e.latestRT
		}
	}
	e.checked = time.Now()
	if fresh(e.tok) {
		return e.tok.AccessToken, nil
	}

	tok, err := s.refresh(ctx, tenant, e.latestRT)
	if isAuthLost(err) && e.latestRT != rt {
		// Our unsaved rotated token was refused; the stored one may still work.
		e.latestRT = rt
		tok, err = s.refresh(ctx, tenant, rt)
	}
	if isAuthLost(err) {
		// Another worker may have rotated the token a moment ago: re-read once.
		if t2, rt2, err2 := s.creds.RefreshToken(ctx, applicationID); err2 == nil && t2 == tenant && rt2 != "" && rt2 != e.latestRT {
			e.storedRT, e.latestRT = rt2, rt2
			tok, err = s.refresh(ctx, tenant, rt2)
		}
	}
	if err != nil {
		return "", err
	}
	if got := TenantOf(tok.AccessToken); got != "" && got != strings.ToLower(tenant) {
		// The identity platform answered for another tenant than the pinned one.
		return "", &directory.TenantMismatchError{Pinned: tenant, Got: got}
	}
	e.tok = tok
	if tok.RefreshToken != "" && tok.RefreshToken != e.latestRT {
		// Entra rotates the refresh token on every redemption; persist each one so that
		// an idle application does not lose its 90-day inactivity window.
		e.latestRT = tok.RefreshToken
		if err := s.creds.SaveRefreshToken(ctx, applicationID, tok.RefreshToken); err == nil {
			e.storedRT = tok.RefreshToken
		}
		// On failure the access token is still good; the save is retried on the next call.
	}
	return tok.AccessToken, nil
}

// refresh redeems a refresh token in the given Entra tenant.
func (s *Source) refresh(ctx context.Context, tenant, refreshToken string) (*oauth2.Token, error) {
	conf := s.oauthConfig(tenant, strings.Fields(ConsentScopes))
	tok, err := conf.TokenSource(s.oauthContext(ctx), &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return nil, tokenError("refresh the access token", err)
	}
	return tok, nil
}

// appOnlyToken returns a client-credentials token for the application's tenant.
func (s *Source) appOnlyToken(ctx context.Context, applicationID string) (string, error) {
	tenant, err := s.tenants.EntraTenantID(ctx, applicationID)
	if err != nil {
		return "", fmt.Errorf("entra: look up the tenant of application %s: %w", applicationID, err)
	}
	if tenant == "" {
		return "", fmt.Errorf("entra: application %s: %w", applicationID, directory.ErrNotAuthorized)
	}
	e := s.entry(applicationID)
	e.mu.Lock()
	defer e.mu.Unlock()
	if tenant != e.tenantID {
		e.tenantID, e.tok = tenant, nil
	}
	if fresh(e.tok) {
		return e.tok.AccessToken, nil
	}
	conf := clientcredentials.Config{
		ClientID:     s.cfg.ClientID,
		ClientSecret: s.cfg.ClientSecret,
		TokenURL:     s.oauthConfig(tenant, nil).Endpoint.TokenURL,
		Scopes:       []string{appOnlyScope},
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	tok, err := conf.Token(s.oauthContext(ctx))
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
		return &directory.ThrottledError{Op: "entra: " + op + " (" + detail + ")", RetryAfter: grapherr.RetryAfter(re.Response.Header.Get("Retry-After"), grapherr.DefaultRetryAfter)}
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
