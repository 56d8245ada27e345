package identity

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// Reasons an OAuth state is refused; all wrap ErrInvalidState.
var (
	ErrInvalidState = errors.New("invalid OAuth state")
	ErrStateUnknown = fmt.Errorf("the sign-in link is unknown: %w", ErrInvalidState)
	ErrStateUsed    = fmt.Errorf("the sign-in link was already used: %w", ErrInvalidState)
	ErrStateExpired = fmt.Errorf("the sign-in link expired: %w", ErrInvalidState)
)

// OAuthState is a pending admin consent as returned by ConsumeOAuthState.
type OAuthState struct {
	ApplicationID string
	AdminID       string
	// SessionHash is the hash of the portal session that started the consent; empty when it
	// was started through the API.
	SessionHash  string
	CodeVerifier string
}

func codeVerifierAAD(stateHash string) string { return "code_verifier:" + stateHash }

// CreateOAuthState starts an admin consent: it makes a random state bound to the application,
// the admin and the PKCE code verifier (sealed), valid for ttl, and returns the state. Only
// the state's hash is stored.
func (s *Store) CreateOAuthState(ctx context.Context, applicationID, adminID, codeVerifier string, ttl time.Duration) (string, error) {
	return s.CreateSessionOAuthState(ctx, applicationID, adminID, "", codeVerifier, ttl)
}

// CreateSessionOAuthState is CreateOAuthState bound to the portal session whose id hash is
// sessionHash ("" for none): the callback must come back in that session.
func (s *Store) CreateSessionOAuthState(ctx context.Context, applicationID, adminID, sessionHash, codeVerifier string, ttl time.Duration) (string, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	state := base64.RawURLEncoding.EncodeToString(b)
	hash := seal.HashToken(state)
	sealed, err := s.Sealer.Seal(codeVerifier, codeVerifierAAD(hash))
	if err != nil {
		return "", fmt.Errorf("seal code verifier: %w", err)
	}
	now := s.Clock()
	m := schema.OAuthState{StateHash: hash, ApplicationID: applicationID, AdminID: adminID, SessionHash: sessionHash, CodeVerifierSealed: sealed,
		CreatedAt: now, ExpiresAt: sqlstore.DBTime(now.Add(ttl))}
	if _, err := s.DB.NewInsert().Model(&m).Exec(ctx); err != nil {
		if sqlstore.IsForeignKeyViolation(err) {
			return "", sqlstore.NotFound("application or admin", applicationID)
		}
		return "", fmt.Errorf("create oauth state: %w", err)
	}
	// Housekeeping: states a day past expiry serve no purpose, not even for error messages.
	if _, err := s.DB.NewDelete().Model((*schema.OAuthState)(nil)).Where("expires_at < ?", sqlstore.DBTime(now.Add(-24*time.Hour))).Exec(ctx); err != nil {
		return "", fmt.Errorf("purge oauth states: %w", err)
	}
	return state, nil
}

// ConsumeOAuthState redeems a state exactly once before it expires. Unknown, reused and
// expired states are refused with a reason (errors.Is ErrInvalidState).
func (s *Store) ConsumeOAuthState(ctx context.Context, state string) (OAuthState, error) {
	if state == "" {
		return OAuthState{}, ErrStateUnknown
	}
	hash := seal.HashToken(state)
	now := s.Clock()
	// The conditional update is the single-use guarantee: of two concurrent callbacks only
	// one changes the row.
	res, err := s.DB.NewUpdate().Model((*schema.OAuthState)(nil)).
		Set("used_at = ?", now).
		Where("state_hash = ? AND used_at IS NULL AND expires_at > ?", hash, now).Exec(ctx)
	if err != nil {
		return OAuthState{}, fmt.Errorf("consume oauth state: %w", err)
	}
	var m schema.OAuthState
	if err := s.DB.NewSelect().Model(&m).Where("state_hash = ?", hash).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return OAuthState{}, ErrStateUnknown
		}
		return OAuthState{}, fmt.Errorf("read oauth state: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if !m.ExpiresAt.After(now) {
			return OAuthState{}, ErrStateExpired
		}
		return OAuthState{}, ErrStateUsed
	}
	verifier, err := s.Sealer.Open(m.CodeVerifierSealed, codeVerifierAAD(hash))
	if err != nil {
		return OAuthState{}, fmt.Errorf("open code verifier: %w", err)
	}
	return OAuthState{ApplicationID: m.ApplicationID, AdminID: m.AdminID, SessionHash: m.SessionHash, CodeVerifier: verifier}, nil
}
