package admin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"

	"github.com/jitaccess/jitaccess/access/domain"
	"github.com/jitaccess/jitaccess/store"
)

// StartAuthorization makes a single-use state bound to the application, the admin, the
// admin's portal session (when started there) and a PKCE code verifier, and returns the Entra sign-in and consent URL carrying it.
func (s *Service) StartAuthorization(ctx context.Context, actor domain.Actor, tenantID, applicationID, loginHint string) (string, error) {
	if len(loginHint) > 254 || strings.ContainsAny(loginHint, " \t\r\n") {
		return "", domain.FieldError("login_hint", "must be the user principal name of the admin who will consent.")
	}
	a, err := s.Application(ctx, tenantID, applicationID)
	if err != nil {
		return "", err
	}
	verifier := newCodeVerifier()
	state, err := s.deps.Store.CreateSessionOAuthState(ctx, a.ID, actor.ID, actor.SessionHash, verifier, s.deps.OAuthStateTTL)
	if err != nil {
		return "", err
	}
	s.Audit(ctx, actor, store.AuditEvent{TenantID: a.TenantID, Action: "application.authorization_started", Target: a.ID})
	return s.deps.Directory.AuthCodeURL(state, verifier, loginHint), nil
}

// newCodeVerifier is an RFC 7636 code verifier: 32 random bytes, base64url (43 characters).
func newCodeVerifier() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
