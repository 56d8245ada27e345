package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// ErrExtensionCode is any refused extension connect code: unknown, used, expired, or a PKCE
// verifier that does not match. The caller is not told which.
var ErrExtensionCode = errors.New("invalid extension connect code")

// ExtensionCode is a consumed connect code: who approved the connection, for which extension.
type ExtensionCode struct {
	TechnicianID string
	ExtensionID  string
}

// CreateExtensionCode makes a one-time connect code bound to the technician, the extension
// and the PKCE S256 challenge, valid for ttl. Only its hash is stored.
func (s *Store) CreateExtensionCode(ctx context.Context, technicianID, extensionID, challenge string, ttl time.Duration) (string, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	code := base64.RawURLEncoding.EncodeToString(b)
	now := s.Clock()
	m := schema.ExtensionCode{CodeHash: seal.HashToken(code), TechnicianID: technicianID, ExtensionID: extensionID,
		CodeChallenge: challenge, CreatedAt: now, ExpiresAt: sqlstore.DBTime(now.Add(ttl))}
	if _, err := s.DB.NewInsert().Model(&m).Exec(ctx); err != nil {
		if sqlstore.IsForeignKeyViolation(err) {
			return "", sqlstore.NotFound("technician", technicianID)
		}
		return "", fmt.Errorf("create extension code: %w", err)
	}
	if _, err := s.DB.NewDelete().Model((*schema.ExtensionCode)(nil)).Where("expires_at < ?", sqlstore.DBTime(now.Add(-24*time.Hour))).Exec(ctx); err != nil {
		return "", fmt.Errorf("purge extension codes: %w", err)
	}
	return code, nil
}

// ConsumeExtensionCode uses a connect code once: it is spent whether or not the verifier
// matches, so a guessed verifier gets one try.
func (s *Store) ConsumeExtensionCode(ctx context.Context, code, verifier string) (ExtensionCode, error) {
	if code == "" {
		return ExtensionCode{}, ErrExtensionCode
	}
	hash := seal.HashToken(code)
	now := s.Clock()
	res, err := s.DB.NewUpdate().Model((*schema.ExtensionCode)(nil)).Set("used_at = ?", now).
		Where("code_hash = ? AND used_at IS NULL", hash).Exec(ctx)
	if err != nil {
		return ExtensionCode{}, fmt.Errorf("consume extension code: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ExtensionCode{}, ErrExtensionCode
	}
	var m schema.ExtensionCode
	if err := s.DB.NewSelect().Model(&m).Where("code_hash = ?", hash).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return ExtensionCode{}, ErrExtensionCode
		}
		return ExtensionCode{}, fmt.Errorf("read extension code: %w", err)
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	if !now.Before(m.ExpiresAt) || verifier == "" || subtle.ConstantTimeCompare([]byte(got), []byte(m.CodeChallenge)) != 1 {
		return ExtensionCode{}, ErrExtensionCode
	}
	return ExtensionCode{TechnicianID: m.TechnicianID, ExtensionID: m.ExtensionID}, nil
}
