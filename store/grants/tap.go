package grants

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
	"github.com/jitaccess/jitaccess/store/tenancy"
	"github.com/uptrace/bun"
)

// PinGrantTenant records on a grant the Entra tenant its application is pinned to (once;
// later calls return what was recorded) and returns it. Every Graph call for the grant is
// then bound to it with entra.WithTenant. An application never consented has none: "".
func (s *Store) PinGrantTenant(ctx context.Context, grantID string) (string, error) {
	var out string
	err := s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var row struct {
			Tenant sql.NullString `bun:"entra_tenant_id"`
			App    string         `bun:"application_id"`
		}
		if err := tx.NewSelect().Table("grants").Column("entra_tenant_id", "application_id").
			Where("id = ?", grantID).Scan(ctx, &row); err != nil {
			return sqlstore.NoRows(err, "grant", grantID)
		}
		if row.Tenant.String != "" {
			out = row.Tenant.String
			return nil
		}
		pinned, err := tenancy.PinnedTenant(ctx, tx, row.App)
		if err != nil || pinned == "" {
			return err
		}
		if _, err := tx.NewUpdate().Table("grants").Set("entra_tenant_id = ?", pinned).
			Where("id = ? AND entra_tenant_id IS NULL", grantID).Exec(ctx); err != nil {
			return fmt.Errorf("record the grant's Entra tenant: %w", err)
		}
		out = pinned
		return nil
	})
	return out, err
}

func tapAAD(grantID string) string { return "temporary_access_pass:" + grantID }

// SaveTAP stores a grant's Temporary Access Pass sealed (bound to the grant) beside its
// password, with its id and expiry. The credential row must exist (SaveCredential first).
func (s *Store) SaveTAP(ctx context.Context, grantID string, tap directory.TAP) error {
	sealed, err := s.Sealer.Seal(tap.Pass, tapAAD(grantID))
	if err != nil {
		return fmt.Errorf("seal temporary access pass: %w", err)
	}
	res, err := s.DB.NewUpdate().Table("grant_credentials").
		Set("temporary_access_pass_sealed = ?", sealed).
		Set("tap_id = ?", tap.ID).
		Set("tap_expires_at = ?", tap.ExpiresAt.UTC()).
		Where("grant_id = ?", grantID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("save temporary access pass: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return sqlstore.NotFound("credential", grantID)
	}
	return nil
}

// GrantTAP is a grant's Temporary Access Pass. Pass is a secret.
type GrantTAP struct {
	ID        string
	Pass      string
	ExpiresAt time.Time
}

// TAP returns a grant's unsealed Temporary Access Pass; ErrNotFound when it has none (the
// application does not issue one, or the account was disabled).
func (s *Store) TAP(ctx context.Context, grantID string) (GrantTAP, error) {
	var row struct {
		Sealed    sql.NullString `bun:"temporary_access_pass_sealed"`
		ID        sql.NullString `bun:"tap_id"`
		ExpiresAt sql.NullTime   `bun:"tap_expires_at"`
	}
	if err := s.DB.NewSelect().Table("grant_credentials").Column("temporary_access_pass_sealed", "tap_id", "tap_expires_at").
		Where("grant_id = ?", grantID).Scan(ctx, &row); err != nil {
		return GrantTAP{}, sqlstore.NoRows(err, "temporary access pass", grantID)
	}
	if !row.Sealed.Valid || row.Sealed.String == "" {
		return GrantTAP{}, sqlstore.NotFound("temporary access pass", grantID)
	}
	plain, err := s.Sealer.Open(row.Sealed.String, tapAAD(grantID))
	if err != nil {
		return GrantTAP{}, fmt.Errorf("open temporary access pass of %s: %w", grantID, err)
	}
	return GrantTAP{ID: row.ID.String, Pass: plain, ExpiresAt: row.ExpiresAt.Time.UTC()}, nil
}

// TAPID returns the id of a grant's Temporary Access Pass without unsealing it ("" when none),
// for DeleteTAP at disable.
func (s *Store) TAPID(ctx context.Context, grantID string) (string, error) {
	var id sql.NullString
	err := s.DB.NewSelect().Table("grant_credentials").Column("tap_id").Where("grant_id = ?", grantID).Scan(ctx, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read temporary access pass id: %w", err)
	}
	return id.String, nil
}
