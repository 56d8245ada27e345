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

// The portal's server-side sessions and pending sign-ins. The browser holds only random
// values; the database keeps their SHA-256 (seal.HashToken), so a database reader cannot ride
// a session, and the PKCE verifier of a sign-in is sealed like the consent flow's.

// ErrTooManySignIns means too many sign-ins are under way at once (unauthenticated writes
// are bounded).
var ErrTooManySignIns = errors.New("too many sign-ins under way")

// sessionTouch limits how often a session's last_seen_at is written.
const sessionTouch = time.Minute

// Session is a signed-in browser.
type Session struct {
	IDHash       string
	TechnicianID string
	CSRFToken    string
	ExpiresAt    time.Time
}

// PortalLogin is a sign-in under way as returned by ConsumePortalLogin.
type PortalLogin struct {
	Nonce        string
	CodeVerifier string
	ReturnTo     string
}

// RandomToken is 32 random bytes, base64url: session ids, sign-in states, nonces, CSRF tokens.
func RandomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func loginVerifierAAD(stateHash string) string { return "portal_login:" + stateHash }

// CreatePortalLogin records a sign-in under way (nonce, sealed PKCE verifier, where to go
// afterwards) for ttl and returns its state. Expired sign-ins are swept first; with max or
// more still pending it refuses with ErrTooManySignIns.
func (s *Store) CreatePortalLogin(ctx context.Context, nonce, verifier, returnTo string, ttl time.Duration, max int) (string, error) {
	now := s.Clock()
	if _, err := s.DB.NewDelete().Model((*schema.PortalLogin)(nil)).Where("expires_at <= ?", now).Exec(ctx); err != nil {
		return "", fmt.Errorf("sweep sign-ins: %w", err)
	}
	if max > 0 {
		n, err := s.DB.NewSelect().Model((*schema.PortalLogin)(nil)).Count(ctx)
		if err != nil {
			return "", fmt.Errorf("count sign-ins: %w", err)
		}
		if int(n) >= max {
			return "", ErrTooManySignIns
		}
	}
	state := RandomToken()
	hash := seal.HashToken(state)
	sealed, err := s.Sealer.Seal(verifier, loginVerifierAAD(hash))
	if err != nil {
		return "", fmt.Errorf("seal code verifier: %w", err)
	}
	m := schema.PortalLogin{StateHash: hash, Nonce: nonce, CodeVerifierSealed: sealed, ReturnTo: returnTo,
		CreatedAt: now, ExpiresAt: sqlstore.DBTime(now.Add(ttl))}
	if _, err := s.DB.NewInsert().Model(&m).Exec(ctx); err != nil {
		return "", fmt.Errorf("create sign-in: %w", err)
	}
	return state, nil
}

// ConsumePortalLogin takes the sign-in of state out: it works once, before it expires.
func (s *Store) ConsumePortalLogin(ctx context.Context, state string) (PortalLogin, error) {
	hash := seal.HashToken(state)
	var m schema.PortalLogin
	res, err := s.DB.NewDelete().Model(&m).Where("state_hash = ?", hash).Returning("*").Exec(ctx)
	if err != nil {
		return PortalLogin{}, fmt.Errorf("consume sign-in: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 || m.StateHash != hash {
		return PortalLogin{}, ErrStateUnknown
	}
	if !s.Clock().Before(m.ExpiresAt) {
		return PortalLogin{}, ErrStateExpired
	}
	verifier, err := s.Sealer.Open(m.CodeVerifierSealed, loginVerifierAAD(hash))
	if err != nil {
		return PortalLogin{}, fmt.Errorf("open code verifier: %w", err)
	}
	return PortalLogin{Nonce: m.Nonce, CodeVerifier: verifier, ReturnTo: m.ReturnTo}, nil
}

// CreateSession signs a technician in for ttl and returns the cookie's value and the
// session's CSRF token.
func (s *Store) CreateSession(ctx context.Context, technicianID string, ttl time.Duration, clientIP, userAgent string) (id, csrf string, err error) {
	if err := s.SweepSessions(ctx); err != nil {
		return "", "", err
	}
	id, csrf = RandomToken(), RandomToken()
	now := s.Clock()
	m := schema.PortalSession{IDHash: seal.HashToken(id), TechnicianID: technicianID, CSRFToken: csrf, CreatedAt: now,
		LastSeenAt: now, ExpiresAt: sqlstore.DBTime(now.Add(ttl)), ClientIP: clientIP, UserAgent: userAgent}
	if _, err := s.DB.NewInsert().Model(&m).Exec(ctx); err != nil {
		return "", "", fmt.Errorf("create session: %w", err)
	}
	return id, csrf, nil
}

// Session returns the live session of the cookie value id and its (active) technician. An
// expired, idle or unknown session, or one of a deactivated person, is ErrNotFound (and the
// row is removed).
func (s *Store) Session(ctx context.Context, id string, idle time.Duration) (Session, Technician, error) {
	hash := seal.HashToken(id)
	var m schema.PortalSession
	if err := s.DB.NewSelect().Model(&m).Where("id_hash = ?", hash).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Session{}, Technician{}, sqlstore.NotFound("session", "")
		}
		return Session{}, Technician{}, fmt.Errorf("read session: %w", err)
	}
	now := s.Clock()
	t, err := s.Technician(ctx, m.TechnicianID)
	if err != nil && !errors.Is(err, sqlstore.ErrNotFound) {
		return Session{}, Technician{}, err
	}
	if err != nil || !t.Active || !now.Before(m.ExpiresAt) || now.Sub(m.LastSeenAt) > idle {
		if err := s.DeleteSession(ctx, hash); err != nil {
			return Session{}, Technician{}, err
		}
		return Session{}, Technician{}, sqlstore.NotFound("session", "")
	}
	if now.Sub(m.LastSeenAt) > sessionTouch {
		if _, err := s.DB.NewUpdate().Model((*schema.PortalSession)(nil)).Set("last_seen_at = ?", now).Where("id_hash = ?", hash).Exec(ctx); err != nil {
			return Session{}, Technician{}, fmt.Errorf("touch session: %w", err)
		}
	}
	return Session{IDHash: hash, TechnicianID: m.TechnicianID, CSRFToken: m.CSRFToken, ExpiresAt: sqlstore.UTC(m.ExpiresAt)}, t, nil
}

// DeleteSession ends a session (sign-out) by its hash.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := s.DB.NewDelete().Model((*schema.PortalSession)(nil)).Where("id_hash = ?", idHash).Exec(ctx); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// SweepSessions removes expired sessions.
func (s *Store) SweepSessions(ctx context.Context) error {
	if _, err := s.DB.NewDelete().Model((*schema.PortalSession)(nil)).Where("expires_at <= ?", s.Clock()).Exec(ctx); err != nil {
		return fmt.Errorf("sweep sessions: %w", err)
	}
	return nil
}
