package grants

import (
	"context"
	"fmt"

	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

func passwordAAD(grantID string) string { return "password:" + grantID }

// SaveCredential stores the managed password of a grant's account, sealed and bound to the
// grant. Saving again replaces it (a retried activity generates a new password).
func (s *Store) SaveCredential(ctx context.Context, grantID, upn, password string) error {
	sealed, err := s.Sealer.Seal(password, passwordAAD(grantID))
	if err != nil {
		return fmt.Errorf("seal password: %w", err)
	}
	m := schema.GrantCredential{GrantID: grantID, UPN: upn, PasswordSealed: sealed, KeyID: seal.SealedKeyID(sealed), CreatedAt: s.Clock()}
	if _, err := s.DB.NewInsert().Model(&m).
		On("CONFLICT (grant_id) DO UPDATE").
		Set("upn = EXCLUDED.upn").
		Set("password_sealed = EXCLUDED.password_sealed").
		Set("key_id = EXCLUDED.key_id").
		Set("created_at = EXCLUDED.created_at").
		Exec(ctx); err != nil {
		if sqlstore.IsForeignKeyViolation(err) {
			return sqlstore.NotFound("grant", grantID)
		}
		return fmt.Errorf("save credential: %w", err)
	}
	return nil
}

// Credential returns the account name and unsealed password of a grant while it is truly
// active: status active and now before expires_at, whatever else the row says. Otherwise,
// or once the account was disabled (DeleteCredential), ErrNotFound.
func (s *Store) Credential(ctx context.Context, grantID string) (upn, password string, err error) {
	var m schema.GrantCredential
	err = s.DB.NewSelect().Model(&m).Where("grant_id = ?", grantID).
		Where("grant_id IN (?)", s.DB.NewSelect().Model((*schema.Grant)(nil)).Column("id").
			Where("id = ? AND status = 'active' AND expires_at > ?", grantID, s.Clock())).
		Scan(ctx)
	if err != nil {
		return "", "", sqlstore.NoRows(err, "active credential", grantID)
	}
	if m.PasswordSealed == "" { // forgotten by DeleteCredential
		return "", "", sqlstore.NotFound("active credential", grantID)
	}
	plain, err := s.Sealer.Open(m.PasswordSealed, passwordAAD(grantID))
	if err != nil {
		return "", "", fmt.Errorf("open password of %s: %w", grantID, err)
	}
	return m.UPN, plain, nil
}

// DeleteCredential forgets a grant's password and Temporary Access Pass (idempotent). A row
// naming a pass keeps its id, and nothing secret, for DeleteTAP, which runs beside the disable
// and forgets the id with ForgetTAP; the row goes once it holds neither.
func (s *Store) DeleteCredential(ctx context.Context, grantID string) error {
	return s.eraseCredential(ctx, grantID, "delete credential", "password_sealed = ''")
}

// ForgetTAP forgets a grant's Temporary Access Pass once it is deleted from the directory;
// the row goes once it holds neither a password nor a pass id (idempotent).
func (s *Store) ForgetTAP(ctx context.Context, grantID string) error {
	return s.eraseCredential(ctx, grantID, "forget temporary access pass", "tap_id = NULL")
}

// eraseCredential clears column (and the pass, which neither the disable nor its deletion
// keeps), then deletes the row when nothing is left in it. DeleteCredential and ForgetTAP run
// concurrently: whichever deletes last has seen both erasures, so the row never stays.
func (s *Store) eraseCredential(ctx context.Context, grantID, op, column string) error {
	if _, err := s.DB.NewUpdate().Table("grant_credentials").Set(column).
		Set("temporary_access_pass_sealed = NULL").Set("tap_expires_at = NULL").
		Where("grant_id = ?", grantID).Exec(ctx); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if _, err := s.DB.NewDelete().Model((*schema.GrantCredential)(nil)).
		Where("grant_id = ? AND password_sealed = '' AND (tap_id IS NULL OR tap_id = '')", grantID).Exec(ctx); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}
