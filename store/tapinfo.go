package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// TAPExpiry returns when a grant's Temporary Access Pass ends, without unsealing it; ok is
// false when the grant has none (its application issues none, or the account was disabled).
func (s *Store) TAPExpiry(ctx context.Context, grantID string) (expiresAt time.Time, ok bool, err error) {
	var row struct {
		Sealed    sql.NullString `bun:"temporary_access_pass_sealed"`
		ExpiresAt sql.NullTime   `bun:"tap_expires_at"`
	}
	err = s.db.NewSelect().Table("grant_credentials").Column("temporary_access_pass_sealed", "tap_expires_at").
		Where("grant_id = ?", grantID).Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read the Temporary Access Pass expiry of %s: %w", grantID, err)
	}
	if !row.Sealed.Valid || row.Sealed.String == "" || !row.ExpiresAt.Valid {
		return time.Time{}, false, nil
	}
	return row.ExpiresAt.Time.UTC(), true, nil
}
