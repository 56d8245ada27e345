package identity

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

func tokenOf(m schema.APIToken) Token {
	return Token{ID: m.ID, TechnicianID: m.TechnicianID, Name: m.Name, Role: m.Role, Kind: m.Kind, CreatedAt: sqlstore.UTC(m.CreatedAt),
		LastUsedAt: sqlstore.UTC(m.LastUsedAt), ExpiresAt: sqlstore.UTC(m.ExpiresAt), RevokedAt: sqlstore.UTC(m.RevokedAt)}
}

// NewToken is what CreateToken needs: a zero ExpiresAt means no expiry, an empty Role the
// holder's role.
type NewToken struct {
	TechnicianID string
	Name         string
	Role         string
	Kind         string
	ExpiresAt    time.Time
}

// TokenKindExtension marks a browser extension session.
const TokenKindExtension = "extension"

// CreateToken issues an API token, returned in plain text once.
func (s *Store) CreateToken(ctx context.Context, n NewToken) (Token, string, error) {
	technicianID := n.TechnicianID
	plain, hash := seal.NewToken()
	m, err := insertToken(ctx, s.DB, schema.APIToken{TechnicianID: technicianID, Hash: hash, Name: strings.TrimSpace(n.Name),
		Role: n.Role, Kind: n.Kind, CreatedAt: s.Clock(), ExpiresAt: sqlstore.DBTime(n.ExpiresAt)})
	if err != nil {
		if sqlstore.IsForeignKeyViolation(err) {
			return Token{}, "", sqlstore.NotFound("technician", technicianID)
		}
		return Token{}, "", fmt.Errorf("create token: %w", err)
	}
	return tokenOf(m), plain, nil
}

// Token reads one token's record.
func (s *Store) Token(ctx context.Context, id string) (Token, error) {
	var m schema.APIToken
	if err := s.DB.NewSelect().Model(&m).Where("id = ?", id).Scan(ctx); err != nil {
		return Token{}, sqlstore.NoRows(err, "token", id)
	}
	return tokenOf(m), nil
}

// TokenByPlain reads the record of the token given in plain text (for a bearer revoking
// itself); an unknown token is ErrNotFound.
func (s *Store) TokenByPlain(ctx context.Context, plain string) (Token, error) {
	var m schema.APIToken
	if err := s.DB.NewSelect().Model(&m).Where("hash = ?", seal.HashToken(plain)).Scan(ctx); err != nil {
		return Token{}, sqlstore.NoRows(err, "token", "current")
	}
	return tokenOf(m), nil
}

// Tokens lists the tokens of one technician, or of everyone when technicianID is empty,
// newest first, revoked and expired ones included.
func (s *Store) Tokens(ctx context.Context, technicianID string) ([]Token, error) {
	var rows []schema.APIToken
	q := s.DB.NewSelect().Model(&rows).OrderExpr("created_at DESC, id DESC").Limit(1000)
	if technicianID != "" {
		q = q.Where("technician_id = ?", technicianID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	out := make([]Token, len(rows))
	for i, m := range rows {
		out[i] = tokenOf(m)
	}
	return out, nil
}

// RevokeToken ends a token now; revoking a revoked token keeps its first revocation time.
func (s *Store) RevokeToken(ctx context.Context, id string) (Token, error) {
	if _, err := s.DB.NewUpdate().Model((*schema.APIToken)(nil)).Set("revoked_at = ?", s.Clock()).
		Where("id = ? AND revoked_at IS NULL", id).Exec(ctx); err != nil {
		return Token{}, fmt.Errorf("revoke token: %w", err)
	}
	return s.Token(ctx, id)
}

// Authenticate finds the active technician (with the token's role when it narrows the
// holder's) holding a live bearer token. The token is looked
// up by its hash; the stored hash is compared again in constant time so the answer never
// depends on how much of it matched. Revoked and expired tokens and deactivated people are
// ErrUnauthenticated.
func (s *Store) Authenticate(ctx context.Context, plain string) (Technician, error) {
	if plain == "" {
		return Technician{}, ErrUnauthenticated
	}
	hash := seal.HashToken(plain)
	var tok schema.APIToken
	if err := s.DB.NewSelect().Model(&tok).Where("hash = ?", hash).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Technician{}, ErrUnauthenticated
		}
		return Technician{}, fmt.Errorf("authenticate: %w", err)
	}
	now := s.Clock()
	if subtle.ConstantTimeCompare([]byte(tok.Hash), []byte(hash)) != 1 || !tok.RevokedAt.IsZero() ||
		(!tok.ExpiresAt.IsZero() && !now.Before(tok.ExpiresAt)) {
		return Technician{}, ErrUnauthenticated
	}
	t, err := s.Technician(ctx, tok.TechnicianID)
	if err != nil {
		if errors.Is(err, sqlstore.ErrNotFound) {
			return Technician{}, ErrUnauthenticated
		}
		return Technician{}, err
	}
	if !t.Active {
		return Technician{}, ErrUnauthenticated
	}
	if tok.Role == RoleTechnician { // a narrowed token acts as a technician whoever holds it
		t.Role = RoleTechnician
	}
	if tok.LastUsedAt.IsZero() || now.Sub(tok.LastUsedAt) > tokenTouchInterval {
		if _, err := s.DB.NewUpdate().Model((*schema.APIToken)(nil)).Set("last_used_at = ?", now).Where("id = ?", tok.ID).Exec(ctx); err != nil {
			return Technician{}, fmt.Errorf("authenticate: touch token: %w", err)
		}
	}
	return t, nil
}
