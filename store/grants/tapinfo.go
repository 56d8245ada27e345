package grants

import (
	"context"
	"database/sql"
	"encoding/json"
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
	err = s.DB.NewSelect().Table("grant_credentials").Column("temporary_access_pass_sealed", "tap_expires_at").
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

// LatestGrantEvent returns the reason and time of the latest audit event with action about
// a grant (ok false when there is none).
func (s *Store) LatestGrantEvent(ctx context.Context, grantID, action string) (reason string, at time.Time, ok bool, err error) {
	var rows []struct {
		Details   string    `bun:"details"`
		CreatedAt time.Time `bun:"created_at"`
	}
	err = s.DB.NewSelect().Table("audit_events").Column("details", "created_at").
		Where("target = ? AND action = ?", grantID, action).
		OrderExpr("created_at DESC").Limit(1).Scan(ctx, &rows)
	if err != nil {
		return "", time.Time{}, false, fmt.Errorf("read the latest %s of %s: %w", action, grantID, err)
	}
	if len(rows) == 0 {
		return "", time.Time{}, false, nil
	}
	var d struct {
		Reason string `json:"reason"`
	}
	_ = json.Unmarshal([]byte(rows[0].Details), &d)
	return d.Reason, rows[0].CreatedAt.UTC(), true, nil
}
