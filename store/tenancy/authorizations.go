package tenancy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/seal"
)

func refreshTokenAAD(applicationID string) string { return "refresh_token:" + applicationID }

// SaveAuthorization stores an admin's consent: the refresh token sealed, the consenting
// account, the Entra tenant, when and by whom. The first consent pins the application to its
// Entra tenant; a consent from another tenant is *directory.TenantMismatchError (SPEC code
// tenant_mismatch) and stores nothing. Re-authorizing in the same tenant replaces the consent.
func (s *Store) SaveAuthorization(ctx context.Context, applicationID string, c directory.Consent, authorizedBy string) (Application, error) {
	sealed, err := s.Sealer.Seal(c.RefreshToken, refreshTokenAAD(applicationID))
	if err != nil {
		return Application{}, fmt.Errorf("seal refresh token: %w", err)
	}
	var out Application
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		a, err := s.readApplication(ctx, tx, applicationID)
		if err != nil {
			return err
		}
		if err := pinTenant(ctx, tx, applicationID, c.EntraTenantID); err != nil {
			return err
		}
		now := s.Clock()
		auth := schema.ApplicationAuthorization{ApplicationID: applicationID, RefreshTokenSealed: sealed, KeyID: seal.SealedKeyID(sealed),
			Account: c.Account, DisplayName: c.DisplayName, EntraTenantID: c.EntraTenantID, AuthorizedAt: now, AuthorizedBy: authorizedBy, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(&auth).
			On("CONFLICT (application_id) DO UPDATE").
			Set("refresh_token_sealed = EXCLUDED.refresh_token_sealed").
			Set("key_id = EXCLUDED.key_id").
			Set("account = EXCLUDED.account").
			Set("display_name = EXCLUDED.display_name").
			Set("entra_tenant_id = EXCLUDED.entra_tenant_id").
			Set("authorized_at = EXCLUDED.authorized_at").
			Set("authorized_by = EXCLUDED.authorized_by").
			Set("updated_at = EXCLUDED.updated_at").
			Exec(ctx); err != nil {
			return fmt.Errorf("save authorization: %w", err)
		}
		if a.Authorization != nil && a.Authorization.EntraTenantID != c.EntraTenantID {
			a.Domain, a.Roles = "", []string{}
		}
		a.Status = applicationStatus(true, a.Domain, a.Roles)
		a.UpdatedAt = now
		if _, err := tx.NewUpdate().Model((*schema.Application)(nil)).
			Set("domain = ?", nullString(a.Domain)).
			Set("roles = ?", schema.StringList(a.Roles)).
			Set("status = ?", a.Status).
			Set("updated_at = ?", now).
			Where("id = ?", applicationID).Exec(ctx); err != nil {
			return fmt.Errorf("update application status: %w", err)
		}
		a.Authorization = &Authorization{Account: c.Account, DisplayName: c.DisplayName, EntraTenantID: c.EntraTenantID, AuthorizedAt: now, AuthorizedBy: authorizedBy}
		out = a
		return nil
	})
	return out, err
}

// RefreshToken returns the Entra tenant and the unsealed refresh token of an application
// (for the Entra connector). An application never authorized is directory.ErrNotAuthorized.
func (s *Store) RefreshToken(ctx context.Context, applicationID string) (entraTenantID, refreshToken string, err error) {
	var auth schema.ApplicationAuthorization
	if err := s.DB.NewSelect().Model(&auth).Where("application_id = ?", applicationID).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", "", fmt.Errorf("application %s: %w", applicationID, directory.ErrNotAuthorized)
		}
		return "", "", fmt.Errorf("read refresh token: %w", err)
	}
	plain, err := s.Sealer.Open(auth.RefreshTokenSealed, refreshTokenAAD(applicationID))
	if err != nil {
		return "", "", fmt.Errorf("open refresh token of %s: %w", applicationID, err)
	}
	return auth.EntraTenantID, plain, nil
}

// SaveRefreshToken persists a rotated refresh token (sealed) of an authorized application.
func (s *Store) SaveRefreshToken(ctx context.Context, applicationID, refreshToken string) error {
	sealed, err := s.Sealer.Seal(refreshToken, refreshTokenAAD(applicationID))
	if err != nil {
		return fmt.Errorf("seal refresh token: %w", err)
	}
	res, err := s.DB.NewUpdate().Model((*schema.ApplicationAuthorization)(nil)).
		Set("refresh_token_sealed = ?", sealed).
		Set("key_id = ?", seal.SealedKeyID(sealed)).
		Set("updated_at = ?", s.Clock()).
		Where("application_id = ?", applicationID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("save refresh token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("application %s: %w", applicationID, directory.ErrNotAuthorized)
	}
	return nil
}
