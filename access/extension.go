package access

import (
	"context"
	"errors"
	"regexp"
	"time"

	"github.com/jitaccess/jitaccess/store"
)

// Browser extension sessions are API tokens of kind store.TokenKindExtension, issued for a
// one-time connect code the technician approved in the portal (PKCE S256 bound).
const (
	ExtensionCodeTTL     = 2 * time.Minute
	ExtensionSessionLife = 8 * time.Hour
)

// A PKCE S256 challenge is 43 base64url characters.
var validChallenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// ConnectExtension makes the one-time code an approved connection hands to the extension. The
// caller has checked extensionID against the configured extensions.
func (s *Service) ConnectExtension(ctx context.Context, a Actor, extensionID, challenge, method string) (string, error) {
	if method != "S256" {
		return "", FieldError("code_challenge_method", `must be "S256".`)
	}
	if !validChallenge.MatchString(challenge) {
		return "", FieldError("code_challenge", "must be a base64url SHA-256 (43 characters).")
	}
	code, err := s.deps.Store.CreateExtensionCode(ctx, a.ID, extensionID, challenge, ExtensionCodeTTL)
	if err != nil {
		return "", err
	}
	s.Audit(ctx, a, store.AuditEvent{Action: "extension.connect_approved", Target: a.ID, Details: map[string]any{"extension_id": extensionID}})
	return code, nil
}

// StartExtensionSession exchanges a connect code and its PKCE verifier for a session token
// (shown once) of the technician who approved the connection.
func (s *Service) StartExtensionSession(ctx context.Context, a Actor, code, verifier string) (store.Token, string, error) {
	got, err := s.deps.Store.ConsumeExtensionCode(ctx, code, verifier)
	if errors.Is(err, store.ErrExtensionCode) {
		return store.Token{}, "", Refuse(Invalid, "invalid_code", "The connect code is unknown, used, expired or does not match the verifier; connect again.")
	}
	if err != nil {
		return store.Token{}, "", err
	}
	holder, err := s.deps.Store.Technician(ctx, got.TechnicianID)
	if err != nil {
		return store.Token{}, "", err
	}
	if !holder.Active {
		return store.Token{}, "", Refuse(Conflict, "technician_inactive", "The member of staff is deactivated.")
	}
	tok, plain, err := s.deps.Store.CreateToken(ctx, store.NewToken{TechnicianID: holder.ID, Name: "browser extension",
		Kind: store.TokenKindExtension, ExpiresAt: time.Now().Add(ExtensionSessionLife)})
	if err != nil {
		return store.Token{}, "", err
	}
	a.Technician = holder
	s.Audit(ctx, a, store.AuditEvent{Action: "extension.session_started", Target: tok.ID,
		Details: map[string]any{"technician_id": holder.ID, "extension_id": got.ExtensionID, "expires_at": tok.ExpiresAt}})
	return tok, plain, nil
}

// EndExtensionSession revokes the extension session the request came with.
func (s *Service) EndExtensionSession(ctx context.Context, a Actor, plain string) error {
	tok, err := s.deps.Store.TokenByPlain(ctx, plain)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (tok.Kind != store.TokenKindExtension || tok.TechnicianID != a.ID)) {
		return Refuse(NotFound, "not_found", "The request was not made with an extension session.")
	}
	if err != nil {
		return err
	}
	if _, err := s.deps.Store.RevokeToken(ctx, tok.ID); err != nil {
		return err
	}
	s.Audit(ctx, a, store.AuditEvent{Action: "extension.session_ended", Target: tok.ID, Details: map[string]any{"technician_id": a.ID}})
	return nil
}
